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


def test_the_weight_benchmark_reports_what_chromium_received_and_every_asset():
    script = Path(__file__).parents[2] / "benchmarks" / "widget_weight.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=True)
    for row in ("| host page | `/embed.js` | 200 | br |", "| widget page, cold |", "| widget page, warm |",
                "| `POST /medications/add` | br |"):
        assert row in result.stdout
    for asset in ("embed.js", "static/widget.js", "static/widget.css", "static/vendor/htmx-2.0.11.min.js"):
        assert f"`{asset}`" in result.stdout


def test_the_ready_benchmark_mounts_the_widget_in_chromium():
    script = Path(__file__).parents[2] / "benchmarks" / "widget_ready.py"
    result = subprocess.run([sys.executable, str(script), "--runs", "2"], capture_output=True, text=True,
                            timeout=300, check=True)
    assert "| prescription | diagnoses (patient looked up in Osigu) | cold |" in result.stdout
    assert "| prescription | patient (no lookup) | warm |" in result.stdout
    assert "| dispensing | code (typed at the counter) | cold |" in result.stdout
    assert "| dispensing | products (the host's code: dispensation started at Osigu) | warm |" in result.stdout


def test_the_steps_benchmark_times_each_step_of_both_widgets_in_one_run():
    script = Path(__file__).parents[2] / "benchmarks" / "dispensing_steps.py"
    result = subprocess.run([sys.executable, str(script), "--flows", "1"], capture_output=True, text=True,
                            timeout=300, check=True)
    for row in ("| issue (at Osigu) |", "| open the code (start at Osigu) |", "| GS1 pack scanned |",
                "| complete (products, complete at Osigu) |", "| OTP (validated, complete at Osigu) |"):
        assert row in result.stdout
    assert result.stdout.count("| **whole flow** |") == 3


def test_the_callback_benchmark_runs_the_previous_and_the_current_outbox():
    script = Path(__file__).parents[2] / "benchmarks" / "callback_delivery.py"
    result = subprocess.run([sys.executable, str(script), "--callbacks", "8", "--host-apps", "2", "--work-ms", "0"],
                            capture_output=True, text=True, timeout=300, check=True)
    rows = {line.split(" | ")[0]: line.rstrip(" |").split(" | ")[-1] for line in result.stdout.splitlines()
            if line.startswith(("| previous", "| current"))}
    # Connections opened: one per callback before, one per host app now.
    assert rows == {"| previous: one worker, in order, a new connection each": "8",
                    "| current: a stream per host app, pooled connections": "2"}


def test_the_products_sync_benchmark_runs_both_clients_at_both_latencies():
    script = Path(__file__).parents[2] / "benchmarks" / "products_sync.py"
    result = subprocess.run([sys.executable, str(script), "--codes", "10", "--scale", "60"], capture_output=True,
                            text=True, timeout=300, check=True)
    for latency in ("300 ms", "2000 ms"):
        assert f"| {latency} | naive sequential loop |" in result.stdout
        assert f"| {latency} | products sync (8 concurrent) |" in result.stdout


def test_the_storage_benchmark_measures_each_size_and_the_purge():
    script = Path(__file__).parents[2] / "benchmarks" / "storage_growth.py"
    result = subprocess.run([sys.executable, str(script), "--flows", "0,300", "--requests", "8"],
                            capture_output=True, text=True, timeout=300, check=True)
    assert "| 0 |" in result.stdout and "| 300 |" in result.stdout
    assert "Purged what is older than 30 days: 300 widget sessions, 600 callbacks, 300 webhooks" in result.stdout


def test_the_cost_benchmark_runs_the_previous_and_the_current_bff_side_by_side():
    script = Path(__file__).parents[2] / "benchmarks" / "bff_cost.py"
    result = subprocess.run([sys.executable, str(script), "--calls", "8", "--flows", "1", "--concurrent-flows", "4",
                             "--limited-seconds", "2"], capture_output=True, text=True, timeout=600, check=True)
    for row in ("| previous |", "| current |", "| 10 |", "| 50 |"):
        assert result.stdout.count(row) >= 1, result.stdout
    assert result.stdout.count("| previous |") == result.stdout.count("| current |") == 2


def test_the_schemathesis_benchmark_reports_a_clean_run():
    script = Path(__file__).parents[2] / "benchmarks" / "schemathesis_simulator.py"
    result = subprocess.run([sys.executable, str(script), "--examples", "1", "--seeds", "3"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| 3 |" in result.stdout and "| 0 | 0 |" in result.stdout
