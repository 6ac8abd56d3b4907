"""The API proxy: host API key in, tenant token out, listed calls only, each host app to its own objects."""

import http.client
import json
import logging
import socket
from urllib.parse import urlsplit

import pytest
from flask import g

from bff import ownership, sessions
from bff.db import OutboxMessage, db

ANA = "pat_01HXE0000000000000000ANA01"
PRESCRIPTION = {"patient_id": ANA, "diagnoses": [{"diagnosis_code": "R51"}],
                "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]}


@pytest.fixture
def host_apps(host_apps):
    """Beside his-a and pms-b: his-b shares the BFF's credentials with his-a (one Osigu provider for both),
    and ops is that provider's back office, marked admin."""
    return [*host_apps,
            {"id": "his-b", "api_key": "his-b-api-key-0123456789", "origins": ["http://127.0.0.1:9003"]},
            {"id": "ops", "api_key": "ops-api-key-0123456789", "origins": ["http://127.0.0.1:9004"], "admin": True}]


def as_host(host_app):
    return {"Authorization": f"Bearer {host_app}-api-key-0123456789"}


@pytest.fixture
def prescription_of_his_a(host):
    """A prescription his-a issued through the proxy."""
    response = host.post("/v1/osigu/ehr/v1/prescriptions", json=PRESCRIPTION)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_catalogue_search_goes_through(host):
    response = host.get("/v1/osigu/medical-catalogs/v1/diagnoses", params={"query": "cephalgia"})
    assert response.status_code == 200
    assert response.json()["data"][0]["diagnosis_code"] == "R51"
    assert response.headers["Content-Type"] == "application/json"


def test_state_changing_calls_go_through_with_the_hosts_idempotency_key(host):
    first = host.post("/v1/osigu/ehr/v1/prescriptions", json=PRESCRIPTION, headers={"Idempotency-Key": "host-key-1"})
    again = host.post("/v1/osigu/ehr/v1/prescriptions", json=PRESCRIPTION, headers={"Idempotency-Key": "host-key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_another_host_apps_idempotency_key_replays_nothing_of_the_first(host):
    first = host.post("/v1/osigu/ehr/v1/prescriptions", json=PRESCRIPTION, headers={"Idempotency-Key": "same-key"})
    other = host.post("/v1/osigu/ehr/v1/prescriptions", json=PRESCRIPTION,
                      headers={"Idempotency-Key": "same-key"} | as_host("his-b"))
    assert first.status_code == other.status_code == 201
    assert other.json()["prescription_id"] != first.json()["prescription_id"]
    assert "Idempotent-Replayed" not in other.headers


def test_a_host_app_reaches_its_own_prescription_and_no_other_host_app_does(host, prescription_of_his_a):
    rx = prescription_of_his_a["prescription_id"]
    assert host.get(f"/v1/osigu/ehr/v1/prescriptions/{rx}").status_code == 200
    assert host.post(f"/v1/osigu/ehr/v1/prescriptions/{rx}/resend", json={"channel": "EMAIL"}).status_code == 202
    for method, path in (("get", rx), ("get", f"{rx}/pdf"), ("post", f"{rx}/resend")):
        response = getattr(host, method)(f"/v1/osigu/ehr/v1/prescriptions/{path}", json={"channel": "EMAIL",
                                         "email": "attacker@example.com"}, headers=as_host("his-b"))
        # The same answer as for an id that does not exist: his-b learns nothing, and nothing is sent.
        assert response.status_code == 404 and response.json() == {"error_code": "BFF-404", "message": "Not found."}
    assert host.get("/v1/osigu/ehr/v1/prescriptions/rx_nothing", headers=as_host("his-b")).json() == \
        {"error_code": "BFF-404", "message": "Not found."}
    # The provider's back office (admin) reaches every object of its provider.
    assert host.get(f"/v1/osigu/ehr/v1/prescriptions/{rx}", headers=as_host("ops")).status_code == 200
    # Withdrawing it is the prescriber's own act: another host app cannot, its owner can.
    assert host.post(f"/v1/osigu/ehr/v1/prescriptions/{rx}/cancel", json={}, headers=as_host("his-b")).status_code \
        == 404
    cancelled = host.post(f"/v1/osigu/ehr/v1/prescriptions/{rx}/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "PRESCRIPTION_CANCELLED", cancelled.text


def test_a_code_is_the_credential_and_the_dispensation_is_the_dispensers(host, prescription_of_his_a):
    code = prescription_of_his_a["prescription_code"]
    # pms-b is a pharmacy (its own Osigu provider) dispensing the code the clinic's patient brought.
    started = host.post("/v1/osigu/dispensing/v1/dispensations", json={"code": code}, headers=as_host("pms-b"))
    assert started.status_code == 201, started.text
    dispensation = started.json()["dispensation_id"]
    assert host.get(f"/v1/osigu/dispensing/v1/dispensations/{dispensation}", headers=as_host("pms-b")).ok
    assert host.get(f"/v1/osigu/dispensing/v1/dispensations/{dispensation}").status_code == 404
    voided = host.post(f"/v1/osigu/dispensing/v1/dispensations/{dispensation}/void", json={},
                       headers=as_host("his-b"))
    assert voided.status_code == 404
    assert host.get(f"/v1/osigu/dispensing/v1/dispensations/{dispensation}/verification-status",
                    headers=as_host("pms-b")).ok


def test_what_completing_binds_follows_its_object(host):
    """his-a pre-authorizes (its authorization code is its own to void); his-b dispenses the code the
    patient brought, and the claim that dispensing files is his-b's."""
    beneficiary = host.post("/v1/osigu/arc/v1/sponsors/acme-salud/beneficiaries/search",
                            json={"employee_number": "EMP-00042", "date_of_birth": "1980-01-01"}).json()
    created = host.post("/v1/osigu/arc/v1/preauthorizations", json={
        "beneficiary_id": beneficiary["beneficiary_id"], "products": [{"product_code": "MED-001", "quantity": 21}]})
    assert created.status_code == 201, created.text
    base = f"/v1/osigu/arc/v1/preauthorizations/{created.json()['preauthorization_id']}"
    assert host.get(base, headers=as_host("his-b")).status_code == 404
    assert host.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}]}).ok
    for document in created.json()["required_documents"]:
        assert host.post(f"{base}/documents", data={"document_type": document["document_type"]},
                         files={"file": ("order.pdf", b"%PDF-1.4\n", "application/pdf")}).status_code == 201
    code = host.post(f"{base}/complete").json()["authorizations"][0]["authorization_code"]

    assert host.post(f"/v1/osigu/arc/v1/authorizations/{code}/void", headers=as_host("his-b")).status_code == 404
    assert host.get(f"/v1/osigu/arc/v1/authorizations/{code}", headers=as_host("his-b")).status_code == 200
    dispensation = host.post("/v1/osigu/dispensing/v1/dispensations", json={"code": code},
                             headers=as_host("his-b")).json()["dispensation_id"]
    completed = host.post(f"/v1/osigu/dispensing/v1/dispensations/{dispensation}/complete", headers=as_host("his-b"))
    claim = completed.json()["claim_id"]
    assert host.get(f"/v1/osigu/arc/v1/claims/{claim}", headers=as_host("his-b")).status_code == 200
    assert host.get(f"/v1/osigu/arc/v1/claims/{claim}").status_code == 404
    # his-a's own code reaches Osigu, which refuses to void what was redeemed (his-b got 404 above).
    assert host.post(f"/v1/osigu/arc/v1/authorizations/{code}/void").json()["error_code"] == "061-124"


