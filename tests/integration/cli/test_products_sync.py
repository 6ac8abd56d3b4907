"""`osigu-widgets products sync` against the simulator over real HTTP.

The 1,000 codes, the kill and Ctrl-C, and the terminal run the command in its own process; the
checks of outcomes and windows run it through click's runner. The simulator sits behind a WSGI
layer that records every provider-product request as it arrives, so what the sync sent (and when,
with which idempotency key and token) is counted where Osigu counts it. Rate limits are scaled
down to seconds ("20 per 1 second") so windows pass quickly; the limiter runs the same code for
"50/minute".
"""

import csv
import io
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bff.cli import main
from simulator.db import db
from simulator.models import Provider, ProviderProduct

CLI = [sys.executable, "-m", "bff.cli", "products", "sync"]
PROVIDER_PRODUCTS = "/arc/v1/providers/products"
# demo-pharmacy has every medication registered and none of the labs, imaging or procedures.
NEW_FOR_PHARMACY = [f"LAB-{n:03d}" for n in range(1, 63)] + [f"IMG-{n:03d}" for n in range(1, 38)] \
    + [f"PRC-{n:03d}" for n in range(1, 46)]
ALREADY_FOR_PHARMACY = [f"MED-{n:03d}" for n in range(1, 362)]


class RequestLog:
    """WSGI middleware in front of the simulator: records each provider-product request as it arrives."""

    def __init__(self, app):
        self.app, self.entries, self.lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if not path.startswith(PROVIDER_PRODUCTS):
            return self.app(environ, start_response)
        entry = {"at": time.monotonic(), "method": environ["REQUEST_METHOD"], "path": path,
                 "key": environ.get("HTTP_IDEMPOTENCY_KEY"), "token": environ.get("HTTP_AUTHORIZATION")}
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        entry["code"] = json.loads(body)["product_code"] if body else path.rpartition("/")[2]

        def recording(status, headers, exc_info=None):
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        response = self.app(environ, recording)
        with self.lock:
            self.entries.append(entry)
        return response

    def posts(self):
        return [e for e in self.entries if e["method"] == "POST"]


@pytest.fixture
def requests_log(simulator_app):
    return RequestLog(simulator_app)


@pytest.fixture
def osigu(requests_log, serve_wsgi):
    """The simulator's URL, behind the request log."""
    return serve_wsgi(requests_log)


