"""Where the queue comes from: the prescription widget (with a priority/department context) and Osigu's events."""

from widget_client import Widgets, fill_in_ana_with_paracetamol, step_of, trigger_of

from bff import outbox
from bff.db import OutboxMessage, db
from bff.redemption import Redemption

WARD = {"priority": "URGENT", "department": {"id": "icu", "name": "Intensive care"}}


def issue(bff_url, context):
    w = Widgets(bff_url)(context=context)
    fill_in_ana_with_paracetamol(w)
    issued = w.post("/issue")
    assert step_of(issued) == "done"
    return trigger_of(issued)["osigu:success"]["outcome"]


def test_a_ward_prescription_joins_the_queue_once(bff_url, pharmacist):
    outcome = issue(bff_url, WARD)
    issue(bff_url, {})  # no priority or department: an outpatient prescription, not the hospital's queue
    pending = pharmacist.get("/api/dispensing/pending").json()
    assert pending["summary"]["totalPending"] == 1 and pending["summary"]["urgent"] == 1
    row = pending["data"][0]
    assert (row["prescriptionId"], row["priority"], row["department"]) == (
        outcome["prescription_code"], "URGENT", {"id": "icu", "name": "Intensive care"})
    assert row["doctor"] == {"id": "dr-7", "name": "Dra. Ruiz"} and row["patient"]["name"] == "Ana López"
    record = pharmacist.get(f"/api/dispensing/{row['id']}").json()
    assert record["prescription"]["id"] == outcome["prescription_id"]
    assert record["prescription"]["source"] == "widget"
    medicine = record["medicines"][0]
    assert (medicine["productCode"], medicine["prescribedQuantity"]) == ("MED-042", 30)
    assert medicine["dosage"] == "1 comprimido cada 8 horas durante 10 días"
    assert "paracetamol" in medicine["name"].lower()
    assert record["history"][0]["user"]["id"] == "dr-7" and record["history"][0]["action"] == "queued"
    # The same code queued again through the API is the same entry.
    again = pharmacist.post("/api/dispensing/pending", json={"code": outcome["prescription_code"]})
    assert again.status_code == 200 and again.json()["id"] == row["id"]


def test_osigus_cancellation_by_prescription_id_cancels_the_pending_entry(bff_url, pharmacist, send_webhook):
    outcome = issue(bff_url, WARD)
    send_webhook("msg_rx_cancelled", "prescription.cancelled",
                 {"prescription_id": outcome["prescription_id"], "status": "PRESCRIPTION_CANCELLED"})
    send_webhook("msg_rx_cancelled", "prescription.cancelled",  # Osigu's retry: stored once, acted on once
                 {"prescription_id": outcome["prescription_id"], "status": "PRESCRIPTION_CANCELLED"})
    assert pharmacist.get("/api/dispensing/pending").json()["data"] == []
    cancelled = pharmacist.get("/api/dispensing/history", params={"status": "CANCELLED"}).json()["data"]
    assert [row["prescriptionId"] for row in cancelled] == [outcome["prescription_code"]]
    history = pharmacist.get(f"/api/dispensing/{cancelled[0]['id']}").json()["history"]
    assert [event["action"] for event in history] == ["queued", "cancelled"]


def test_reading_a_code_issued_elsewhere_tells_the_host_app_nothing(bff_app, pharmacist, prescribe, send_webhook,
                                                                  callback_receiver):
    code = prescribe()
    assert pharmacist.post("/api/dispensing/pending", json={"code": code}).status_code == 201
    with bff_app.app_context():
        read = db.session.scalar(db.select(Redemption).filter_by(code=code))
        assert (read.owner_kind, read.status) == ("read", "VOIDED")
        dispensation_id = read.dispensation_id
    # Osigu reports the void of the BFF's read, as it reports every void.
    send_webhook("msg_read_voided", "dispensing.cancelled", {"dispensation_id": dispensation_id, "status": "VOIDED"})
    with bff_app.app_context():
        owed = db.session.scalars(db.select(OutboxMessage.event_type)).all()
        assert "osigu.dispensing.cancelled" not in owed
        outbox.deliver_due(0.05)
    assert callback_receiver.received.empty()
