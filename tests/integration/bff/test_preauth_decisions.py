"""A sponsor's decision on a host app's pre-authorization reaches that host app as `widget.preauth.decided`, once."""

import pytest

from bff import outbox, preauth_decisions
from bff.db import OutboxMessage, db

PROXY = "/v1/osigu/arc/v1"
PDF = ("order.pdf", b"%PDF-1.4\n% a medical order\n", "application/pdf")


@pytest.fixture
def deliver(webhooks_to_bff):
    """The BFF's own Osigu client (demo-hospital) sends its webhooks to the BFF; calling this delivers the due ones."""
    return webhooks_to_bff("demo-hospital")


@pytest.fixture
def request_through_proxy(host):
    """Ask Seguros Andinos to cover products for Ana López as his-a, through the proxy (which binds the request)."""

    def make(*product_codes):
        beneficiary = host.post(f"{PROXY}/sponsors/seguros-andinos/beneficiaries/search",
                                json={"policy_number": "SA-10000001"}).json()
        created = host.post(f"{PROXY}/preauthorizations", json={
            "beneficiary_id": beneficiary["beneficiary_id"],
            "products": [{"product_code": code, "quantity": 1} for code in product_codes]})
        assert created.status_code == 201, created.text
        base = f"{PROXY}/preauthorizations/{created.json()['preauthorization_id']}"
        host.put(f"{base}/indications", json={"diagnoses": [{"diagnosis_code": "R51"}], "notes": "3 weeks"})
        for document in created.json()["required_documents"]:
            assert host.post(f"{base}/documents", data={"document_type": document["document_type"]},
                             files={"file": PDF}).status_code == 201
        completed = host.post(f"{base}/complete")
        assert completed.status_code == 200, completed.text
        return completed.json()

    return make


def callbacks(bff_app, callback_receiver, event_type):
    """Deliver what the outbox owes and return the callbacks of event_type the host app received."""
    with bff_app.app_context():
        outbox.deliver_due(0.05)
    return callback_receiver.take(event_type)


def owed(bff_app, event_type):
    with bff_app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage).filter_by(event_type=event_type))


def test_a_pended_decision_reaches_the_host_app_once_however_often_it_is_sent(
        bff_app, api, request_through_proxy, deliver, send_webhook, callback_receiver):
    request = request_through_proxy("LAB-001", "IMG-020")  # the lab is approved at once, the CT is reviewed
    by_status = {item["status"]: item["authorization_code"] for item in request["authorizations"]}
    assert set(by_status) == {"APPROVED", "PENDING"}
    deliver()
    decided = api().post(f"/sandbox/v1/authorizations/{by_status['PENDING']}/decision",
                         json={"status": "REJECTED"})
    assert decided.status_code == 200, decided.text
    deliver()

    # Osigu sends the decision again, under the same webhook-id and under a new one.
    log = api().get("/sandbox/v1/webhook-deliveries", params={"type": "authorization.decided"}).json()["data"]
    sent = next(entry for entry in log if entry["payload"]["data"]["authorization_code"] == by_status["PENDING"])
    assert sent["status"] == "DELIVERED"
    assert send_webhook(sent["webhook_id"], "authorization.decided", sent["payload"]["data"])["status"] == "duplicate"
    assert send_webhook("msg_resent", "authorization.decided", sent["payload"]["data"])["status"] == "accepted"

    preauthorization_id = request["preauthorization_id"]
    pended = {"preauthorization_id": preauthorization_id, "authorization_code": by_status["PENDING"],
              "status": "REJECTED", "reason": "MEDICAL_REVIEW_DENIED"}
    at_once = {"preauthorization_id": preauthorization_id, "authorization_code": by_status["APPROVED"],
               "status": "APPROVED"}
    assert sorted(callbacks(bff_app, callback_receiver, "widget.preauth.decided"),
                  key=lambda data: data["status"]) == [at_once, pended]
    assert owed(bff_app, "widget.preauth.decided") == 2
    with bff_app.app_context():
        assert preauth_decisions.decisions(preauthorization_id) == [at_once, pended]


def test_a_decision_on_a_request_no_host_app_made_is_not_passed_on(bff_app, preauthorize, deliver):
    # The hospital asks Osigu directly, with the same credentials the BFF uses: nobody bound the request.
    assert preauthorize("seguros-andinos", ("LAB-001", 1)).status_code == 200
    deliver()
    with bff_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0


def test_a_malformed_decision_is_stored_and_ignored(bff_app, request_through_proxy, send_webhook):
    request = request_through_proxy("LAB-001")
    event = {"preauthorization_id": request["preauthorization_id"], "authorization_code": "AUT-2026-1/../x",
             "status": "APPROVED"}
    assert send_webhook("msg_odd", "authorization.decided", event)["status"] == "accepted"
    assert owed(bff_app, "widget.preauth.decided") == 0
    assert owed(bff_app, "osigu.authorization.decided") == 1  # passed on as Osigu sent it, like any event
