"""The benchmark harness still runs (tiny sizes: it is a smoke test, not a measurement)."""

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "bff_proxy.py"


def test_the_proxy_benchmark_runs_and_reports_both_sides():
    result = subprocess.run([sys.executable, str(BENCHMARK), "--requests", "16", "--callers", "5"],
                            capture_output=True, text=True, timeout=300, check=True)
    assert "| 1 |" in result.stdout and "| 20 |" in result.stdout
    assert "| BFF client (single flight) | 1 |" in result.stdout
    assert "plain Authlib OAuth2Session" in result.stdout
