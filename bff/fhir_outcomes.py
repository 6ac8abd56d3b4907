"""Widget outcomes as FHIR R4 Bundles, for host apps with `outcome_format: "fhir"` (DESIGN.md, Interoperability).

Osigu's codes are identifiers in the fixed systems below and products are codings in PRODUCT_CODE. The
host's own Patient and Encounter are referenced when the session's context names them (`context.fhir`);
otherwise the patient is an identifier in Osigu's system. A pre-authorization's review action is the X12
306 code Da Vinci PAS puts on each adjudication (A1 approved, A3 denied, A4 pended). A preauth opened from a
CDS Hooks card also returns the EHR's draft orders it was about, each product's order with its authorization
code as CRD's coverage-information `satisfied-pa-id` (with its id: the EHR updates its own order); an order
whose product got no authorization is left out, untouched: its ClaimResponse says what was decided.
"""

import uuid
from datetime import UTC, datetime

OSIGU = "https://osigu.com/fhir"
PRESCRIPTION_CODE = f"{OSIGU}/prescription-code"
AUTHORIZATION_CODE = f"{OSIGU}/authorization-code"
DISPENSATION_ID = f"{OSIGU}/dispensation-id"
PRODUCT_CODE = f"{OSIGU}/product-code"
# Not fixed by DESIGN.md: the other Osigu ids an outcome carries, in systems of the same family.
PATIENT_ID = f"{OSIGU}/patient-id"
BENEFICIARY_ID = f"{OSIGU}/beneficiary-id"
SPONSOR = f"{OSIGU}/sponsor"
PREAUTHORIZATION_ID = f"{OSIGU}/preauthorization-id"
CLAIM_ID = f"{OSIGU}/claim-id"
COVERAGE_ASSERTION = f"{OSIGU}/StructureDefinition/coverage-assertion-id"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
CRD_COVERAGE = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode"
X12_306 = "https://codesystem.x12.org/005010/306"
REVIEW_ACTIONS = {"APPROVED": ("A1", "Certified in total"), "REJECTED": ("A3", "Not Certified"),
                  "PENDING": ("A4", "Pended")}
UCUM = "http://unitsofmeasure.org"
# Bundle and entry ids come from the outcome: a replayed outcome is the same Bundle, which the host dedupes on.
BUNDLE_NAMESPACE = uuid.UUID("5b0f8c43-56c1-4f0e-9a57-3f1c4c0a9e21")


def bundle(widget, outcome, draft=None, context=None, orders=()):
    """The outcome as a `collection` Bundle: MedicationRequest, MedicationDispense or ClaimResponse entries,
    and for a preauth the host's orders (with their ids) it authorized."""
    context = context or {}
    build = {"prescription": _prescription, "dispensing": _dispensing, "preauth": _preauth}[widget]
    resources = build(outcome, draft, context)
    if widget == "preauth":
        resources += _authorized_orders(outcome, orders)
    key = _key(widget, outcome)
    found = {"resourceType": "Bundle", "id": str(uuid.uuid5(BUNDLE_NAMESPACE, key)), "type": "collection",
             "timestamp": _now()}
    if resources:  # FHIR JSON has no empty arrays: a completion that handed nothing over is an empty Bundle
        found["entry"] = [{"fullUrl": f"urn:uuid:{uuid.uuid5(BUNDLE_NAMESPACE, f'{key}/{number}')}",
                           "resource": resource} for number, resource in enumerate(resources)]
    return found


def decided(decision, authorization, context=None, orders=()):
    """A sponsor's later decision on one authorization as a Bundle with its ClaimResponse (review action A1 or A3).

    decision is the `widget.preauth.decided` data; authorization is Osigu's (its products, sponsor, beneficiary);
    context the session's that made the request, if it is still kept.
    """
    item = {"authorization_code": decision["authorization_code"], "status": decision["status"],
            "product_codes": [line["product_code"] for line in authorization["products"]]}
    item |= {"reason": decision["reason"]} if decision.get("reason") else {}
    item |= {"expires_at": authorization["expires_at"]} if authorization.get("expires_at") else {}
    context = context or {}
    outcome = {"preauthorization_id": decision["preauthorization_id"], "status": decision["status"],
               "authorizations": [item]}
    if context.get("coverage_assertion_id"):
        outcome["coverage_assertion_id"] = context["coverage_assertion_id"]
    payer = {"sponsor": authorization["sponsor_slug"], "beneficiary_id": authorization["beneficiary_id"]}
    return bundle("preauth", outcome, None, context | payer, orders)


