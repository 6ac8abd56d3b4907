"""What the BFF puts on the wire for embed.js and static/, and that nothing else may be stored by a cache."""

import gzip
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
import requests

ROOT = Path(__file__).parents[3]
CHANNEL = "0123456789abcdef0123456789abcdef"
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}


def fetch(url, accept_encoding="br, gzip, deflate", **headers):
    """GET url as a browser would; return the response and its body as it crossed the wire (not decoded)."""
    response = requests.get(url, headers={"Accept-Encoding": accept_encoding} | headers, stream=True, timeout=10)
    return response, response.raw.read(decode_content=False)


@pytest.mark.parametrize(("accepted", "sent"), [("br, gzip, deflate", "br"), ("gzip, deflate", "gzip"),
                                                 ("identity", None)])
def test_embed_js_goes_out_minified_and_compressed_as_the_client_accepts(bff_url, accepted, sent):
    response, wire = fetch(f"{bff_url}/embed.js", accepted)
    assert response.status_code == 200 and response.headers.get("Content-Encoding") == sent
    script = DECODE[sent](wire)
    assert b"OsiguWidgets" in script and len(script) < len((ROOT / "embed.js").read_bytes())  # minified
    assert int(response.headers["Content-Length"]) == len(wire)
    if sent:
        assert len(wire) < len(script)
    _, plain = fetch(f"{bff_url}/embed.js", "identity")
    assert script == plain  # one representation, three encodings


def test_embed_js_keeps_its_url_with_a_short_cache_revalidated_by_etag(bff_url):
    response, _ = fetch(f"{bff_url}/embed.js")
    cache_control = response.headers["Cache-Control"]
    assert "public" in cache_control and "max-age=300" in cache_control and "immutable" not in cache_control
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    again, body = fetch(f"{bff_url}/embed.js", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and body == b""
    other_encoding, _ = fetch(f"{bff_url}/embed.js", "gzip", **{"If-None-Match": response.headers["ETag"]})
    assert other_encoding.status_code == 200  # a brotli ETag does not vouch for the gzip bytes


def test_the_shell_links_content_hashed_assets_that_are_cached_for_a_year(bff_url):
    page = requests.get(f"{bff_url}/widgets/prescription/?origin=http://127.0.0.1:9001&channel={CHANNEL}",
                        timeout=10)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(urls) == 3  # widget.css, htmx, widget.js
    for url in urls:
        response, wire = fetch(bff_url + url)
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        digest = re.search(r"\.([0-9a-f]{16})\.(?:js|css)$", url).group(1)
        assert hashlib.sha256(brotli.decompress(wire)).hexdigest().startswith(digest)


def test_a_static_file_by_its_plain_name_is_revalidated_not_kept(bff_url):
    response, wire = fetch(f"{bff_url}/static/widget.js", "gzip")
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert "max-age=300" in response.headers["Cache-Control"] and "immutable" not in response.headers["Cache-Control"]
    assert len(gzip.decompress(wire)) < len((ROOT / "static" / "widget.js").read_bytes())


@pytest.mark.parametrize("path", ["/static/nope.js", "/static/%2e%2e/bff/config.py", "/static/vendor",
                                  "/static/widget.0123456789abcdef.js"])
def test_anything_but_a_shipped_file_is_404_and_not_stored(bff_url, path):
    response, _ = fetch(bff_url + path)
    assert response.status_code == 404 and response.headers["Cache-Control"] == "no-store"


def test_widget_pages_and_fragments_with_patient_data_are_no_store(bff_url, new_session):
    shell = requests.get(f"{bff_url}/widgets/prescription/?origin=http://127.0.0.1:9001&channel={CHANNEL}",
                         timeout=10)
    headers = {"HX-Request": "true", "X-Osigu-Session": new_session(), "X-Osigu-Origin": "http://127.0.0.1:9001"}
    found = requests.get(f"{bff_url}/widgets/prescription/patient/search", headers=headers, timeout=10,
                         params={"document_type": "CC", "document_number": "1000000001"})
    assert "Ana López" in found.text
    refused = requests.get(f"{bff_url}/widgets/prescription/resume", timeout=10,
                           headers=headers | {"X-Osigu-Session": "forged"})
    assert (shell.status_code, found.status_code, refused.status_code) == (200, 200, 401)
    for response in (shell, found, refused):
        assert response.headers["Cache-Control"] == "no-store"


def test_a_proxied_prescription_pdf_is_no_store(host):
    body = {"patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]}
    issued = host.post("/v1/osigu/ehr/v1/prescriptions", json=body).json()
    prescription = host.get(f"/v1/osigu/ehr/v1/prescriptions/{issued['prescription_id']}").json()
    link = urlsplit(prescription["download_url"])
    pdf = host.get(f"/v1/osigu{link.path}?{link.query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"  # the simulator said max-age=0; the BFF says more


def test_json_health_and_errors_are_no_store(bff_url, host):
    for response in (requests.get(f"{bff_url}/healthz", timeout=10), requests.get(f"{bff_url}/nowhere", timeout=10),
                     host.get("/v1/osigu/medical-catalogs/v1/diagnoses", params={"query": "cephalgia"})):
        assert response.headers["Cache-Control"] == "no-store"


def test_widget_fragments_are_compressed_per_response_and_still_no_store(bff_url, new_session):
    headers = {"HX-Request": "true", "X-Osigu-Session": new_session(), "X-Osigu-Origin": "http://127.0.0.1:9001"}
    url = f"{bff_url}/widgets/prescription/diagnoses/search?q=ce"
    response, wire = fetch(url, "br, gzip", **headers)
    _, plain = fetch(url, "identity", **headers)
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(wire) == plain and len(wire) < len(plain) / 2
    assert "Accept-Encoding" in response.headers["Vary"] and response.headers["Cache-Control"] == "no-store"
