"""Redemptions follow Osigu's dispensing webhooks (real signed deliveries from the simulator to the BFF)."""

import pytest
import requests

from bff import redemption as redemptions
from bff.db import WebhookEvent
from bff.db import db as bff_db
from bff.redemption import Redemption, RedemptionError

PHARMACY = "pms-b"  # a host app with the demo pharmacy's own Osigu credentials
PHARMACY_KEY = "pms-b-api-key-0123456789"
QUEUE_ENTRY = ("pharmacy", "queue-entry-1")


@pytest.fixture
def app(bff_app, bff_url):
    """The BFF's application context, with the BFF listening for the simulator's webhooks."""
    with bff_app.app_context():
        yield bff_app


@pytest.fixture
def send(webhooks_to_bff):
    """The demo pharmacy's webhooks go to the BFF; calling this delivers the due ones."""
    return webhooks_to_bff("demo-pharmacy")


def reload(redemption):
    """Read the redemption back as another request would."""
    bff_db.session.expire_all()
    return bff_db.session.get(Redemption, redemption.id)


def received(event_type):
    bff_db.session.expire_all()
    return bff_db.session.scalar(bff_db.select(bff_db.func.count()).select_from(WebhookEvent)
                                 .filter_by(event_type=event_type))


@pytest.mark.parametrize("simulator_config", [{"DISPENSATION_TIMEOUT_SECONDS": 0}])  # idle at once
def test_a_dispensation_osigu_voids_for_idleness_is_voided_here_without_asking(app, prescribe, send):
    code = prescribe()
    redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
    assert redemption.status == "STARTED"
    send()  # the simulator's clock voids it and sends dispensing.cancelled
    voided = reload(redemption)
    assert (voided.status, voided.void_reason, voided.open_key) == ("VOIDED", "TIMEOUT", None)
    with pytest.raises(RedemptionError) as caught:
        redemptions.complete(voided)
    assert caught.value.kind == "TIMEOUT_VOIDED"
    assert redemptions.start(PHARMACY, QUEUE_ENTRY, code).id != redemption.id  # the code is free again


def test_a_completion_through_another_door_is_recorded_with_its_claim(app, bff_url, preauthorize, send):
    approved = preauthorize("acme-salud", ("MED-001", 21))  # Acme verifies nobody at the counter
    redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, approved.json()["authorizations"][0]["authorization_code"])
    completed = requests.post(f"{bff_url}/v1/osigu/dispensing/v1/dispensations/{redemption.dispensation_id}/complete",
                              headers={"Authorization": f"Bearer {PHARMACY_KEY}"}, timeout=10)
    assert completed.status_code == 200, completed.text
    send()  # dispensing.completed, then claim.created
    outcome = redemptions.outcome(reload(redemption))
    assert outcome["status"] == "DISPENSED" and outcome["completed_at"]
    assert outcome["claim_id"] == completed.json()["claim_id"] and outcome["claim_id"].startswith("clm_")
    assert reload(redemption).open_key is None


def lose_the_complete_answer_once():
    """A crash between Osigu's answer to complete and its record: the call stays in flight."""
    lost = []

    def hook(step, _redemption):
        if step == "complete" and not lost:
            lost.append(step)
            raise SystemExit("killed between Osigu's answer and the record")

    return hook


@pytest.mark.parametrize("bff_config", [{"REDEMPTION_AFTER_UPSTREAM_CALL": lose_the_complete_answer_once()}])
def test_a_call_in_flight_is_left_to_its_answer(app, prescribe, send):
    redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe())
    with pytest.raises(SystemExit):
        redemptions.complete(redemption)  # Osigu completed it; the BFF died before recording the answer
    send()
    assert received("dispensing.completed") == 1
    waiting = reload(redemption)
    assert (waiting.status, waiting.pending["step"]) == ("STARTED", "complete")
    refreshed = redemptions.refresh(waiting)  # sends the call again with its key: Osigu replays its answer
    assert (refreshed.status, refreshed.pending) == ("DISPENSED", None) and refreshed.completed_at


def test_the_webhook_of_a_void_made_here_changes_nothing(app, prescribe, send):
    redemption = redemptions.void(redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe()), "Wrong patient")
    before = reload(redemption)
    recorded = (before.status, before.void_reason, before.voided_at, before.updated_at)
    send()
    assert received("dispensing.cancelled") == 1
    again = reload(redemption)
    assert (again.status, again.void_reason, again.voided_at, again.updated_at) == recorded


def test_an_event_without_a_usable_status_is_stored_and_ignored(app, prescribe, send_webhook):
    redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe())
    event = {"dispensation_id": redemption.dispensation_id, "status": "SOMETHING_NEW"}
    assert send_webhook("msg_odd", "dispensing.completed", event) == {"status": "accepted"}
    assert reload(redemption).status == "STARTED"
