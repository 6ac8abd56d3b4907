"""An upstream 200 that is not Osigu's JSON (an HTML page, `{}`, cut-off JSON) is a retryable error, never a 500."""

import pytest
import requests
from flask import Flask, Response

from bff import ownership
from bff.db import db

BODIES = {
    "html": ("<html><body>Gateway login</body></html>", "text/html; charset=utf-8"),
    "empty object": ("{}", "application/json"),
    "cut-off json": ('{"data": [{"product_code": "MED-0', "application/json"),
}


@pytest.fixture(params=BODIES)
def fake_osigu(request, serve_wsgi):
    """An 'Osigu' that hands out tokens, then answers every call 200 with one kind of broken body."""
    body, content_type = BODIES[request.param]
    app = Flask("fake-osigu")

    @app.post("/v1/oauth/token")
    def token():
        return {"access_token": "fake-token", "token_type": "Bearer", "expires_in": 3600}

    @app.get("/<path:path>")
    def anything(path):
        if path.endswith("/pdf"):
            return Response(b"%PDF-1.7 not json", content_type="application/pdf")
        return Response(body, content_type=content_type)

    return serve_wsgi(app)


@pytest.fixture
def broken_bff_url(make_bff, serve_wsgi, fake_osigu):
    app = make_bff(OSIGU_BASE_URL=fake_osigu)
    with app.app_context():  # his-a made rx_1 through the proxy, so it may fetch its PDF
        ownership.bind_to_host_app("his-a", "prescription", "rx_1")
        db.session.commit()
    return serve_wsgi(app)


def test_the_proxy_answers_a_retryable_502(broken_bff_url):
    answer = requests.get(f"{broken_bff_url}/v1/osigu/medical-catalogs/v1/medications", params={"query": "para"},
                          headers={"Authorization": "Bearer his-a-api-key-0123456789"}, timeout=10)
    assert answer.status_code == 502
    assert answer.json()["error_code"] == "BFF-UPSTREAM-BODY" and answer.json()["retryable"] is True


def test_the_proxy_streams_files_untouched(broken_bff_url):
    answer = requests.get(f"{broken_bff_url}/v1/osigu/ehr/v1/prescriptions/rx_1/pdf",
                          headers={"Authorization": "Bearer his-a-api-key-0123456789"}, timeout=10)
    assert answer.status_code == 200 and answer.content == b"%PDF-1.7 not json"


@pytest.mark.parametrize("search", ["/medications/search", "/diagnoses/search"])
def test_the_widget_says_osigu_is_not_answering(broken_bff_url, new_session, search):
    token = new_session(locale="en")
    answer = requests.get(f"{broken_bff_url}/widgets/prescription{search}", params={"q": "paracetamol"},
                          headers={"HX-Request": "true", "X-Osigu-Session": token,
                                   "X-Osigu-Origin": "http://127.0.0.1:9001"}, timeout=10)
    assert answer.status_code == 200 and "Osigu is not answering right now" in answer.text
    assert "BFF-UPSTREAM-BODY" in answer.text
