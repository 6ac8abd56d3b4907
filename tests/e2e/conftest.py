"""A real Chromium driven by Playwright: Debian's build, since Playwright cannot download its own here."""

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


@pytest.fixture
def console_errors():
    """Errors the page (or its frames) logged; a test removes the ones it expects, any other fails it."""
    return []


@pytest.fixture
def page(browser, console_errors):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    yield page
    context.close()
    assert console_errors == [], f"the page logged errors (a CSP violation shows here too): {console_errors}"


@pytest.fixture
def stack(simulator_url, serve_wsgi, tmp_path, eventually):
    """A host page on http://localhost, the BFF on http://127.0.0.1 (two origins), the simulator behind it."""
    import itertools
    import json
    from pathlib import Path

    import requests
    from flask import Blueprint, Flask, g, render_template_string

    import bff
    from bff import sessions
    from widgets import register_start, require_page_origin

    pages = Path(__file__).parent / "pages"
    host = Flask("host-under-test")
    host_url = serve_wsgi(host).replace("127.0.0.1", "localhost")
    api_key = "e2e-host-api-key-0123456789"
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps([{"id": "e2e-host", "api_key": api_key, "origins": [host_url]}])},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
        "OUTBOX_WORKER": False,
    })

    # Until the dispensing widget lands, a stand-in first step exercises the shell, the bridge and the session.
    probe = Blueprint("probe", __name__)
    renders = itertools.count(1)

    @probe.get("/widgets/dispensing/probe-start")
    @sessions.require_widget_session("dispensing")
    def start():
        require_page_origin()
        return render_template_string(
            '<section data-osigu-step="probe"><p>Hola {{ name }}</p><p>Render {{ number }}</p>'
            '<button hx-get="/widgets/dispensing/probe-start" hx-target="#widget">Reload</button></section>',
            name=g.widget_session.user["name"], number=next(renders))

    app.register_blueprint(probe)
    register_start(app, "dispensing", "probe.start")
    bff_url = serve_wsgi(app)

    @host.get("/page/<name>")
    def page(name):
        return render_template_string((pages / f"{name}.html").read_text(), bff=bff_url)

    @host.post("/token")
    def token():
        response = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10,
                                 headers={"Authorization": f"Bearer {api_key}"},
                                 json={"widget": "dispensing", "origin": host_url, "locale": "es",
                                       "user": {"id": "ph-1", "name": "Farm. Gil", "role": "pharmacist"}})
        return response.json(), response.status_code

    class Stack:
        pass

    stack = Stack()
    stack.host_url, stack.bff_url, stack.bff_app, stack.eventually = host_url, bff_url, app, eventually
    stack.other_origin_url = host_url.replace("localhost", "127.0.0.1")  # same server, unregistered origin
    yield stack
    from bff import outbox

    outbox.stop_worker(app)
