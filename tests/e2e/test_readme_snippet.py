"""The README's embed snippet, verbatim, on a page of a new origin allowed as `demo --allow-origin` allows it."""

import json
import re
from pathlib import Path

import pytest
import requests
from flask import Flask, request

pytestmark = pytest.mark.e2e
README = Path(__file__).parents[2] / "README.md"
README_BFF = "https://bff.his.example.com"  # the BFF URL the snippet names; the only thing put in its place


def readme_snippet():
    section = README.read_text().split("## Embed a widget", 1)[1]
    return re.search(r"```html\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def integrator(simulator_url, serve_wsgi, tmp_path):
    """A new integrator's page on its own origin, and the demo's BFF with that origin allowed."""
    import bff
    from bff import outbox
    from bff.config import DEMO_API_KEYS, demo_host_apps

    page_app = Flask("integrator")
    page_url = serve_wsgi(page_app).replace("127.0.0.1", "localhost")
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps(demo_host_apps(extra_origins=[page_url]))},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}", "OUTBOX_WORKER": False,
    })
    bff_url = serve_wsgi(app)

    @page_app.get("/")
    def page():
        """The snippet as written, after what the page defines for its callbacks."""
        helpers = ('<link rel="icon" href="data:,">'
                   "<script>window.seen = [];"
                   "function saveToChart(code) { window.seen.push(['chart', code]); }"
                   "function closeDialog() { window.seen.push(['closed']); }"
                   "function showError(message) { window.seen.push(['error', message]); }</script>")
        return helpers + readme_snippet().replace(README_BFF, bff_url)

    @page_app.post("/osigu-session")
    def osigu_session():
        """The README's back-end snippet: the API key stays here."""
        token = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10,
                              headers={"Authorization": f"Bearer {DEMO_API_KEYS['v1']}"},
                              json={"widget": "prescription", "origin": request.host_url.rstrip("/"), "locale": "es",
                                    "user": {"id": "dr-1", "name": "Dra. Una", "role": "doctor"},
                                    "context": {"patient": {"document_type": "CC",
                                                            "document_number": "1000000001"}}}).json()["token"]
        return {"token": token}

    yield page_url
    outbox.stop_worker(app)


def test_the_readme_snippet_works_verbatim_from_an_allowed_new_origin(page, integrator):
    assert README_BFF in readme_snippet() and "onError" in readme_snippet()
    page.goto(integrator)
    frame = page.frame_locator("#rx iframe")
    frame.get_by_role("heading", name="Diagnósticos", exact=True).wait_for()
    frame.get_by_text("Ana López").first.wait_for()
    assert page.evaluate("() => window.seen") == []


def test_the_readme_snippet_reports_an_origin_that_is_not_allowed(page, integrator, console_errors):
    page.goto(integrator.replace("localhost", "127.0.0.1"))  # the same page on an origin nobody registered
    page.wait_for_function("() => window.seen.length > 0", timeout=5000)
    [(kind, message)] = page.evaluate("() => window.seen")
    assert kind == "error" and "is not registered" in message
    assert any("--allow-origin" in text for text in console_errors)
    console_errors.clear()
