"""benchmarks/fault_runs.py still runs and reports (one flow of each: a smoke test, not a measurement)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "fault_runs.py"


def test_the_fault_runs_benchmark_reports_both_runs_and_both_kills():
    result = subprocess.run([sys.executable, str(SCRIPT), "--flows", "1"], capture_output=True, text=True,
                            timeout=300, check=True)
    rows = [line for line in result.stdout.splitlines() if line.startswith(("| prescriptions |", "| dispensations |"))]
    assert len(rows) == 2
    for row in rows:  # flows, successes, stuck, BFF 5xx, duplicates, lost
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert (cells[1], cells[7], cells[8], cells[9], cells[10], cells[11]) == ("1", "1", "0", "0", "**0**", "**0**")
    assert "| mid-issue (POST /ehr/v1/prescriptions in flight) | -9 | **1** | yes | yes |" in result.stdout
    assert "| mid-complete (POST …/complete in flight) | -9 | **1** | yes | yes |" in result.stdout
