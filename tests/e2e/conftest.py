"""A real Chromium driven by Playwright: Debian's build, since Playwright cannot download its own here."""

import json
import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# Not the machine's zone (UTC), so a time shown unconverted or unlabelled would show.
BROWSER_TIMEZONE = "America/Bogota"


@pytest.fixture
def console_errors():
    """Errors the page or any of its frames logged; a test removes the ones it expects, any other fails it."""
    return []


def _record_error(console_errors, message):
    """Keep every console error (a widget answers a form to fix with a 200, so the browser logs nothing)."""
    if message.type == "error":
        console_errors.append(message.text)


@pytest.fixture
def page(request, browser, console_errors):
    if "his" in request.fixturenames:
        # The HIS set up first is stopped last: its page (which polls it) closes before its servers go,
        # or a refused poll would show as a console error at teardown.
        request.getfixturevalue("his")
    context = browser.new_context(locale="en-US", timezone_id=BROWSER_TIMEZONE)
    page = context.new_page()
    # Chromium runs the cross-origin widget frame in its own process; Playwright reports its console here too
    # (test_the_console_check_sees_inside_the_widget_frame proves it).
    page.on("console", lambda message: _record_error(console_errors, message))
    yield page
    context.close()
    assert console_errors == [], f"the page logged errors (a CSP violation shows here too): {console_errors}"


@pytest.fixture
def bff_config():
    """Settings a test gives the BFF (parametrize it), e.g. {"SESSION_TTL_SECONDS": 3}."""
    return {}


BIOMETRIC_FORM = """<section data-osigu-step="probe-biometric"><h2 data-osigu-heading tabindex="-1">Verify</h2>
<form data-osigu-biometric data-osigu-biometric-max-bytes="200000"
      hx-post="/widgets/preauth/probe-biometric" hx-target="#widget">
  <input type="hidden" name="modality" value="FINGERPRINT">
  <input type="hidden" name="reading">
  <button type="button" data-osigu-biometric-host hidden>Use the reader</button>
  <button type="button" data-osigu-biometric-camera>Take a photo</button>
  <video data-osigu-biometric-video hidden></video>
  <label>Or an image <input type="file" accept="image/jpeg,image/png" data-osigu-biometric-file></label>
  <p data-osigu-biometric-error role="alert" data-too-large="Too large" data-no-camera="No camera"
     data-host-failed="The reader failed"></p>
</form></section>"""


@pytest.fixture
def stack(simulator_url, serve_wsgi, tmp_path, eventually, bff_config):
    """A host page on http://localhost, the BFF on http://127.0.0.1 (two origins), the simulator behind it."""
    import itertools
    import json
    from pathlib import Path

    import requests
    from flask import Blueprint, Flask, g, render_template_string, request

    import bff
    from widgets.session import protect

    pages = Path(__file__).parent / "pages"
    host = Flask("host-under-test")
    host_url = serve_wsgi(host).replace("127.0.0.1", "localhost")
    api_key = "e2e-host-api-key-0123456789"
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps([{"id": "e2e-host", "api_key": api_key, "origins": [host_url]}])},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
        "OUTBOX_WORKER": False,
    } | bff_config)

    # A stand-in first step exercises the shell, the bridge and the session apart from any widget's own steps.
    probe = Blueprint("probe", __name__)
    protect(probe, "preauth")
    renders = itertools.count(1)

    @probe.get("/widgets/preauth/probe-start")
    def start():
        return render_template_string(
            '<section data-osigu-step="probe"><p>Hola {{ name }}</p><p>Render {{ number }}</p>'
            '<button hx-get="/widgets/preauth/probe-start" hx-target="#widget">Reload</button>'
            '<button hx-get="/widgets/preauth/probe-biometric" hx-target="#widget">Verify</button></section>',
            name=g.widget_session.user["name"], number=next(renders))

    # The verification component's biometric form (its DOM contract), and an answer that says what arrived.
    @probe.get("/widgets/preauth/probe-biometric")
    def biometric_form():
        return render_template_string(BIOMETRIC_FORM)

    @probe.post("/widgets/preauth/probe-biometric")
    def biometric_reading():
        import base64

        request.max_content_length = 512 * 1024  # a reading is larger than a step's form (the kit's limit)
        reading = base64.b64decode(request.form["reading"], validate=True)
        return render_template_string('<section data-osigu-step="probe-read"><p>Read {{ modality }}, {{ size }} bytes, '
                                      '{{ kind }}</p></section>', modality=request.form["modality"], size=len(reading),
                                      kind="JPEG" if reading.startswith(b"\xff\xd8") else "other")

    app.register_blueprint(probe)
    # The probe takes the pre-authorization widget's place in this app, whether that widget has landed or not
    # (register_start refuses a second start, rightly for real widgets).
    app.extensions["widgets.start"]["preauth"] = "probe.start"
    bff_url = serve_wsgi(app)
    session = {}  # what a test wants of the next session beyond the probe's (widget, locale, context, user)

    @host.get("/page/<name>")
    def page(name):
        return render_template_string((pages / f"{name}.html").read_text(), bff=bff_url)

    @host.post("/token")
    def token():
        response = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10,
                                 headers={"Authorization": f"Bearer {api_key}"},
                                 json={"widget": "preauth", "origin": host_url, "locale": "es",
                                       "user": {"id": "ph-1", "name": "Farm. Gil", "role": "pharmacist"}} | session)
        return response.json(), response.status_code

    class Stack:
        pass

    stack = Stack()
    stack.host_url, stack.bff_url, stack.bff_app, stack.eventually = host_url, bff_url, app, eventually
    stack.session = session
    stack.other_origin_url = host_url.replace("localhost", "127.0.0.1")  # same server, unregistered origin
    yield stack
    from bff import outbox

    outbox.stop_worker(app)


@pytest.fixture
def his(simulator_url, serve_wsgi, tmp_path, bff_config):
    """The example HIS on http://localhost, the BFF (configured as the demo configures it) on http://127.0.0.1."""
    import bff
    from bff import outbox
    from bff.config import DEMO_API_KEYS, DEMO_CALLBACK_SECRET, demo_host_apps
    from examples.his import create_app

    host = create_app({"API_KEYS": DEMO_API_KEYS, "CALLBACK_SECRET": DEMO_CALLBACK_SECRET})
    host_url = serve_wsgi(host).replace("127.0.0.1", "localhost")
    port = int(host_url.rsplit(":", 1)[1])
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps(demo_host_apps(port))},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
        "OUTBOX_INTERVAL_SECONDS": 0.05,
    } | bff_config)
    bff_url = serve_wsgi(app)
    host.config["BFF_URL"] = bff_url

    class His:
        url, bff, bff_app = host_url, bff_url, app

    yield His
    outbox.stop_worker(app)
