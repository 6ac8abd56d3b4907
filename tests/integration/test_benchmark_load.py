"""The load benchmark still runs (tiny sizes: it is a smoke test, not a measurement)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "load.py"


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_the_load_benchmark_reports_throughput_errors_cpu_and_each_step_per_user_count():
    result = subprocess.run([sys.executable, str(SCRIPT), "--users", "2,4", "--flows", "1", "--requests", "16",
                             "--workers", "1", "--threads", "4"],
                            capture_output=True, text=True, timeout=300, check=True)
    lines = result.stdout.splitlines()
    header = next(cells(line) for line in lines if line.startswith("| users | doctors + pharmacists |"))
    assert header[2:7] == ["flows finished", "seconds", "flows/s", "errors", "told to retry"]
    assert {"simulator CPU %", "BFF CPU %", "driver CPU %", "machine CPU %"} <= set(header)
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in map(cells, lines)
            if row[0] in ("2", "4") and len(row) == len(header)}
    assert rows["2"]["doctors + pharmacists"] == "1 + 1" and rows["4"]["doctors + pharmacists"] == "2 + 2"
    for users, row in rows.items():
        # Every flow either finished or was counted as an error: none is lost from the report.
        assert int(row["flows finished"]) + int(row["errors"]) == int(users)
        assert int(row["told to retry"]) >= 0 and float(row["flows/s"]) > 0

    steps_header = next(cells(line) for line in lines if line.startswith("| widget | step |"))
    assert steps_header[2:] == ["2 users p50", "2 users p99", "4 users p50", "4 users p99"]
    for step in ("| prescription | session |", "| prescription | issue (at Osigu) |", "| dispensing | session |",
                 "| dispensing | open the code (start at Osigu) |",
                 "| dispensing | complete (products, complete at Osigu) |"):
        assert any(line.startswith(step) for line in lines), step
    assert any(line.startswith("| straight to the simulator |") for line in lines)
    assert any(line.startswith("| through the BFF proxy (`/v1/osigu/...`) |") for line in lines)
    assert any(line.startswith("| **BFF overhead** |") for line in lines)
    assert "Load average before" in result.stdout and "Load average after" in result.stdout
