"""The widget shell and the SDK as the BFF serves them."""

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
CHANNEL = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def client(bff_app):
    return bff_app.test_client()


def test_embed_js_is_served_cacheable_and_loadable_cross_origin(client):
    with client.get("/embed.js") as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert "max-age=300" in response.headers["Cache-Control"]
        assert b"OsiguWidgets" in response.data


def test_the_shell_may_be_framed_only_by_the_origin_it_names(client):
    response = client.get(f"/widgets/dispensing/?origin=http://127.0.0.1:9001&channel={CHANNEL}&locale=en")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("frame-ancestors http://127.0.0.1:9001")
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert response.data.count(f'nonce="{nonce}"'.encode()) == 2  # htmx and widget.js, nothing inline
    assert b'data-host-origin="http://127.0.0.1:9001"' in response.data and b'lang="en"' in response.data


@pytest.mark.parametrize("query", [
    f"origin=http://evil.example&channel={CHANNEL}",
    f"origin=http://127.0.0.1:9001/&channel={CHANNEL}",
    "origin=http://127.0.0.1:9001&channel=short",
])
def test_the_shell_refuses_an_unregistered_origin_or_a_bad_channel(client, query):
    response = client.get(f"/widgets/dispensing/?{query}")
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_widget_without_a_first_step_is_404(client):
    assert client.get(f"/widgets/preauth/?origin=http://127.0.0.1:9001&channel={CHANNEL}").status_code == 404
    assert client.get(f"/widgets/claims/?origin=http://127.0.0.1:9001&channel={CHANNEL}").status_code == 404


def test_the_vendored_htmx_is_the_pinned_release():
    readme = (ROOT / "static" / "vendor" / "README.md").read_text()
    pinned = re.search(r"`([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256((ROOT / "static" / "vendor" / "htmx-2.0.11.min.js").read_bytes()).hexdigest() == pinned


@pytest.mark.parametrize("locale, text", [("es", "Esta página no puede mostrar este widget."),
                                          ("en", "This page may not show this widget.")])
def test_pages_speak_the_requested_language(client, locale, text):
    response = client.get(f"/widgets/dispensing/?origin=http://evil.example&channel={CHANNEL}&locale={locale}")
    assert text in response.get_data(as_text=True)


@pytest.mark.parametrize("origin, registered", [("http://127.0.0.1:9001", True), ("http://localhost:9002", True),
                                                ("http://evil.example", False), ("", False)])
def test_any_page_may_ask_whether_its_origin_is_registered(bff_url, origin, registered):
    import requests

    response = requests.get(f"{bff_url}/v1/origins/check", params={"origin": origin}, timeout=10,
                            headers={"Origin": "http://evil.example"})
    assert response.status_code == 200 and response.json() == {"registered": registered}
    # embed.js reads it from the page's own origin; it names no host app and lists nothing, so it may be cached.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=60"
