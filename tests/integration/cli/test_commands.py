"""The osigu-widgets command line, run as a user would, in its own process."""

import json
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

    def start(*args, env=None):
        process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=tmp_path, start_new_session=True,
                                   env=None if env is None else os.environ | env)
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


@pytest.fixture
def demo_env(tmp_path):
    """Keep the demo's data (by default in the simulator's and the BFF's instance folders) to the test."""
    return {"SIM_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'simulator.sqlite3'}",
            "BFF_DATABASE_URL": f"sqlite:///{tmp_path / 'bff.sqlite3'}"}


def test_demo_refuses_a_port_in_use_instead_of_answering_with_another_demos_servers(run, demo_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run("demo", "--simulator-port", str(free_port()), "--bff-port", str(port),
                      "--host-port", str(free_port()), "--ehr-port", str(free_port()), env=demo_env)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 1 and "Traceback" not in output and "Open http" not in output
    assert f"Port {port} is in use (another demo still running?): stop it, or pass --bff-port" in output


def test_demo_prints_where_to_go_and_stops_its_children_on_sigterm(run, demo_env):
    simulator_port, bff_port, host_port, ehr_port = free_port(), free_port(), free_port(), free_port()
    process = run("demo", "--simulator-port", str(simulator_port), "--bff-port", str(bff_port),
                  "--host-port", str(host_port), "--ehr-port", str(ehr_port), "--allow-origin", "http://localhost:3000",
                  "--allow-origin", "https://his.example.com", env=demo_env)
    output = wait_for_line(process, "Ctrl+C")
    urls = [f"http://127.0.0.1:{simulator_port}", f"http://127.0.0.1:{bff_port}", f"http://127.0.0.1:{host_port}"]
    assert f"Open http://localhost:{host_port}" in output and all(url in output for url in urls[:2])
    # The BFF is wired to the simulator with the demo's credentials: it is ready.
    assert requests.get(f"{urls[1]}/readyz", timeout=10).json()["status"] == "ready"
    # The example host app loads embed.js from the BFF, and its back end gets sessions for all three markets.
    host = f"http://localhost:{host_port}"
    assert f'src="{urls[1]}/embed.js"' in requests.get(host, timeout=10).text
    for market in ("v1", "v1.1", "v2"):
        session = requests.post(f"{host}/widget-session", json={"market": market, "locale": "en", "patient": "ana"},
                                timeout=10)
        assert session.status_code == 201 and session.json()["widget"] == "prescription"
    # Pages on the origins given with --allow-origin may embed the widgets with the demo host apps' keys.
    for origin in ("http://localhost:3000", "https://his.example.com"):
        session = requests.post(f"{urls[1]}/v1/widget-sessions", timeout=10,
                                headers={"Authorization": "Bearer demo-his-api-key"},
                                json={"widget": "prescription", "origin": origin,
                                      "user": {"id": "dr-1", "name": "Dr. One", "role": "doctor"}})
        assert session.status_code == 201, session.text
    assert requests.get(f"{urls[1]}/v1/origins/check", params={"origin": "http://localhost:3001"},
                        timeout=10).json() == {"registered": False}
    # The example EHR launches the widgets from the BFF it was told of (SMART on FHIR).
    ehr = f"http://localhost:{ehr_port}"
    assert f"Or open {ehr}" in output
    launch = requests.get(f"{ehr}/launch/prescription", allow_redirects=False, timeout=10)
    assert launch.headers["Location"].startswith(f"{urls[1]}/smart/prescription/launch?")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    for url in [*urls, f"http://127.0.0.1:{ehr_port}"]:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/healthz", timeout=2)


def test_demo_refuses_an_allowed_origin_that_is_not_an_origin(run):
    process = run("demo", "--allow-origin", "http://localhost:3000/page")
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 2 and "is not an origin" in output and "Traceback" not in output


def test_the_bff_command_line_does_not_import_the_simulator():
    code = "import sys, bff.cli; bff.cli.main.list_commands(None); print('simulator' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_simulator_refuses_a_malformed_fault_rule(run):
    process = run("simulator", "--port", str(free_port()), "--db", ":memory:", "--fault", '{"path_prefix": "arc"}')
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 2
    assert "not a valid fault rule" in output and "Traceback" not in output


def test_serve_refuses_a_bad_configuration_clearly(run):
    process = run("serve", "--port", str(free_port()), env={"OSIGU_ENV": "sandbox", "BFF_SECRET_KEY": ""})
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 1
    assert "BFF_SECRET_KEY is required" in output and "Traceback" not in output


def test_serve_runs_the_bff_on_waitress_with_json_logs(run, tmp_path):
    port = free_port()
    process = run("serve", "--port", str(port), env={"OSIGU_ENV": "local", "BFF_DATABASE_URL":
                                                      f"sqlite:///{tmp_path / 'bff.sqlite3'}"})
    wait_for_line(process, "BFF listening")
    response = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "cli-test-1"}, timeout=10)
    assert response.json() == {"status": "ok"} and response.headers["Server"] == "osigu-widgets-bff"
    line = json.loads(wait_for_line(process, "cli-test-1").splitlines()[-1])
    assert line | {"path": "/healthz", "status": 200, "request_id": "cli-test-1"} == line


