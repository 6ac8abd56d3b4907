"""Health, readiness, security headers, logs; and no secret in anything a browser can read."""

import json
import logging

import pytest
import requests

from bff.security import widget_page_policy


def test_healthz(bff_url):
    assert requests.get(f"{bff_url}/healthz", timeout=10).json() == {"status": "ok"}


def test_readyz_checks_database_and_upstream(bff_url):
    response = requests.get(f"{bff_url}/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "upstream": "ok"}}


def test_readyz_is_503_when_osigu_is_unreachable(make_bff, serve_wsgi, host_apps):
    app = make_bff(OSIGU_BASE_URL="http://127.0.0.1:9")
    response = requests.get(f"{serve_wsgi(app)}/readyz", timeout=30)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "upstream": "failing: UpstreamError"}


def test_every_response_carries_the_security_headers(bff_url):
    for response in (requests.get(f"{bff_url}/healthz", timeout=10),
                     requests.post(f"{bff_url}/v1/widget-sessions", timeout=10),
                     requests.get(f"{bff_url}/nowhere", timeout=10)):
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.headers["X-Request-Id"]


def test_a_widget_page_policy_allows_only_the_host_origins_and_a_nonce(bff_app):
    with bff_app.test_request_context():
        policy = widget_page_policy(("http://127.0.0.1:9001",))
    assert "frame-ancestors http://127.0.0.1:9001" in policy
    assert "'nonce-" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(bff_url):
    kept = requests.get(f"{bff_url}/healthz", headers={"X-Request-Id": "his-req-42"}, timeout=10)
    assert kept.headers["X-Request-Id"] == "his-req-42"
    replaced = requests.get(f"{bff_url}/healthz", headers={"X-Request-Id": "<script>"}, timeout=10)
    assert replaced.headers["X-Request-Id"] != "<script>"


@pytest.fixture
def secrets_of(bff_app, host_apps):
    """Every secret the BFF holds, including the live upstream token."""
    from bff import host_apps as tenants

    def collect():
        with bff_app.app_context():
            tokens = [tenants.upstream_for(app).access_token() for app in bff_app.config["HOST_APPS"]]
        values = [bff_app.config["OSIGU_CLIENT_SECRET"], bff_app.config["OSIGU_WEBHOOK_SECRET"],
                  bff_app.config["SECRET_KEY"], *tokens]
        for app in host_apps:
            values += [app["api_key"], app.get("callback_secret"), app.get("osigu_client_secret")]
        return [value for value in values if value]

    return collect


def test_no_secret_in_any_response_a_browser_can_see_nor_in_the_logs(host, bff_url, new_session, secrets_of,
                                                                    caplog):
    caplog.set_level(logging.INFO)  # the level `osigu-widgets serve` logs at
    seen = [
        host.post("/v1/widget-sessions", json={"widget": "preauth", "origin": "http://127.0.0.1:9001",
                                               "user": {"id": "u", "name": "n", "role": "r"}}),
        host.post("/v1/widget-sessions", json={"widget": "preauth", "origin": "http://evil.example"}),
        host.get("/v1/osigu/medical-catalogs/v1/medications", params={"query": "paracetamol"}),
        host.get("/v1/osigu/ehr/v1/patients", params={"document_number": "1000000001"}),
        host.get("/v1/osigu/ehr/v1/prescriptions/rx_nothing"),
        host.post("/v1/osigu/v1/oauth/token", data={"grant_type": "client_credentials"}),
        host.get("/v1/osigu/arc/v1/products", headers={"Authorization": "Bearer wrong-key-0123456789"}),
        requests.post(f"{bff_url}/v1/webhooks/osigu", data="{}", timeout=10),
        requests.get(f"{bff_url}/readyz", timeout=10),
        requests.get(f"{bff_url}/healthz", timeout=10),
    ]
    everything = "".join(r.text + json.dumps(dict(r.headers)) for r in seen)
    # The simulator and the test servers log in this process too; only the BFF's side is under test.
    bff_side = ("bff", "urllib3", "requests", "authlib.integrations", "waitress")
    logs = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records
                     if record.name.startswith(bff_side))
    assert "bff.access" in logs
    for secret in secrets_of():
        assert secret not in everything, "a secret reached a response"
        assert secret not in logs, "a secret reached the logs"
    assert "1000000001" not in logs  # the document number in a query string never reaches the logs