def _key(widget, outcome):
    """What names an outcome: its widget and the Osigu object (and state) it reports."""
    ids = {"prescription": ("prescription_id", "status"), "dispensing": ("dispensation_id", "code", "status"),
           "preauth": ("preauthorization_id", "status")}[widget]
    states = [f"{item.get('authorization_code')}:{item['status']}" for item in outcome.get("authorizations", [])]
    return "/".join([widget, *(str(outcome[name]) for name in ids), *states])


def _prescription(outcome, draft, context):
    lines = draft.lines if draft is not None else []
    patient = _patient(context, draft.patient.get("patient_id") if draft is not None and draft.patient else None)
    reasons = [{"coding": [{"system": ICD10, "code": item["diagnosis_code"]}]}
               for item in (draft.diagnoses if draft is not None else [])]
    code = {"system": PRESCRIPTION_CODE, "value": outcome["prescription_code"]}
    status = "cancelled" if outcome["status"] == "PRESCRIPTION_CANCELLED" else "active"
    resources = []
    for line in lines:
        request = {
            "resourceType": "MedicationRequest",
            "identifier": [code], "groupIdentifier": code, "status": status, "intent": "order",
            "medicationCodeableConcept": _product(line["product_code"]), "subject": patient,
            "authoredOn": outcome["created_at"],
            "dispenseRequest": {"quantity": {"value": line["quantity"]}},
            "substitution": {"allowedBoolean": bool(line.get("substitution_allowed"))},
        }
        if line.get("dose") and line.get("every_hours") and line.get("duration_days"):
            request["dosageInstruction"] = [{
                "timing": {"repeat": {"frequency": 1, "period": line["every_hours"], "periodUnit": "h",
                                      "boundsDuration": _days(line["duration_days"])}},
                "doseAndRate": [{"doseQuantity": {"value": line["dose"], "unit": line["unit"]}}],
            }]
            request["dispenseRequest"]["expectedSupplyDuration"] = _days(line["duration_days"])
        if reasons:
            request["reasonCode"] = reasons
        resources.append(request | _encounter(context, "encounter"))
    return resources


