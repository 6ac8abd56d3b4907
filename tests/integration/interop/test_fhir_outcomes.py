"""FHIR R4 outcomes: a host app with outcome_format "fhir" gets Bundles in `success` and in its callbacks, every
resource valid for fhir.resources' R4B models (which match R4 for MedicationRequest, MedicationDispense and
ClaimResponse: see the README)."""

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest
from test_cds_hooks import CRD, SIGN, coverage_of, hook_body
from widget_client import (
    fill_in_ana_at_seguros_andinos,
    fill_in_ana_with_paracetamol,
    products_form,
    step_of,
    trigger_of,
)

from bff import coverage, outbox

OSIGU = "https://osigu.com/fhir"
MODELS = {"MedicationRequest": MedicationRequest, "MedicationDispense": MedicationDispense,
          "ClaimResponse": ClaimResponse}
FHIR_CONTEXT = {"patient": "Patient/ana-17", "encounter": "Encounter/visit-3"}


def resources(bundle, kind):
    """Validate the Bundle and each resource in it; return the resources of kind (as JSON)."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    found = [entry["resource"] for entry in bundle["entry"]]
    for resource in found:
        MODELS[resource["resourceType"]].model_validate(resource)
    assert {resource["resourceType"] for resource in found} == {kind}
    return found


def success_of(response):
    return trigger_of(response)["osigu:success"]["outcome"]


def delivered(bff_app, callback_receiver):
    """Deliver what the BFF owes and return the callback the host's back end received."""
    with bff_app.app_context():
        assert outbox.deliver_due(0.05) == 1
    _, payload = callback_receiver.received.get(timeout=10)
    return payload


def identifier(resource, system):
    return next(item["value"] for item in resource["identifier"] if item["system"] == system)


def test_a_prescription_is_a_medication_request_per_line(widget, bff_app, callback_receiver):
    w = widget(host_app="ehr-a", context={"fhir": FHIR_CONTEXT})
    fill_in_ana_with_paracetamol(w)
    issued = w.post("/issue")
    assert step_of(issued) == "done"
    bundle = success_of(issued)
    [request] = resources(bundle, "MedicationRequest")
    code = identifier(request, f"{OSIGU}/prescription-code")
    assert code.startswith("RX-") and code in issued.text
    assert request["medicationCodeableConcept"]["coding"] == [{"system": f"{OSIGU}/product-code", "code": "MED-042"}]
    assert (request["status"], request["intent"], request["subject"], request["encounter"]) == (
        "active", "order", {"reference": "Patient/ana-17"}, {"reference": "Encounter/visit-3"})
    assert request["dispenseRequest"]["quantity"]["value"] == 30
    assert request["dosageInstruction"][0]["timing"]["repeat"]["period"] == 8
    assert request["reasonCode"][0]["coding"][0]["code"] == "R51"
    assert success_of(w.post("/issue"))["id"] == bundle["id"]  # a replay is the same Bundle, to dedupe on

    payload = delivered(bff_app, callback_receiver)
    assert payload["type"] == "widget.prescription.issued" and payload["data"]["user_id"] == "dr-7"
    [called_back] = resources(payload["data"]["bundle"], "MedicationRequest")
    assert identifier(called_back, f"{OSIGU}/prescription-code") == code


def test_without_fhir_references_the_patient_is_osigus_id(widget):
    w = widget(host_app="ehr-a")
    patient_id = fill_in_ana_with_paracetamol(w)
    [request] = resources(success_of(w.post("/issue")), "MedicationRequest")
    assert request["subject"] == {"type": "Patient", "identifier": {"system": f"{OSIGU}/patient-id",
                                                                     "value": patient_id}}
    assert "encounter" not in request


def test_a_host_app_without_the_setting_keeps_osigus_outcome(widget):
    w = widget(host_app="his-a")
    fill_in_ana_with_paracetamol(w)
    assert set(success_of(w.post("/issue"))) == {"prescription_id", "prescription_code", "status", "created_at"}


def test_a_dispensation_is_a_medication_dispense_per_line(widget, prescribe, bff_app, callback_receiver):
    code = prescribe()
    w = widget(host_app="ehr-a", widget="dispensing", locale="en", context={"code": code, "fhir": FHIR_CONTEXT})
    done = w.post("/complete", data=products_form(w.get("/resume")) | {"lot-0": "L-7"})
    [dispense] = resources(success_of(done), "MedicationDispense")
    assert dispense["status"] == "completed" and dispense["quantity"]["value"] == 30
    assert dispense["authorizingPrescription"] == [{"identifier": {"system": f"{OSIGU}/prescription-code",
                                                                   "value": code}}]
    assert identifier(dispense, f"{OSIGU}/dispensation-id").startswith("dsp_")
    assert (dispense["subject"], dispense["context"]) == ({"reference": "Patient/ana-17"},
                                                          {"reference": "Encounter/visit-3"})
    assert dispense["extension"][0]["extension"][0] == {"url": "lotNumber", "valueString": "L-7"}

    payload = delivered(bff_app, callback_receiver)
    assert payload["type"] == "widget.dispensing.completed"
    assert resources(payload["data"]["bundle"], "MedicationDispense")[0]["identifier"] == dispense["identifier"]


