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


def test_the_weight_benchmark_reports_every_asset():
    script = Path(__file__).parents[2] / "benchmarks" / "widget_weight.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True)
    for asset in ("embed.js", "static/widget.js", "static/widget.css", "static/vendor/htmx-2.0.11.min.js"):
        assert f"`{asset}`" in result.stdout


def test_the_ready_benchmark_mounts_the_widget_in_chromium():
    script = Path(__file__).parents[2] / "benchmarks" / "widget_ready.py"
    result = subprocess.run([sys.executable, str(script), "--runs", "2"], capture_output=True, text=True,
                            timeout=300, check=True)
    assert "| diagnoses (patient looked up in Osigu) | cold |" in result.stdout
    assert "| patient (no lookup) | warm |" in result.stdout and "`static/vendor/htmx-2.0.11.min.js`" in result.stdout


def test_the_schemathesis_benchmark_reports_a_clean_run():
    script = Path(__file__).parents[2] / "benchmarks" / "schemathesis_simulator.py"
    result = subprocess.run([sys.executable, str(script), "--examples", "1", "--seeds", "3"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| 3 |" in result.stdout and "| 0 | 0 |" in result.stdout