@pytest.fixture
def environment(osigu):
    """The BFF's environment for one tenant, demo-pharmacy, as `serve` would read it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    return clean | {"OSIGU_ENV": "local", "OSIGU_BASE_URL": osigu, "OSIGU_CLIENT_ID": "demo-pharmacy",
                    "OSIGU_CLIENT_SECRET": "demo-pharmacy-secret", "COLUMNS": "100"}


class Sync:
    """The command on a file of codes in tmp_path: run to its end, or started to be killed."""

    def __init__(self, environment, folder):
        self.environment, self.folder = environment, folder
        self.codes, self.report = folder / "codes.csv", folder / "report.csv"
        self.journal = folder / "codes.csv.journal"
        self.started = []

    def write(self, lines):
        self.codes.write_text("\n".join(lines) + "\n")

    def arguments(self, args):
        # The simulator's limit in these tests is 1000 a second: the default 50 a minute would only be slow.
        return [str(self.codes), "--report", str(self.report), "--rate", "1000 per 1 second", *args]

    def command(self, args):
        return [*CLI, *self.arguments(args)]

    def run(self, *args, input=None, env=None):
        """Run to the end in a process of its own; return (exit status, output, report rows)."""
        done = subprocess.run(self.command(args), capture_output=True, text=True, input=input, timeout=120,
                              env=self.environment | (env or {}), cwd=self.folder)
        return done.returncode, done.stdout + done.stderr, self.report_rows()

    def invoke(self, *args, input=None, env=None):
        """Run to the end in this process (click's runner), where a process of its own would add nothing."""
        done = CliRunner().invoke(main, ["products", "sync", *self.arguments(args)], input=input,
                                  env=self.environment | (env or {}))
        return done.exit_code, done.output, self.report_rows()

    def report_rows(self):
        rows = []
        if self.report.exists():
            with self.report.open() as saved:
                rows = list(csv.DictReader(saved))
        return rows

    def start(self, *args, env=None, **popen):
        process = subprocess.Popen(self.command(args), env=env or self.environment, cwd=self.folder, **popen)
        self.started.append(process)
        return process

    def journal_outcomes(self):
        if not self.journal.exists():
            return {}
        records = [json.loads(line) for line in self.journal.read_text().splitlines() if line.endswith("}")]
        return {r["product_code"]: r["outcome"] for r in records if "outcome" in r}


@pytest.fixture
def sync(environment, tmp_path):
    runs = Sync(environment, tmp_path)
    yield runs
    for process in runs.started:
        if process.poll() is None:
            process.kill()
        process.wait()


def registered(simulator_app, slug):
    """The codes registered for a provider now, read from the simulator's database."""
    with simulator_app.app_context():
        return set(db.session.scalars(db.select(ProviderProduct.product_code).join(Provider).where(
            Provider.slug == slug, ProviderProduct.removed_at.is_(None))))


def busiest_window(entries, period):
    """The most requests that arrived within any `period` seconds."""
    times = sorted(e["at"] for e in entries)
    return max((sum(1 for t in times[i:] if t < start + period) for i, start in enumerate(times)), default=0)


def outcomes(rows):
    counts = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    return counts


@pytest.fixture
def simulator_config():
    return {"PROVIDER_PRODUCTS_RATE_LIMIT": "1000 per 1 second"}  # out of the way unless a test says otherwise


# The simulator's own limit far above what it can serve, and a burst of 429s injected at the start.
@pytest.mark.parametrize("simulator_config", [{
    "PROVIDER_PRODUCTS_RATE_LIMIT": "1000 per 1 second",
    "FAULTS": [{"path_prefix": PROVIDER_PRODUCTS, "methods": ["POST"], "rate_limit_rate": 1, "retry_after": 1,
                "times": 12}],
}])
def test_a_thousand_codes_end_with_the_right_counts_and_every_429_resent(sync, requests_log, simulator_app):
    unknown = [f"ZZZ-{n:04d}" for n in range(400)]
    malformed = ["MED 001", "LAB-0000000000000000001", "MED/001", "-LAB-001", "IMG-001?"] * 10
    rows = ["sku;product_code;name", *(f"{n};{code};x" for n, code in enumerate(
        NEW_FOR_PHARMACY + ALREADY_FOR_PHARMACY + unknown + malformed + NEW_FOR_PHARMACY[:45]))]
    rows.insert(200, "")  # a blank line, tolerated
    sync.write(rows)
    status, output, report = sync.run("--rate", "1000 per 1 second")

    assert status == 1, output  # unknown codes and malformed rows are failures
    assert outcomes(report) == {"registered": 144, "already_registered": 361, "unknown": 400, "malformed": 50}
    assert registered(simulator_app, "farmacia-demo") >= set(NEW_FOR_PHARMACY)
    first_bad = next(row for row in report if row["outcome"] == "malformed")
    assert (first_bad["line"], first_bad["product_code"], first_bad["message"]) == (
        "908", "MED 001", "whitespace inside the code")  # header, 905 codes and a blank line above it
    assert "45 duplicates ignored" in output and "12 answers of 429" in output
    # In a pipe, progress is plain lines (no terminal codes) from the start to the end.
    assert "Registering: 0/905 (0%)" in output and "Registering: 905/905 (100%)" in output
    assert "\x1b[" not in output
    posts = requests_log.posts()
    limited = [e for e in posts if e["status"] == 429]
    assert len(limited) == 12
    for refused in limited:  # each was sent again, with the same key, and got a real answer
        again = [e for e in posts if e["code"] == refused["code"] and e["at"] > refused["at"]]
        assert again and {e["key"] for e in again} == {refused["key"]}
        assert again[-1]["status"] in (201, 409, 404)
    assert len(posts) == 144 + 361 + 400 + 12  # no malformed row and no duplicate was sent


@pytest.mark.parametrize("simulator_config", [{"PROVIDER_PRODUCTS_RATE_LIMIT": "20 per 1 second"}])
def test_the_limiter_keeps_every_window_within_the_rate_and_meets_no_429(sync, environment, requests_log,
                                                                          simulator_app):
    # The default credentials (demo-hospital) would find everything registered: the host app's are used.
    host_apps = [{"id": "pharmacy-north", "api_key": "pharmacy-north-api-key", "origins": ["https://north.example"],
                  "osigu_client_id": "demo-pharmacy", "osigu_client_secret": "demo-pharmacy-secret"}]
    sync.write(NEW_FOR_PHARMACY[:60])
    status, output, report = sync.invoke("--rate", "20 per 1 second", "--host-app", "pharmacy-north", env={
        "OSIGU_CLIENT_ID": "demo-hospital", "OSIGU_CLIENT_SECRET": "demo-hospital-secret",
        "BFF_HOST_APPS": json.dumps(host_apps)})

    assert status == 0, output
    assert outcomes(report) == {"registered": 60}
    assert registered(simulator_app, "farmacia-demo") >= set(NEW_FOR_PHARMACY[:60])
    assert busiest_window(requests_log.entries, 1.0) <= 20
    assert {e["status"] for e in requests_log.entries} == {201}


@pytest.mark.parametrize("simulator_config", [{"PROVIDER_PRODUCTS_RATE_LIMIT": "10 per 1 second"}])
def test_a_rate_above_the_limit_meets_429s_waits_them_out_and_ends_right(sync, requests_log, simulator_app):
    sync.write(NEW_FOR_PHARMACY[:25])
    status, output, report = sync.invoke("--rate", "25 per 1 second")

    assert status == 0, output
    assert outcomes(report) == {"registered": 25}
    posts = requests_log.posts()
    limited = [e for e in posts if e["status"] == 429]
    assert limited and f"{len(limited)} answers of 429" in output
    assert sorted(e["code"] for e in posts if e["status"] == 201) == sorted(NEW_FOR_PHARMACY[:25])
    assert registered(simulator_app, "farmacia-demo") >= set(NEW_FOR_PHARMACY[:25])


def test_killed_mid_run_it_resumes_without_resending_what_succeeded(sync, requests_log, eventually):
    codes = NEW_FOR_PHARMACY[:60] + ALREADY_FOR_PHARMACY[:20]
    sync.write(["product_code", *codes])
    process = sync.start("--rate", "20 per 1 second", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    eventually(lambda: len(sync.journal_outcomes()) >= 15, timeout=30)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first_token = requests_log.posts()[0]["token"]  # each process fetches its own token: it tells the runs apart
    done_before = {code for code, outcome in sync.journal_outcomes().items()
                   if outcome in ("registered", "already_registered")}
    assert 15 <= len(done_before) < len(codes)

    status, output, report = sync.run("--resume", "--rate", "200 per 1 second")

    assert status == 0, output
    assert outcomes(report) == {"registered": 60, "already_registered": 20}
    resumed = [e for e in requests_log.posts() if e["token"] != first_token]
    assert resumed and not {e["code"] for e in resumed} & done_before
    assert {r["product_code"] for r in report if r["message"] == "done by an earlier run"} == done_before
    for code in codes:  # a code sent by both runs went with one idempotency key: to Osigu, one request
        assert len({e["key"] for e in requests_log.posts() if e["code"] == code}) == 1
    assert sorted(e["code"] for e in requests_log.posts() if e["status"] == 201) == sorted(NEW_FOR_PHARMACY[:60])


def test_ctrl_c_lets_the_requests_in_flight_end_records_them_and_says_how_to_resume(sync, eventually):
    sync.write(NEW_FOR_PHARMACY[:40])
    process = sync.start("--rate", "10 per 1 second", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    eventually(lambda: len(sync.journal_outcomes()) >= 3, timeout=30)
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=30)[0]

    assert process.returncode == 130, output
    assert "Interrupted: run the same command with --resume to continue." in output and "Traceback" not in output
    journal = [json.loads(line) for line in sync.journal.read_text().splitlines()]
    sent = {r["product_code"] for r in journal if "key" in r}
    assert sent == set(sync.journal_outcomes())  # nothing left in flight without its answer recorded
    assert {r["product_code"] for r in sync.report_rows()} == sent and len(sent) < 40


def test_progress_on_a_terminal_is_a_live_bar_with_rate_and_eta(sync, environment):
    sync.write(NEW_FOR_PHARMACY[:20])
    controller, terminal = pty.openpty()
    process = sync.start("--rate", "40 per 1 second", stdout=terminal, stderr=terminal,
                         env=environment | {"TERM": "xterm-256color"})
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        screen += chunk
    os.close(controller)
    assert process.wait() == 0
    screen = screen.decode()
    assert "\x1b[" in screen and "━" in screen and "/min" in screen and "ETA" in screen
    assert "20/20" in screen and "Registering: " not in screen


def keep_only(simulator_app, slug, codes):
    """Arrange a provider whose registrations are exactly codes (the others removed, as a DELETE would)."""
    with simulator_app.app_context():
        for registration in db.session.scalars(db.select(ProviderProduct).join(Provider).where(
                Provider.slug == slug, ProviderProduct.removed_at.is_(None))):
            if registration.product_code not in codes:
                registration.removed_at = datetime.now(UTC)
        db.session.commit()


def test_a_dry_run_checks_file_and_catalogue_and_changes_nothing(sync, requests_log, simulator_app):
    keep_only(simulator_app, "farmacia-demo", {"MED-001", "MED-002", "MED-003"})
    sync.write(["product_code", "MED-001", "LAB-001", "ZZZ-404", "MED-001"])
    status, output, report = sync.invoke("--dry-run", "--prune")

    assert status == 1, output  # ZZZ-404 is not in Osigu's catalogue
    assert {(r["product_code"], r["outcome"]) for r in report} == {
        ("MED-001", "already_registered"), ("LAB-001", "would_register"), ("ZZZ-404", "unknown"),
        ("MED-002", "would_remove"), ("MED-003", "would_remove")}
    assert {e["method"] for e in requests_log.entries} == {"GET"}
    assert registered(simulator_app, "farmacia-demo") == {"MED-001", "MED-002", "MED-003"}


def test_prune_asks_first_then_removes_only_what_the_file_does_not_name(sync, requests_log, simulator_app):
    keep_only(simulator_app, "farmacia-demo", {"MED-001", "MED-002", "MED-003"})
    sync.write(["MED-001", "LAB-001"])
    status, output, _ = sync.invoke("--prune", input="n\n")
    assert status == 0, output
    assert "Remove these 2 products" in output and "Nothing removed." in output
    assert registered(simulator_app, "farmacia-demo") == {"MED-001", "MED-002", "MED-003", "LAB-001"}

    status, output, report = sync.invoke("--prune", "--yes")
    assert status == 0, output
    assert {(r["product_code"], r["outcome"]) for r in report} == {
        ("MED-001", "already_registered"), ("LAB-001", "already_registered"),
        ("MED-002", "removed"), ("MED-003", "removed")}
    assert sorted(e["path"] for e in requests_log.entries if e["method"] == "DELETE") == [
        f"{PROVIDER_PRODUCTS}/MED-002", f"{PROVIDER_PRODUCTS}/MED-003"]
    assert registered(simulator_app, "farmacia-demo") == {"MED-001", "LAB-001"}


def test_refused_credentials_stop_the_run_before_any_code_is_sent(sync, requests_log):
    sync.write(["MED-001"])
    status, output, _ = sync.invoke(env={"OSIGU_CLIENT_SECRET": "wrong"})
    assert status == 1 and "Osigu refused the BFF's credentials" in output and "Traceback" not in output
    assert requests_log.entries == []
