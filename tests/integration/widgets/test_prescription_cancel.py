"""Cancelling an issued prescription from the widget's done screen: confirmed first, cancelled at Osigu once,
refusals said in place in the doctor's language, and the host page and back end told."""

import concurrent.futures

import pytest
from widget_client import ORIGIN, fill_in_ana_with_paracetamol, invalid, step_of, trigger_of

from bff import outbox
from bff.db import OutboxMessage, db

EXIT = {"osigu:exit": {"reason": "prescription_cancelled", "step": "done"}}


@pytest.fixture
def host_apps(callback_receiver):
    """his-a wants callbacks; his-eu speaks Portuguese markets (v1.1, with consent)."""
    base = {"origins": [ORIGIN]}
    return [
        base | {"id": "his-a", "api_key": "his-a-api-key-0123456789", "callback_url": callback_receiver.url,
                "callback_secret": "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="},
        base | {"id": "his-eu", "api_key": "his-eu-api-key-0123456789", "prescription_version": "v1.1"},
    ]


def issued(widget, host_app="his-a", locale="en"):
    """A widget session that issued Ana López's paracetamol; returns (widget, outcome)."""
    w = widget(host_app, locale=locale)
    fill_in_ana_with_paracetamol(w)
    if host_app == "his-eu":
        w.post("/consent", data={"patient_data_consent": "yes"})
    outcome = trigger_of(w.post("/issue"))["osigu:success"]["outcome"]
    return w, outcome


def status_at_osigu(hospital, outcome):
    return hospital.get(f"/ehr/v1/prescriptions/{outcome['prescription_id']}").json()["status"]


def cancelled_callbacks(bff_app, callback_receiver):
    with bff_app.app_context():
        outbox.deliver_due(0.05)
        owed = db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)
                                 .filter_by(event_type="widget.prescription.cancelled"))
    received = []
    while not callback_receiver.received.empty():
        received.append(callback_receiver.received.get_nowait()[1])
    return owed, [payload["data"] for payload in received if payload["type"] == "widget.prescription.cancelled"]


def test_the_doctor_confirms_then_the_prescription_is_cancelled_once_and_the_host_told(
        widget, hospital, bff_app, callback_receiver):
    w, outcome = issued(widget)
    done = w.get("/done")
    assert "Cancel this prescription" in done.text and 'id="resend-email"' in done.text

    asked = w.get("/cancel-prescription")
    assert step_of(asked) == "done" and f"Cancel prescription {outcome['prescription_code']}?" in asked.text
    assert ">Yes, cancel it</button>" in asked.text and "data-osigu-primary" in asked.text
    assert status_at_osigu(hospital, outcome) == "PRESCRIPTION_ISSUED"  # asking cancels nothing
    assert 'id="resend-email"' in w.get("/done").text  # "No, keep it" goes back to the prescription

    first, second = w.post("/cancel-prescription"), w.post("/cancel-prescription")  # a double click
    assert step_of(first) == step_of(second) == "cancelled"
    assert trigger_of(first) == trigger_of(second) == EXIT
    assert outcome["prescription_code"] in first.text and "no pharmacy can dispense it" in first.text
    assert status_at_osigu(hospital, outcome) == "PRESCRIPTION_CANCELLED"
    assert step_of(w.get("/resume")) == "cancelled"  # a reloaded iframe shows it cancelled, offers nothing more

    owed, received = cancelled_callbacks(bff_app, callback_receiver)
    assert owed == 1 and received == [{"prescription_id": outcome["prescription_id"],
                                       "code": outcome["prescription_code"], "user_id": "dr-7"}]


@pytest.mark.parametrize("attempt", range(3))  # a race: one try would pass by luck too often
def test_two_clicks_at_once_cancel_once(widget, hospital, bff_app, callback_receiver, attempt):
    w, outcome = issued(widget)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: w.post("/cancel-prescription"), range(2)))
    assert [trigger_of(answer) for answer in answers] == [EXIT, EXIT]
    assert status_at_osigu(hospital, outcome) == "PRESCRIPTION_CANCELLED"
    assert cancelled_callbacks(bff_app, callback_receiver)[0] == 1


def dispense(pharmacy, outcome, complete):
    started = pharmacy.post("/dispensing/v1/dispensations", json={"code": outcome["prescription_code"]})
    assert started.status_code == 201, started.text
    if complete:
        completed = pharmacy.post(f"/dispensing/v1/dispensations/{started.json()['dispensation_id']}/complete")
        assert completed.status_code == 200, completed.text


REFUSALS = {
    ("081-122", "es"): "Esta receta ya se dispensó, así que ya no se puede cancelar.",
    ("081-122", "en"): "This prescription has already been dispensed, so it can no longer be cancelled.",
    ("081-122", "pt"): "Esta receita já foi dispensada, por isso já não pode ser cancelada.",
    ("081-123", "es"): "Una farmacia está dispensando esta receta en este momento",
    ("081-123", "en"): "A pharmacy is dispensing this prescription right now",
    ("081-123", "pt"): "Uma farmácia está a dispensar esta receita neste momento",
}


@pytest.mark.parametrize("code, locale", list(REFUSALS))
def test_a_refusal_is_said_in_place_in_the_doctors_language(widget, pharmacy, hospital, bff_app, callback_receiver,
                                                            code, locale):
    w, outcome = issued(widget, "his-eu" if locale == "pt" else "his-a", locale)
    dispense(pharmacy, outcome, complete=code == "081-122")  # dispensed, or a pharmacy has it open
    refused = w.post("/cancel-prescription")
    assert invalid(refused) and step_of(refused) == "done"
    assert REFUSALS[code, locale] in refused.text
    assert trigger_of(refused)["osigu:error"]["problem"]["code"] == code
    assert status_at_osigu(hospital, outcome) != "PRESCRIPTION_CANCELLED"
    assert cancelled_callbacks(bff_app, callback_receiver)[0] == 0


def test_a_prescription_cancelled_elsewhere_shows_as_cancelled(widget, hospital, bff_app, callback_receiver):
    w, outcome = issued(widget)
    assert hospital.post(f"/ehr/v1/prescriptions/{outcome['prescription_id']}/cancel", json={}).status_code == 200
    answer = w.post("/cancel-prescription")  # Osigu answers 081-124: what the doctor asked for is already so
    assert step_of(answer) == "cancelled" and trigger_of(answer) == EXIT
    assert "It had already been cancelled." in answer.text
    assert cancelled_callbacks(bff_app, callback_receiver)[0] == 1


def test_nothing_to_cancel_before_the_prescription_is_issued(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    assert step_of(w.post("/cancel-prescription")) == "review" and step_of(w.get("/cancel-prescription")) == "review"