def _dispensing(outcome, draft, context):
    authorizing = ({"system": PRESCRIPTION_CODE} if outcome["code_type"] == "PRESCRIPTION"
                   else {"system": AUTHORIZATION_CODE}) | {"value": outcome["code"]}
    identifiers = [{"system": DISPENSATION_ID, "value": outcome["dispensation_id"]}]
    if outcome.get("claim_id"):
        identifiers.append({"system": CLAIM_ID, "value": outcome["claim_id"]})
    resources = []
    for line in outcome["lines"]:
        dispense = {
            "resourceType": "MedicationDispense",
            "identifier": identifiers, "status": "completed",
            "medicationCodeableConcept": _product(line["product_code"]),
            "quantity": {"value": line["quantity"]},
            "whenHandedOver": outcome["completed_at"],
            # The prescription or authorization redeemed: a logical reference, the host may not hold it.
            "authorizingPrescription": [{"identifier": authorizing}],
        }
        if "patient" in context.get("fhir", {}):
            dispense["subject"] = {"reference": context["fhir"]["patient"]}
        if line.get("substituted_for"):
            dispense["substitution"] = {"wasSubstituted": True, "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "E"}]}}
            dispense["note"] = [{"text": f"Substituted for {line['substituted_for']}"}]
        lot = [{"url": "lotNumber", "valueString": line["lot"]}] if line.get("lot") else []
        lot += [{"url": "expirationDate", "valueDate": line["expiry"]}] if line.get("expiry") else []
        if lot:  # R4's MedicationDispense has no lot of its own (Medication.batch would need a contained Medication)
            dispense["extension"] = [{"url": f"{OSIGU}/StructureDefinition/batch", "extension": lot}]
        resources.append(dispense | _encounter(context, "context"))
    return resources


def _preauth(outcome, draft, context):
    beneficiary = ((draft.beneficiary or {}).get("beneficiary_id") if draft is not None
                   else context.get("beneficiary_id"))
    patient = _patient(context, beneficiary, system=BENEFICIARY_ID)
    sponsor = ((draft.sponsor or {}).get("sponsor") or {}).get("sponsor_slug") if draft is not None else None
    sponsor = sponsor or context.get("sponsor")
    resources = []
    for item in outcome["authorizations"]:
        review_code, review_display = REVIEW_ACTIONS[item["status"]]
        identifiers = [{"system": PREAUTHORIZATION_ID, "value": outcome["preauthorization_id"]}]
        response = {
            "resourceType": "ClaimResponse",
            "status": "active",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                                 "code": _claim_type(item["product_codes"])}]},
            "use": "preauthorization",
            "patient": patient,
            "created": _now(),
            "insurer": {"identifier": {"system": SPONSOR, "value": sponsor}} if sponsor else _absent(),
            "outcome": "queued" if item["status"] == "PENDING" else "complete",
            "item": [{
                "itemSequence": number,
                "extension": [{"url": f"{OSIGU}/StructureDefinition/product", "valueCoding": {
                    "system": PRODUCT_CODE, "code": code}}],
                "adjudication": [{
                    "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication",
                                             "code": "submitted"}]},
                    "extension": [{"url": REVIEW_ACTION, "extension": [{"url": REVIEW_ACTION_CODE,
                                                                        "valueCodeableConcept": {"coding": [{
                                                                            "system": X12_306, "code": review_code,
                                                                            "display": review_display}]}}]}],
                }],
            } for number, code in enumerate(item["product_codes"], start=1)],
        }
        if item.get("authorization_code"):
            identifiers.insert(0, {"system": AUTHORIZATION_CODE, "value": item["authorization_code"]})
        if item.get("authorization_code") and item["status"] != "REJECTED":  # a denied code authorizes nothing
            response["preAuthRef"] = item["authorization_code"]
        if item.get("expires_at"):
            response["preAuthPeriod"] = {"end": item["expires_at"]}
        if item.get("reason"):
            response["disposition"] = item["reason"]
        if outcome.get("coverage_assertion_id"):
            response["extension"] = [{"url": COVERAGE_ASSERTION, "valueString": outcome["coverage_assertion_id"]}]
        resources.append(response | {"identifier": identifiers})
    return resources


def _authorized_orders(outcome, orders):
    """Each order whose product was authorized, its coverage-information carrying the authorization code."""
    codes = {code: item["authorization_code"] for item in outcome["authorizations"]
             if item["status"] == "APPROVED" and item.get("authorization_code") for code in item["product_codes"]}
    authorized = []
    for order in orders:
        concept = order.get("medicationCodeableConcept") or order.get("code") or {}
        code = next((codes[coding.get("code")] for coding in concept.get("coding", [])
                     if coding.get("system") == PRODUCT_CODE and coding.get("code") in codes), None)
        if code is None:
            continue
        satisfied = {"url": "satisfied-pa-id", "valueString": code}
        others = [item for item in order.get("extension", []) if item.get("url") != CRD_COVERAGE]
        information = next((item for item in order.get("extension", []) if item.get("url") == CRD_COVERAGE),
                           {"url": CRD_COVERAGE, "extension": []})
        information = information | {"extension": [*(part for part in information["extension"]
                                                      if part.get("url") != "satisfied-pa-id"), satisfied]}
        authorized.append(order | {"extension": [*others, information]})
    return authorized


def _product(code):
    return {"coding": [{"system": PRODUCT_CODE, "code": code}]}


def _claim_type(product_codes):
    """Pharmacy for medications only, professional for anything else (labs, imaging, procedures)."""
    return "pharmacy" if all(code.startswith("MED-") for code in product_codes) else "professional"


def _days(count):
    return {"value": count, "unit": "days", "system": UCUM, "code": "d"}


def _patient(context, osigu_id, system=PATIENT_ID):
    """The host's Patient when the context names it, else Osigu's id; unknown (data-absent) without either."""
    if "patient" in context.get("fhir", {}):
        return {"reference": context["fhir"]["patient"]}
    if osigu_id:
        return {"type": "Patient", "identifier": {"system": system, "value": osigu_id}}
    return _absent() | {"type": "Patient"}


def _encounter(context, field):
    encounter = context.get("fhir", {}).get("encounter")
    return {field: {"reference": encounter}} if encounter else {}


def _absent():
    return {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                           "valueCode": "unknown"}]}


def _now():
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
