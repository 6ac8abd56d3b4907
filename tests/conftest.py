"""Fixtures shared by every test: a seeded simulator, served over a real socket."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.serving import make_server

import simulator
from simulator import background
from simulator.db import db

# Fast and quiet defaults for tests; a test that needs a real clock passes its own.
SIMULATOR_TEST_CONFIG = {
    "SECRET_KEY": "test-secret",
    "BACKGROUND_WORKER": False,
    "BIOMETRIC_DECISION_SECONDS": 0,
    "WEBHOOK_BACKOFF_SECONDS": 0.05,
    "BACKGROUND_INTERVAL_SECONDS": 0.05,
}


@pytest.fixture
def eventually():
    """Wait (bounded) until check() returns something truthy, for state another thread records."""

    def wait(check, timeout=10, interval=0.02):
        deadline = time.monotonic() + timeout
        while not (result := check()):
            if time.monotonic() > deadline:
                raise AssertionError(f"still not true after {timeout} s")
            time.sleep(interval)
        return result

    return wait


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on a free loopback port (scripts/test installs it); yields its URL."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.fail("PostgreSQL is not installed: run ./scripts/test, or apt-get install postgresql")
    bin_dir = binaries[-1]
    data_dir = tempfile.mkdtemp(prefix="osigu-pg-")
    # PostgreSQL refuses to run as root: as root, run it as the postgres user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data_dir, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run([*as_user, f"{bin_dir}/initdb", "-D", data_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    options = f"-p {port} -h 127.0.0.1 -k {data_dir} -c fsync=off"
    subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data_dir, "-o", options, "-w", "start",
                    "-l", f"{data_dir}/server.log"], check=True, capture_output=True)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data_dir, "-m", "immediate", "-w", "stop"],
                   capture_output=True)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh, empty database on the throwaway server; returns its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    plain_url = postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(plain_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory):
    """Seed one database per run; each test gets its own copy, so seeding happens once."""
    path = tmp_path_factory.mktemp("seed") / "simulator.sqlite3"
    app = simulator.create_app(SIMULATOR_TEST_CONFIG | {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path


@pytest.fixture
def simulator_config():
    """Override in a test module to change the simulator's settings."""
    return {}


@pytest.fixture
def simulator_app(seeded_database, tmp_path, simulator_config):
    """A simulator app with its own freshly seeded database."""
    path = tmp_path / "simulator.sqlite3"
    shutil.copy(seeded_database, path)
    app = simulator.create_app(
        SIMULATOR_TEST_CONFIG | {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"} | simulator_config
    )
    yield app
    background.stop(app)
    with app.app_context():
        db.engine.dispose()


def serve(app):
    """Serve a WSGI app on a free loopback port in a thread; return (base URL, stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the next poll, and tests start and stop many servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def serve_wsgi():
    """Serve WSGI apps on free loopback ports for the test's duration; each call returns a base URL."""
    stops = []

    def start(app):
        url, stop = serve(app)
        stops.append(stop)
        return url

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def simulator_url(simulator_app, serve_wsgi):
    """The base URL of the simulator, listening on a real socket."""
    return serve_wsgi(simulator_app)


@pytest.fixture(scope="session")
def simulator_openapi():
    """The simulator's published OpenAPI document, ready to validate traffic against."""
    return OpenAPI.from_dict(simulator.load_openapi())


class ApiSession(requests.Session):
    """A requests session bound to a base URL, as one OAuth client of the simulator.

    Every response to a documented path is checked against the OpenAPI document, so a test
    that passes also proves the document says what the server does.
    """

    def __init__(self, base_url, openapi):
        super().__init__()
        self.base_url = base_url
        self.openapi = openapi
        self.hooks["response"].append(self._check_against_openapi)

    def _check_against_openapi(self, response, *args, **kwargs):
        if response.headers.get("Osigu-Simulator-Fault") == "injected":
            return  # an injected fault stands for failing infrastructure, not for the operation's contract
        try:
            self.openapi.validate_response(RequestsOpenAPIRequest(response.request),
                                           RequestsOpenAPIResponse(response))
        except (PathNotFound, OperationNotFound):
            pass  # an undocumented path or method (a 404 or 405 test) has nothing to be checked against

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.base_url + url, *args, **kwargs)

    def login(self, client_id, scope=None):
        """Get a token through the real token endpoint and send it on every request."""
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        response = self.post("/v1/oauth/token", data=data, auth=(client_id, f"{client_id}-secret"))
        assert response.status_code == 200, response.text
        self.token = response.json()
        self.headers["Authorization"] = f"Bearer {self.token['access_token']}"
        return self


@pytest.fixture
def api(simulator_url, simulator_openapi):
    """Make sessions: api() anonymous, api("demo-clinic") logged in as that demo client."""

    def make(client_id=None, scope=None):
        session = ApiSession(simulator_url, simulator_openapi)
        return session.login(client_id, scope) if client_id else session

    return make


@pytest.fixture
def clinic(api):
    return api("demo-clinic")


@pytest.fixture
def pharmacy(api):
    return api("demo-pharmacy")


@pytest.fixture
def hospital(api):
    return api("demo-hospital")
