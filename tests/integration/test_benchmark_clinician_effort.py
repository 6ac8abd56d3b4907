"""The clinician-effort benchmark still drives the demo in Chromium and reports every column (scenario A alone: a
smoke test, not a measurement)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "clinician_effort.py"
COUNTS = ("screens", "clicks", "typed", "special", "keystrokes", "focus-only Tabs", "scans", "requests")


def test_scenario_a_is_counted_in_every_column():
    result = subprocess.run([sys.executable, str(SCRIPT), "--only", "A"], capture_output=True, text=True,
                            timeout=300, check=True)
    header, rule, row = result.stdout.splitlines()[:3]
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert columns == ["scenario", "screens", "clicks", "typed", "special", "keystrokes", "focus-only Tabs", "scans",
                       "requests", "seconds", "goal", "met"]
    values = dict(zip(columns, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
    assert values["scenario"].startswith("A:") and values["met"] in ("yes", "**no**")
    assert all(values[name].isdigit() for name in COUNTS)
    for name in ("screens", "typed", "special", "keystrokes", "requests"):
        assert int(values[name]) > 0, name
    assert int(values["keystrokes"]) == int(values["typed"]) + int(values["special"])
    assert float(values["seconds"]) > 0
    assert "diagnoses → medications → review → done" in result.stdout
