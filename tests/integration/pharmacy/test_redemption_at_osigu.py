"""Completing an entry redeems its code at Osigu once: across a kill -9, and through the sponsor's verification."""

import json
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bff import redemption as redemptions
from bff.db import db

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def ready_to_complete(pharmacist, queued, stock, quantity=12):
    """An entry started and (partly) dispensed by ph-1, with its stock on the shelves."""
    stock(("MED-042", "L1", NEXT_YEAR, 100))
    entry = queued()
    medicine = pharmacist.post(f"/api/dispensing/{entry['id']}/start").json()["medicines"][0]["id"]
    answer = pharmacist.post(f"/api/dispensing/{entry['id']}/dispense",
                             json={"medicines": [{"medicineId": medicine, "dispensedQuantity": quantity}]})
    assert answer.status_code == 200, answer.text
    return entry


@pytest.mark.parametrize("step, database_url", [("start", "sqlite"), ("products", "sqlite"),
                                                 ("complete", "sqlite"), ("complete", "postgres")],
                         indirect=["database_url"])
def test_a_bff_killed_mid_redemption_finishes_it_once_at_restart(
        step, database_url, make_bff, host_apps, simulator_url, pharmacist, queued, stock, upstream_dispensations,
        upstream_products):
    entry = ready_to_complete(pharmacist, queued, stock)
    killed = subprocess.run([sys.executable, str(Path(__file__).with_name("complete_then_die.py")), simulator_url,
                             database_url, json.dumps(host_apps), entry["id"], step], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert pharmacist.get(f"/api/dispensing/{entry['id']}").json()["status"] == "DISPENSING"  # not finished yet

    restarted = make_bff(SQLALCHEMY_DATABASE_URI=database_url)  # start-up finishes the completion asked for
    with restarted.app_context():
        db.session.remove()
    record = pharmacist.get(f"/api/dispensing/{entry['id']}").json()
    assert record["status"] == "DISPENSED" and record["notes"] == "Counselled" and record["patientCounseled"] is True
    assert record["completedBy"]["id"] == "ph-1" and record["redemption"]["status"] == "DISPENSED"
    assert upstream_dispensations(entry["prescriptionId"]) == ["VOIDED", "DISPENSED"]  # the read, then one
    assert upstream_products(entry["prescriptionId"]) == [("MED-042", "MED-042", 12)]
    again = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_STATUS"
    assert upstream_dispensations(entry["prescriptionId"]) == ["VOIDED", "DISPENSED"]


def test_a_sponsor_asking_for_verification_holds_completion_until_it_is_done(
        bff_app, pharmacist, stock, preauthorize, read_otp, upstream_dispensations):
    approved = preauthorize("seguros-andinos", ("MED-001", 21))
    assert approved.status_code == 200, approved.text
    code = approved.json()["authorizations"][0]["authorization_code"]
    stock(("MED-001", "AMX-1", NEXT_YEAR, 50))
    entry = pharmacist.post("/api/dispensing/pending", json={"code": code, "priority": "URGENT"}).json()
    assert entry["prescription"]["codeType"] == "AUTHORIZATION" and entry["patient"]["firstName"] == "Ana"
    medicine = pharmacist.post(f"/api/dispensing/{entry['id']}/start").json()["medicines"][0]["id"]
    assert pharmacist.post(f"/api/dispensing/{entry['id']}/dispense",
                           json={"medicines": [{"medicineId": medicine, "dispensedQuantity": 21}]}).ok

    held = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={"notes": "Verified by OTP"})
    assert held.status_code == 409 and held.json()["code"] == "VERIFICATION_REQUIRED"
    assert held.json()["details"]["methods"] == ["OTP"]
    record = pharmacist.get(f"/api/dispensing/{entry['id']}").json()
    assert record["status"] == "DISPENSING" and record["redemption"]["status"] == "PENDING_VERIFICATION"
    changed = pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable", json={"medicineId": medicine,
                                                                                  "reason": "x"})
    assert changed.status_code == 400 and changed.json()["code"] == "INVALID_STATUS"  # Osigu holds the lines now

    with bff_app.app_context():  # the verification component does this, in process, for the worklist
        redemption = redemptions.for_owner("his-a", ("pharmacy", entry["id"]))
        redemptions.validate_otp(redemption, read_otp(redemption.dispensation_id))
    done = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={"notes": "Verified by OTP"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "DISPENSED" and done.json()["redemption"]["claimId"].startswith("clm_")
    assert upstream_dispensations(code) == ["VOIDED", "DISPENSED"]


def test_a_substitution_osigu_refuses_is_reported_and_not_resumed(make_bff, pharmacist, queued, stock,
                                                                   upstream_dispensations):
    stock(("MED-046", "PAN1", NEXT_YEAR, 40))
    entry = queued({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h",
                    "substitution_allowed": False})
    medicine = pharmacist.post(f"/api/dispensing/{entry['id']}/start").json()["medicines"][0]["id"]
    assert pharmacist.post(f"/api/dispensing/{entry['id']}/dispense", json={"medicines": [{
        "medicineId": medicine, "dispensedQuantity": 30, "substituted": True, "productCode": "MED-046",
        "substituteNote": "Only the brand is in stock"}]}).ok
    refusal = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={})
    assert refusal.status_code == 409 and refusal.json()["code"] == "REDEMPTION_REFUSED"
    assert refusal.json()["details"]["reason"] == "SUBSTITUTION_NOT_ALLOWED"
    with make_bff().app_context():  # a restart does not try again what Osigu refused for good
        db.session.remove()
    record = pharmacist.get(f"/api/dispensing/{entry['id']}").json()
    assert record["status"] == "DISPENSING" and record["redemption"] is None
    assert upstream_dispensations(entry["prescriptionId"]) == ["VOIDED", "VOIDED"]  # the code is free again