def review_action(response):
    [item] = response["item"][:1]
    [action] = item["adjudication"][0]["extension"]
    coding = action["extension"][0]["valueCodeableConcept"]["coding"][0]
    assert coding["system"] == "https://codesystem.x12.org/005010/306"
    return coding["code"]


def test_a_preauthorization_is_a_claim_response_per_authorization(widget, bff_app, callback_receiver):
    # Seguros Andinos groups by product type: the lab is approved, the CT pended, sildenafil (excluded) denied.
    w = widget(host_app="ehr-a", widget="preauth", locale="en",
               context={"fhir": FHIR_CONTEXT, "coverage_assertion_id": "cov_01TESTASSERTION"})
    fill_in_ana_at_seguros_andinos(w, products=(("LAB-001", 1), ("IMG-020", 1), ("MED-287", 1)))
    done = w.post("/complete")
    responses = resources(success_of(done), "ClaimResponse")
    by_product = {item["extension"][0]["valueCoding"]["code"]: response
                  for response in responses for item in response["item"]}
    assert {code: review_action(response) for code, response in by_product.items()} == {
        "LAB-001": "A1", "IMG-020": "A4", "MED-287": "A3"}
    approved = by_product["LAB-001"]
    assert approved["use"] == "preauthorization" and approved["outcome"] == "complete"
    assert approved["preAuthRef"] == identifier(approved, f"{OSIGU}/authorization-code")
    assert approved["preAuthRef"].startswith("AUT-") and approved["preAuthRef"] in done.text
    assert approved["patient"] == {"reference": "Patient/ana-17"}
    assert approved["insurer"] == {"identifier": {"system": f"{OSIGU}/sponsor", "value": "seguros-andinos"}}
    assert by_product["IMG-020"]["outcome"] == "queued" and "preAuthRef" not in by_product["MED-287"]
    assert all(response["extension"] == [{"url": f"{OSIGU}/StructureDefinition/coverage-assertion-id",
                                          "valueString": "cov_01TESTASSERTION"}] for response in responses)

    payload = delivered(bff_app, callback_receiver)
    assert payload["type"] == "widget.preauth.completed"
    assert len(resources(payload["data"]["bundle"], "ClaimResponse")) == 3


def test_a_preauthorization_from_a_coverage_card_updates_the_ehrs_authorized_order(widget, call_hook, bff_app):
    # The EHR asked about three draft orders: the lab is approved, the CT pended, sildenafil (excluded) denied.
    answered = call_hook(SIGN, hook_body("LAB-001", "IMG-020", "MED-287"))
    assert answered.status_code == 200, answered.text
    [assertion_id] = {item["coverage-assertion-id"] for item in coverage_of(answered.json()).values()}
    with bff_app.app_context():  # kept for the app the EHR called as, and for no other
        assert [order["id"] for order in coverage.kept_orders("ehr-a", assertion_id)] == [
            "draft-0", "draft-1", "draft-2"]
        assert coverage.kept_orders("his-a", assertion_id) == []
    w = widget(host_app="ehr-a", widget="preauth", locale="en",
               context={"fhir": FHIR_CONTEXT, "coverage_assertion_id": assertion_id})
    fill_in_ana_at_seguros_andinos(w, products=(("LAB-001", 1), ("IMG-020", 1), ("MED-287", 1)))
    bundle = success_of(w.post("/complete"))
    Bundle.model_validate(bundle)
    found = [entry["resource"] for entry in bundle["entry"]]
    approved = next(item for item in found if item["resourceType"] == "ClaimResponse" and "preAuthRef" in item)
    # Only the authorized order comes back, with its own id (the EHR updates it) and CRD's satisfied-pa-id.
    [order] = [item for item in found if item["resourceType"] != "ClaimResponse"]
    ServiceRequest.model_validate(order)
    assert (order["resourceType"], order["id"], order["code"]["coding"][0]["code"]) == (
        "ServiceRequest", "draft-0", "LAB-001")
    [information] = [item for item in order["extension"] if item["url"] == CRD]
    parts = {part["url"]: next(value for key, value in part.items() if key.startswith("value"))
             for part in information["extension"]}
    assert parts["satisfied-pa-id"] == approved["preAuthRef"] and approved["preAuthRef"].startswith("AUT-")
    assert (parts["covered"], parts["coverage-assertion-id"]) == ("covered", assertion_id)


def test_the_osigu_outcome_carries_the_coverage_assertion_back(widget):
    w = widget(host_app="his-a", widget="preauth", locale="en", context={"coverage_assertion_id": "cov_01ABC"})
    fill_in_ana_at_seguros_andinos(w, products=(("LAB-001", 1),))
    outcome = success_of(w.post("/complete"))
    assert outcome["coverage_assertion_id"] == "cov_01ABC" and outcome["status"] == "APPROVED"


def test_without_fhir_references_the_claim_response_names_the_sponsors_beneficiary(widget):
    w = widget(host_app="ehr-a", widget="preauth", locale="en")
    fill_in_ana_at_seguros_andinos(w, products=(("LAB-001", 1),))
    [response] = resources(success_of(w.post("/complete")), "ClaimResponse")
    assert response["patient"] == {"type": "Patient", "identifier": {"system": f"{OSIGU}/beneficiary-id",
                                                                     "value": "ben_SA0001"}}
    assert "extension" not in response and review_action(response) == "A1"