WEBHOOK_SECRET = "whsec_" + "c2FuZGJveC13ZWJob29rLXNlY3JldC0xMjM0NTY3OA=="
PRESCRIPTION = {"patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
                "medications": [{"product_code": "MED-001", "quantity": 10, "posology": "1 every 8 h"}]}


def issue_prescription(simulator_url):
    """Issue a prescription as demo-clinic, straight against the simulator: it sends prescription.issued."""
    token = requests.post(f"{simulator_url}/v1/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("demo-clinic", "demo-clinic-secret"), timeout=10).json()["access_token"]
    response = requests.post(f"{simulator_url}/ehr/v1/prescriptions", json=PRESCRIPTION, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return response.json()["prescription_code"]


def deliveries(simulator_url):
    return requests.get(f"{simulator_url}/sandbox/v1/webhook-deliveries", timeout=10).json()["data"]


def stop_like_ctrl_c(process):
    """Send SIGINT to the whole process group, as a terminal's Ctrl+C does, and wait for it to end."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)


@pytest.fixture
def webhook_receiver(serve_wsgi):
    """A real HTTP endpoint that records the type of every webhook it gets; returns (url, received types)."""
    received = []

    def receive(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        received.append(json.loads(environ["wsgi.input"].read(length))["type"])
        start_response("204 No Content", [])
        return [b""]

    return serve_wsgi(receive), received


def test_simulator_restarts_on_its_database_after_webhooks_and_keeps_their_history(run, tmp_path, serve_wsgi,
                                                                                   webhook_receiver, eventually):
    first_url, first_received = webhook_receiver
    port, database = free_port(), str(tmp_path / "simulator.sqlite3")
    simulator_url = f"http://127.0.0.1:{port}"

    def start(webhook_url):
        process = run("simulator", "--port", str(port), "--db", database, "--webhook-url", webhook_url,
                      "--webhook-secret", WEBHOOK_SECRET)
        wait_for_line(process, "sandbox outbox")
        return process

    process = start(f"{first_url}/hooks")
    issue_prescription(simulator_url)
    eventually(lambda: [d["status"] for d in deliveries(simulator_url)] == ["DELIVERED"])
    assert first_received == ["prescription.issued"]
    stop_like_ctrl_c(process)

    # Same settings, twice: it comes up every time, and the history is there.
    for _ in range(2):
        process = start(f"{first_url}/hooks")
        assert [d["status"] for d in deliveries(simulator_url)] == ["DELIVERED"]
        stop_like_ctrl_c(process)

    # Another URL: new webhooks go there, the old ones still say where they went.
    second_received = []
    second_url = serve_wsgi(lambda environ, start_response: (
        second_received.append(environ["PATH_INFO"]), start_response("204 No Content", []), [b""])[-1])
    process = start(f"{second_url}/other")
    issue_prescription(simulator_url)
    eventually(lambda: second_received == ["/other"])

    def two_delivered():  # the receiver may hear the webhook before the simulator records it delivered
        delivered = [d for d in deliveries(simulator_url) if d["status"] == "DELIVERED"]
        return delivered[:2] if len(delivered) >= 2 else None

    newest, oldest = eventually(two_delivered)
    assert (newest["url"], oldest["url"]) == (f"{second_url}/other", f"{first_url}/hooks")
    assert len(first_received) == 1


def test_demo_starts_again_after_a_prescription_was_issued(run, demo_env):
    simulator_port, bff_port, host_port = free_port(), free_port(), free_port()
    simulator_url = f"http://127.0.0.1:{simulator_port}"

    def start_demo():
        process = run("demo", "--simulator-port", str(simulator_port), "--bff-port", str(bff_port),
                      "--host-port", str(host_port), env=demo_env)
        wait_for_line(process, "Ctrl+C")
        return process

    process = start_demo()
    code = issue_prescription(simulator_url)
    assert [d["payload"]["data"]["prescription_code"] for d in deliveries(simulator_url)] == [code]
    stop_like_ctrl_c(process)

    process = start_demo()
    assert requests.get(f"http://127.0.0.1:{bff_port}/readyz", timeout=10).json()["status"] == "ready"
    assert [d["payload"]["data"]["prescription_code"] for d in deliveries(simulator_url)] == [code]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_serve_refuses_the_demo_defaults_against_a_real_osigu(run):
    # No OSIGU_ENV (so local, with the public demo credentials) but a real Osigu: refused, in one line.
    process = run("serve", "--port", str(free_port()), env={"OSIGU_ENV": "", "OSIGU_BASE_URL": "https://api.osigu.com"})
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 1 and "Traceback" not in output
    assert output.strip().splitlines() == ["Error: OSIGU_BASE_URL points at api.osigu.com, but OSIGU_ENV is local "
                                           "(the default), which is only for the simulator on this machine and uses "
                                           "public demo credentials: set OSIGU_ENV=sandbox or production."]


def worker_pids(server):
    """The processes the server forked (Linux /proc)."""
    with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
        return [int(pid) for pid in children.read().split()]


def is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_with_workers_runs_processes_that_each_answer_and_stop_on_sigterm(run, tmp_path, eventually):
    port = free_port()
    server = run("serve", "--port", str(port), "--workers", "2", "--threads", "2",
                 env={"OSIGU_ENV": "local", "BFF_SECRET_KEY": "", "BFF_DATABASE_URL":
                      f"sqlite:///{tmp_path / 'bff.sqlite3'}"})
    wait_for_line(server, "2 worker processes")
    base = f"http://127.0.0.1:{port}"
    workers = eventually(lambda: len(pids := worker_pids(server)) == 2 and pids, timeout=30)
    assert server.pid not in workers and len(set(workers)) == 2
    session = requests.post(f"{base}/v1/widget-sessions", headers={"Authorization": "Bearer demo-his-api-key"},
                            json={"widget": "prescription", "origin": "http://127.0.0.1:8090",
                                  "user": {"id": "dr-1", "name": "Dr. One", "role": "doctor"}}, timeout=30)
    assert session.status_code == 201, session.text
    widget_headers = {"HX-Request": "true", "X-Osigu-Origin": "http://127.0.0.1:8090",
                      "X-Osigu-Session": session.json()["token"], "Connection": "close"}
    # Freeze one worker at a time: the other alone answers, and knows the session the first may have issued
    # (one database, and one session key even though local mode makes it up at start-up).
    for frozen in workers:
        os.kill(frozen, signal.SIGSTOP)
        try:
            for _ in range(3):
                assert requests.get(f"{base}/healthz", headers={"Connection": "close"}, timeout=30).status_code == 200
                step = requests.get(f"{base}/widgets/prescription/diagnoses", headers=widget_headers, timeout=30)
                assert step.status_code == 200, step.text
        finally:
            os.kill(frozen, signal.SIGCONT)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert not any(is_alive(pid) for pid in workers)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