def test_a_prescription_a_widget_session_issued_belongs_to_its_host_app(host, bff_app, new_session, hospital):
    issued = hospital.post("/ehr/v1/prescriptions", json=PRESCRIPTION).json()["prescription_id"]
    with bff_app.test_request_context():
        g.widget_session = sessions.load_session(new_session(), "prescription")
        ownership.bind("prescription", issued)
        db.session.commit()
    assert host.get(f"/v1/osigu/ehr/v1/prescriptions/{issued}").status_code == 200
    assert host.get(f"/v1/osigu/ehr/v1/prescriptions/{issued}", headers=as_host("his-b")).status_code == 404


def test_provider_products_are_read_by_all_but_changed_only_by_an_admin(host):
    assert host.get("/v1/osigu/arc/v1/providers/products", headers=as_host("his-b")).status_code == 200
    refused = host.delete("/v1/osigu/arc/v1/providers/products/MED-042", headers=as_host("his-b"))
    assert refused.status_code == 403 and refused.json()["error_code"] == "BFF-PROXY-ADMIN"
    assert host.post("/v1/osigu/arc/v1/providers/products", json={"product_code": "LAB-001"},
                     headers=as_host("his-b")).status_code == 403
    assert host.get("/v1/osigu/arc/v1/providers/products/MED-042").status_code == 403  # unlisted: denied
    assert host.delete("/v1/osigu/arc/v1/providers/products/MED-042", headers=as_host("ops")).status_code == 204
    assert host.post("/v1/osigu/arc/v1/providers/products", json={"product_code": "MED-042"},
                     headers=as_host("ops")).status_code == 201


