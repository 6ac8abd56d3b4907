"""The upstream client against the live simulator: tokens, 401s, retries, idempotency."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, request

from bff.upstream import UpstreamClient, UpstreamError
from simulator.db import db
from simulator.models import OAuthToken

SEARCH = "/medical-catalogs/v1/diagnoses"


@pytest.fixture
def client(simulator_url):
    return UpstreamClient(simulator_url, "demo-hospital", "demo-hospital-secret")


@pytest.fixture
def set_faults(api):
    def put(*rules):
        response = api().put("/sandbox/v1/faults", json={"rules": list(rules)})
        assert response.status_code == 200, response.text
        return api

    return put


def faults_left(api):
    return api().get("/sandbox/v1/faults").json()["rules"]


def tokens_issued(simulator_app, client_id):
    with simulator_app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(OAuthToken).filter_by(client_id=client_id))


def test_fifty_concurrent_calls_make_one_token_request(client, simulator_app):
    before = tokens_issued(simulator_app, "demo-hospital")
    barrier = threading.Barrier(50)

    def search(_):
        barrier.wait()
        return client.get_json(SEARCH, query="R51")

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(search, range(50)))
    assert all(result["data"][0]["diagnosis_code"] == "R51" for result in results)
    assert client.token_fetches == 1
    assert tokens_issued(simulator_app, "demo-hospital") == before + 1
    assert client.provider_slug == "hospital-demo"


def test_a_401_refetches_the_token_and_retries_once(client, simulator_app):
    client.get_json(SEARCH, query="R51")
    with simulator_app.app_context():
        db.session.execute(db.update(OAuthToken).values(access_token_revoked_at=1))  # Osigu revokes every token
        db.session.commit()
    assert client.get_json(SEARCH, query="R51")["data"]
    assert client.token_fetches == 2


@pytest.mark.parametrize("simulator_config", [{"ADMIN_ENABLED": True}])
@pytest.mark.parametrize("status", [429, 503])
def test_gets_are_retried_on_429_and_503(client, set_faults, api, status):
    rule = {"path_prefix": SEARCH, "times": 2}
    rule |= {"rate_limit_rate": 1, "retry_after": 1} if status == 429 else {"error_rate": 1, "error_status": 503}
    set_faults(rule)
    assert client.get_json(SEARCH, query="R51")["data"]
    assert faults_left(api) == []  # both failures were spent by retries, then it succeeded


@pytest.mark.parametrize("simulator_config", [{"ADMIN_ENABLED": True}])
def test_posts_are_not_retried(client, set_faults, api):
    set_faults({"path_prefix": "/ehr/v1/prescriptions", "methods": ["POST"], "error_rate": 1, "times": 2})
    with pytest.raises(UpstreamError) as failure:
        client.request("POST", "/ehr/v1/prescriptions", json={})
    assert failure.value.status == 503 and failure.value.retryable
    assert faults_left(api)[0]["times"] == 1  # exactly one attempt was made


@pytest.mark.parametrize("simulator_config", [{"ADMIN_ENABLED": True}])
def test_a_long_retry_after_goes_back_to_the_caller_at_once(client, set_faults, api):
    set_faults({"path_prefix": SEARCH, "rate_limit_rate": 1, "retry_after": 3600, "times": 2})
    with pytest.raises(UpstreamError) as failure:
        client.get_json(SEARCH, query="R51")
    assert (failure.value.status, failure.value.retryable, failure.value.retry_after) == (429, True, "3600")
    assert faults_left(api)[0]["times"] == 1  # one attempt: the thread did not wait for the hour


@pytest.mark.parametrize("simulator_config", [{"ADMIN_ENABLED": True}])
def test_retries_wait_no_longer_than_the_budget_in_all(client, set_faults, api):
    set_faults({"path_prefix": SEARCH, "rate_limit_rate": 1, "retry_after": 1, "times": 5})
    with pytest.raises(UpstreamError) as failure:
        client.get_json(SEARCH, query="R51")
    assert failure.value.status == 429
    assert faults_left(api)[0]["times"] == 2  # waited 1 s twice (the 2 s budget), then gave up


def test_state_changing_calls_carry_an_idempotency_key(client):
    body = {"patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]}
    first = client.request("POST", "/ehr/v1/prescriptions", json=body, idempotency_key="rx-click-1").json()
    double_click = client.request("POST", "/ehr/v1/prescriptions", json=body, idempotency_key="rx-click-1")
    assert double_click.json() == first and double_click.headers["Idempotent-Replayed"] == "true"
    other = client.request("POST", "/ehr/v1/prescriptions", json=body).json()
    assert other["prescription_id"] != first["prescription_id"]  # a fresh key when none is given


def slow_first_request(serve_wsgi, busy_seconds):
    """An Osigu whose first POST with a key is still running for busy_seconds: meanwhile it answers 000-409."""
    upstream, started = Flask("osigu-busy"), []

    @upstream.post("/v1/oauth/token")
    def token():
        return {"access_token": "busy", "token_type": "Bearer", "expires_in": 3600}

    @upstream.post("/ehr/v1/prescriptions")
    def prescriptions():
        started.append(started[0] if started else time.monotonic())
        if time.monotonic() - started[0] < busy_seconds:
            return {"error_code": "000-409", "message": "A request with this key is still being processed; retry."}, 409
        return {"prescription_id": "rx_1"}, 201

    return serve_wsgi(upstream)


def test_a_double_click_waits_for_the_first_request_as_long_as_it_may_run(serve_wsgi):
    client = UpstreamClient(slow_first_request(serve_wsgi, 4), "demo-hospital", "secret", timeout=(3.05, 5))
    assert client.request("POST", "/ehr/v1/prescriptions", json={}, idempotency_key="rx-click").json() == {
        "prescription_id": "rx_1"}


def test_a_double_click_hears_still_in_progress_once_the_first_request_must_have_timed_out(serve_wsgi):
    client = UpstreamClient(slow_first_request(serve_wsgi, 60), "demo-hospital", "secret", timeout=(3.05, 1))
    with pytest.raises(UpstreamError) as failure:
        client.request("POST", "/ehr/v1/prescriptions", json={}, idempotency_key="rx-click")
    assert (failure.value.status, failure.value.error_code) == (409, "000-409")


def test_a_streamed_upload_is_never_sent_again_half_read(serve_wsgi):
    upstream, received = Flask("osigu-revoking"), []

    @upstream.post("/v1/oauth/token")
    def token():
        return {"access_token": f"token-{len(received)}", "token_type": "Bearer", "expires_in": 3600}

    @upstream.post("/arc/v1/preauthorizations/pa_1/documents")
    def documents():
        received.append(request.get_data())
        if len(received) == 1:
            return {"error_code": "000-401", "message": "Token revoked."}, 401
        return {"document_id": "doc_1"}, 201

    client = UpstreamClient(serve_wsgi(upstream), "demo-hospital", "secret")
    path = "/arc/v1/preauthorizations/pa_1/documents"
    with pytest.raises(UpstreamError) as failure:
        client.request("POST", path, data=iter([b"%PDF-", b"rest"]), idempotency_key="doc-1")
    assert (failure.value.error_code, failure.value.retryable) == ("BFF-RESEND", True)
    assert received == [b"%PDF-rest"]  # not resent with what was left of the stream: nothing
    assert client.request("POST", path, data=iter([b"%PDF-", b"rest"]), idempotency_key="doc-1").json() == {
        "document_id": "doc_1"}  # the user's retry, on a fresh token
    assert received == [b"%PDF-rest", b"%PDF-rest"]


def test_completes_are_idempotent(simulator_url, client):
    code = client.request("POST", "/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}],
    }).json()["prescription_code"]
    pharmacy = UpstreamClient(simulator_url, "demo-pharmacy", "demo-pharmacy-secret")
    dispensation = pharmacy.request("POST", "/dispensing/v1/dispensations", json={"code": code}).json()
    path = f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete"
    first = pharmacy.request("POST", path, idempotency_key=f"complete-{dispensation['dispensation_id']}")
    again = pharmacy.request("POST", path, idempotency_key=f"complete-{dispensation['dispensation_id']}")
    assert first.json()["status"] == again.json()["status"] == "DISPENSED"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_upstream_errors_keep_osigus_code(client):
    with pytest.raises(UpstreamError) as failure:
        client.request("GET", "/ehr/v1/prescriptions/rx_nothing")
    assert (failure.value.status, failure.value.error_code) == (404, "081-120")
    assert not failure.value.retryable


def test_wrong_credentials_are_a_clear_error(simulator_url):
    client = UpstreamClient(simulator_url, "demo-hospital", "not-the-secret")
    with pytest.raises(UpstreamError) as failure:
        client.get_json(SEARCH, query="R51")
    assert failure.value.error_code == "BFF-OAUTH" and "OSIGU_CLIENT_SECRET" in failure.value.message


def test_an_unreachable_upstream_is_a_retryable_502():
    client = UpstreamClient("http://127.0.0.1:9", "demo-hospital", "demo-hospital-secret")
    with pytest.raises(UpstreamError) as failure:
        client.get_json(SEARCH)
    assert failure.value.status == 502 and failure.value.retryable


def test_the_egress_proxy_is_read_from_the_environment_once(serve_wsgi, monkeypatch):
    relayed = []
    proxy = Flask("egress-proxy")

    @proxy.route("/<path:path>", methods=["GET", "POST"])
    def relay(path):
        relayed.append(request.url)
        if path == "v1/oauth/token":
            return {"access_token": "via-proxy", "token_type": "Bearer", "expires_in": 3600}
        return {"data": [{"diagnosis_code": "R51"}]}

    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", serve_wsgi(proxy))
    client = UpstreamClient("http://osigu.example", "demo-hospital", "demo-hospital-secret")
    monkeypatch.delenv("HTTP_PROXY")  # read at start-up, not on every call
    assert client.get_json(SEARCH, query="R51")["data"]
    assert relayed == ["http://osigu.example/v1/oauth/token", f"http://osigu.example{SEARCH}?query=R51"]
