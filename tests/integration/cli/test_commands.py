"""The osigu-widgets command line, run as a user would, in its own process."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

CLI = [sys.executable, "-m", "bff.cli"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process, needle, timeout=30):
    """Read the process's output until a line contains needle; return everything read."""
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return "".join(lines)
    raise AssertionError(f"never printed {needle!r}; got {''.join(lines)!r}")


@pytest.fixture
def run(tmp_path):
    processes = []

    def start(*args):
        process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=tmp_path, start_new_session=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()


def test_simulator_command_serves_the_api(run):
    port = free_port()
    process = run("simulator", "--port", str(port), "--db", ":memory:")
    output = wait_for_line(process, "sandbox outbox")
    assert f"http://127.0.0.1:{port}" in output
    token = requests.post(f"http://127.0.0.1:{port}/v1/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("demo-pharmacy", "demo-pharmacy-secret"), timeout=10)
    assert token.status_code == 200 and token.json()["provider_slug"] == "farmacia-demo"
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).headers["Server"] == "osigu-simulator"


def test_simulator_refuses_a_webhook_url_without_a_secret(run):
    process = run("simulator", "--port", str(free_port()), "--db", ":memory:", "--webhook-url", "http://x/")
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 2
    assert "SIM_WEBHOOK_SECRET" in output and "Traceback" not in output


def test_demo_prints_where_to_go_and_stops_its_children_on_sigterm(run):
    port = free_port()
    process = run("demo", "--simulator-port", str(port))
    output = wait_for_line(process, "Ctrl+C")
    assert f"http://127.0.0.1:{port}" in output
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_the_bff_command_line_does_not_import_the_simulator():
    code = "import sys, bff.cli; bff.cli.main.list_commands(None); print('simulator' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_simulator_refuses_a_malformed_fault_rule(run):
    process = run("simulator", "--port", str(free_port()), "--db", ":memory:", "--fault", '{"path_prefix": "arc"}')
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 2
    assert "not a valid fault rule" in output and "Traceback" not in output