@pytest.mark.parametrize("path", ["arc/v1/claims", "arc/v1/authorizations", "v3/settlements"])
def test_provider_wide_lists_need_an_admin(host, path):
    response = host.get(f"/v1/osigu/{path}")
    assert response.status_code == 403 and response.json()["error_code"] == "BFF-PROXY-ADMIN"
    admin = host.get(f"/v1/osigu/{path}", headers=as_host("ops"))
    assert admin.status_code == 200 and isinstance(admin.json()["data"], list)


@pytest.mark.parametrize("method, path", [("GET", "ehr/v1/prescriptions"), ("PATCH", "ehr/v1/patients"),
                                          ("GET", "arc/v1/providers"), ("DELETE", "ehr/v1/prescriptions/rx_1"),
                                          ("GET", "dispensing/v1/dispensations")])
def test_calls_that_are_not_listed_are_refused_even_under_a_known_prefix(host, method, path):
    response = host.request(method, f"/v1/osigu/{path}", headers=as_host("ops"))
    assert response.status_code == 403 and response.json()["error_code"] == "BFF-PROXY-PATH"


def test_a_webhook_about_an_object_created_through_the_proxy_is_the_creators_callback(bff_app, send_webhook,
                                                                                   prescription_of_his_a):
    send_webhook("msg_proxy", "prescription.redeemed", {"prescription_id": prescription_of_his_a["prescription_id"]})
    with bff_app.app_context():
        message = db.session.scalars(db.select(OutboxMessage)).one()
    assert message.host_app_id == "his-a" and message.event_type == "osigu.prescription.redeemed"


