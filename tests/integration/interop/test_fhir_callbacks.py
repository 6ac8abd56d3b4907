"""FHIR R4 in every callback and host event that carries an outcome, for a host app with outcome_format "fhir":
a pended authorization decided later, the hospital-pharmacy completion, a cancelled prescription."""

from datetime import date

import pytest
import requests
from test_fhir_outcomes import FHIR_CONTEXT, identifier, resources, review_action, success_of
from widget_client import fill_in_ana_at_seguros_andinos, fill_in_ana_with_paracetamol, trigger_of

from bff import outbox
from bff.db import db
from bff.pharmacy import inventory

OSIGU = "https://osigu.com/fhir"
NEXT_YEAR = date(date.today().year + 1, 12, 31).isoformat()


def callbacks(bff_app, callback_receiver, event_type):
    """Deliver what the outbox owes and return the data of the callbacks of event_type the host app received."""
    with bff_app.app_context():
        outbox.deliver_due(0.05)
    return callback_receiver.take(event_type)


def pended_preauth(widget):
    """A preauth widget of ehr-a whose request was sent: the lab approved at once, the CT pended."""
    w = widget(host_app="ehr-a", widget="preauth", locale="en",
               context={"fhir": FHIR_CONTEXT, "coverage_assertion_id": "cov_01PENDED"})
    fill_in_ana_at_seguros_andinos(w, products=(("LAB-001", 1), ("IMG-020", 1)))
    outcome = resources(success_of(w.post("/complete")), "ClaimResponse")
    pended = next(response for response in outcome if response["outcome"] == "queued")
    return w, identifier(pended, f"{OSIGU}/authorization-code")


def test_a_decision_made_later_is_called_back_as_a_claim_response(
        widget, api, webhooks_to_bff, bff_app, callback_receiver):
    deliver = webhooks_to_bff("demo-hospital")  # ehr-a works with the BFF's own credentials
    _, code = pended_preauth(widget)
    assert api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": "REJECTED"}).status_code == 200
    deliver()
    decided = callbacks(bff_app, callback_receiver, "widget.preauth.decided")
    assert len(decided) == 2 and all(set(data) == {"bundle"} for data in decided)  # the lab's, the CT's
    by_code = {}
    for data in decided:
        [response] = resources(data["bundle"], "ClaimResponse")
        by_code[identifier(response, f"{OSIGU}/authorization-code")] = response
    rejected = by_code[code]
    assert review_action(rejected) == "A3" and rejected["outcome"] == "complete" and "preAuthRef" not in rejected
    assert rejected["item"][0]["extension"][0]["valueCoding"] == {"system": f"{OSIGU}/product-code",
                                                                   "code": "IMG-020"}
    assert rejected["patient"] == {"reference": "Patient/ana-17"}  # the session's FHIR context is kept
    assert rejected["insurer"] == {"identifier": {"system": f"{OSIGU}/sponsor", "value": "seguros-andinos"}}
    assert rejected["extension"][0]["valueString"] == "cov_01PENDED"
    [approved] = [response for other, response in by_code.items() if other != code]
    assert review_action(approved) == "A1" and approved["preAuthRef"].startswith("AUT-")
    assert approved["preAuthPeriod"]["end"]


def test_the_open_widget_hears_the_decision_with_its_claim_response(widget, api):
    w, code = pended_preauth(widget)
    assert api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": "REJECTED"}).status_code == 200
    answer = w.get("/result", params={"wait": 60})
    [decision] = trigger_of(answer)["osigu:authorization_decided"]["decisions"]
    assert (decision["authorization_code"], decision["status"]) == (code, "REJECTED")  # DESIGN.md's fields stay
    [response] = resources(decision["bundle"], "ClaimResponse")
    assert review_action(response) == "A3" and identifier(response, f"{OSIGU}/authorization-code") == code


@pytest.mark.parametrize("status", ["APPROVED", "REJECTED"])
def test_an_osigu_host_hears_the_decision_without_a_bundle(widget, api, status):
    w = widget(host_app="his-a", widget="preauth", locale="en")
    fill_in_ana_at_seguros_andinos(w, products=(("IMG-020", 1),))
    [pended] = success_of(w.post("/complete"))["authorizations"]
    code = pended["authorization_code"]
    assert api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": status}).status_code == 200
    answer = w.get("/result", params={"wait": 60})
    assert answer.status_code == 286, answer.text  # a rejected group, which has no code any more, is found too
    [decision] = trigger_of(answer)["osigu:authorization_decided"]["decisions"]
    assert (decision["authorization_code"], decision["status"]) == (code, status) and "bundle" not in decision


def test_the_pharmacy_completion_is_called_back_as_medication_dispenses(
        widget, prescribe, bff_url, bff_app, callback_receiver):
    with bff_app.app_context():
        inventory.import_csv("demo-hospital", ["productCode,batchNumber,expiryDate,quantity",
                                               f"MED-042,L1,{NEXT_YEAR},100"])
        db.session.remove()
    pharmacist = widget(host_app="ehr-a", widget="dispensing",
                        user={"id": "ph-1", "name": "Pharmacist", "role": "PHARMACIST"})
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {pharmacist.token}"
    code = prescribe()
    entry = api.post(f"{bff_url}/api/dispensing/pending", json={"code": code}, timeout=15).json()
    record = api.post(f"{bff_url}/api/dispensing/{entry['id']}/start", timeout=15).json()
    [medicine] = record["medicines"]
    assert api.post(f"{bff_url}/api/dispensing/{entry['id']}/dispense", timeout=15, json={"medicines": [
        {"medicineId": medicine["id"], "dispensedQuantity": 30}]}).ok
    done = api.post(f"{bff_url}/api/dispensing/{entry['id']}/complete", json={}, timeout=30)
    assert done.status_code == 200, done.text

    [data] = callbacks(bff_app, callback_receiver, "widget.dispensing.completed")
    assert (data["entry_id"], data["user_id"]) == (entry["id"], "ph-1")
    [dispense] = resources(data["bundle"], "MedicationDispense")
    assert identifier(dispense, f"{OSIGU}/dispensation-id") == done.json()["redemption"]["dispensationId"]
    assert dispense["authorizingPrescription"] == [{"identifier": {"system": f"{OSIGU}/prescription-code",
                                                                   "value": code}}]
    assert dispense["quantity"]["value"] == 30 and dispense["extension"][0]["extension"][0]["valueString"] == "L1"


def test_a_cancelled_prescription_is_called_back_as_cancelled_medication_requests(
        widget, bff_app, callback_receiver):
    w = widget(host_app="ehr-a", context={"fhir": FHIR_CONTEXT})
    fill_in_ana_with_paracetamol(w)
    [issued] = resources(success_of(w.post("/issue")), "MedicationRequest")
    assert w.post("/cancel-prescription").status_code == 200
    [data] = callbacks(bff_app, callback_receiver, "widget.prescription.cancelled")
    assert data["user_id"] == "dr-7"
    [cancelled] = resources(data["bundle"], "MedicationRequest")
    assert cancelled["status"] == "cancelled" and cancelled["identifier"] == issued["identifier"]