def raw_request(base_url, target):
    """Send a request line exactly as written (requests and http.client would normalise or refuse it)."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Authorization: Bearer his-a-api-key-0123456789\r\nConnection: close\r\n\r\n")
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, response.read()


@pytest.mark.parametrize("target", [
    b"/v1/osigu/ehr/%252e%252e/%252e%252e/sandbox/v1/messages",  # double-encoded dot segments
    b"/v1/osigu/ehr/%2e%2e/%2e%2e/sandbox/v1/messages",
    b"/v1/osigu/ehr/v1/patients/%2e%2e%2f%2e%2e%2fsandbox%2fv1%2fmessages",
    b"/v1/osigu/medical-catalogs/v1/diagnoses%3Fquery=1000000001",  # would turn into a query string
    b"/v1/osigu/ehr/v1/patients/pat_1;jsessionid=1",
    b"/v1/osigu/ehr/v1/patients/..%5c..%5csandbox",
    b"/v1/osigu/ehr/v1/patients/pat%001",
    b"/v1/osigu/medical-catalogs/v1/diagn%6fses",  # even a harmless escape: the path sent is the path checked
])
def test_a_path_that_could_mean_something_else_upstream_is_refused(bff_url, target):
    status, body = raw_request(bff_url, target)
    assert status == 400 and json.loads(body)["error_code"] == "BFF-PROXY-PATH"


def test_a_query_smuggled_into_the_path_stays_out_of_the_logs(bff_url, caplog):
    caplog.set_level(logging.INFO)  # the level `osigu-widgets serve` logs at
    status, _ = raw_request(bff_url, b"/v1/osigu/ehr/v1/patients%3Fdocument_number=1000000001")
    assert status == 400
    logs = [record for record in caplog.records if record.name.startswith("bff")]
    assert any(record.name == "bff.access" for record in logs)
    assert "1000000001" not in "\n".join(record.getMessage() + str(record.__dict__) for record in logs)


def test_the_raw_request_helper_reaches_a_listed_call(bff_url):
    status, body = raw_request(bff_url, b"/v1/osigu/medical-catalogs/v1/diagnoses?query=cephalgia")
    assert status == 200 and json.loads(body)["data"][0]["diagnosis_code"] == "R51"


def test_each_host_app_acts_as_its_own_tenant(host):
    # pms-b brings the pharmacy's credentials: the pharmacy may dispense but not prescribe.
    headers = {"Authorization": "Bearer pms-b-api-key-0123456789"}
    response = host.get("/v1/osigu/ehr/v1/patients", params={"document_number": "1000000001"}, headers=headers)
    assert response.status_code == 403  # Osigu refused the tenant's scope: said so, naming it (test_proxy_scopes.py)
    assert response.json()["error_code"] == "000-403"
    assert host.get("/v1/osigu/ehr/v1/patients", params={"document_number": "1000000001"}).status_code == 200


@pytest.mark.parametrize("path", ["v1/oauth/token", "sandbox/v1/reset", "openapi.json", "ehr/../sandbox/v1/reset",
                                  "arc//v1/products", "healthz", "v3/settlements-admin", "arcade"])
def test_paths_outside_the_allow_list_are_refused(host, path):
    response = host.post(f"/v1/osigu/{path}", headers=as_host("ops"))
    assert response.status_code in (400, 403, 404)
    if response.status_code != 404:
        assert response.json()["error_code"] == "BFF-PROXY-PATH"


def test_the_proxy_needs_a_host_api_key(host):
    host.headers.pop("Authorization")
    assert host.get("/v1/osigu/medical-catalogs/v1/medications").status_code == 401


def test_upstream_errors_come_back_in_the_one_shape(host):
    response = host.get("/v1/osigu/ehr/v1/patients/pat_nothing")
    assert response.status_code == 404
    assert response.json() == {"error_code": "081-101", "message": "Patient not found.", "retryable": False}


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [{"path_prefix": "/ehr/", "rate_limit_rate": 1,
                                                           "retry_after": 1, "times": 1}]}])
def test_a_post_answered_429_is_passed_back_with_retry_after(host):
    response = host.post("/v1/osigu/ehr/v1/patients", json={})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1" and response.json()["retryable"] is True


def test_the_upstream_token_and_the_hosts_key_stay_out_of_responses(host, bff_app):
    response = host.get("/v1/osigu/arc/v1/products", params={"product_type": "LAB"})
    from bff import host_apps

    with bff_app.app_context():
        token = host_apps.upstream_for(host_apps.by_id("his-a")).access_token()
    exposed = response.text + str(dict(response.headers))
    assert token not in exposed and "his-a-api-key" not in exposed and "Authorization" not in response.headers


def test_a_body_over_the_limit_is_413(host, bff_app):
    response = host.post("/v1/osigu/ehr/v1/patients", data=b"x" * (bff_app.config["MAX_CONTENT_LENGTH"] + 1),
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error_code"] == "BFF-413"


def test_settlements_are_reachable_at_the_exact_prefix(host):
    response = host.get("/v1/osigu/v3/settlements", headers=as_host("ops"))
    assert response.status_code == 200 and response.json()["data"] == []


def test_a_page_beyond_the_simulators_bounds_comes_back_as_its_422_not_a_500(host):
    response = host.get("/v1/osigu/medical-catalogs/v1/medications", params={"page": 2**64})
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"
