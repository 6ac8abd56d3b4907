"""The CDS Hooks coverage service (order-select, order-sign) and POST /v1/coverage-check, against the simulator's
sponsors: covered, pre-authorization needed, documents needed, not covered with and without an equivalent."""

import json

import pytest
import requests
from joserfc.jwk import ECKey

from bff import contexts
from bff.coverage import CoverageAssertion
from bff.db import db

CRD = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
OSIGU = "https://osigu.com/fhir"
SIGN, SELECT = "osigu-coverage-order-sign", "osigu-coverage-order-select"


def order(number, code, quantity=1, kind=None):
    kind = kind or ("MedicationRequest" if code.startswith("MED-") else "ServiceRequest")
    concept = {"coding": [{"system": f"{OSIGU}/product-code", "code": code}]}
    resource = {"resourceType": kind, "id": f"draft-{number}", "status": "draft", "intent": "order",
                "subject": {"reference": "Patient/ana-17"},
                "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "R51"}]}]}
    if kind == "MedicationRequest":
        return resource | {"medicationCodeableConcept": concept, "dispenseRequest": {"quantity": {"value": quantity}}}
    return resource | {"code": concept, "quantityQuantity": {"value": quantity}}


def hook_body(*codes, hook="order-sign", sponsor="seguros-andinos", selections=None):
    orders = [order(number, code) for number, code in enumerate(codes)]
    context = {"userId": "Practitioner/dr-7", "patientId": "ana-17",
               "draftOrders": {"resourceType": "Bundle", "type": "collection",
                               "entry": [{"resource": resource} for resource in orders]}}
    if hook == "order-select":
        context["selections"] = selections or [f"{orders[0]['resourceType']}/draft-0"]
    coverage = {"resourceType": "Coverage", "id": "cov-ana", "status": "active",
                "beneficiary": {"reference": "Patient/ana-17"},
                "payor": [{"identifier": {"system": f"{OSIGU}/sponsor", "value": sponsor}}]}
    return {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "context": context,
            "prefetch": {"coverage": {"resourceType": "Bundle", "type": "searchset",
                                      "entry": [{"resource": coverage}]}}}


def coverage_of(answer):
    """{product code: {sub-extension url: value(s)}} from the answer's system actions."""
    found = {}
    for action in answer["systemActions"]:
        resource = action["resource"]
        concept = resource.get("medicationCodeableConcept") or resource["code"]
        [extension] = [item for item in resource["extension"] if item["url"] == CRD]
        parts = {}
        for part in extension["extension"]:
            value = next(value for key, value in part.items() if key.startswith("value"))
            parts.setdefault(part["url"], []).append(value)
        found[concept["coding"][0]["code"]] = {url: values if url == "doc-needed" else values[0]
                                               for url, values in parts.items()}
    return found


def check_card_rules(cards):
    for card in cards:
        assert len(card["summary"]) <= 140 and card["source"]["label"] == "Seguros Andinos"
        assert card["indicator"] in ("info", "warning")


def test_discovery_lists_both_services_with_the_coverage_prefetch(bff_url):
    services = requests.get(f"{bff_url}/cds-services", timeout=10).json()["services"]
    assert {(service["id"], service["hook"]) for service in services} == {
        (SELECT, "order-select"), (SIGN, "order-sign")}
    assert all(service["prefetch"]["coverage"].startswith("Coverage?patient={{context.patientId}}")
               for service in services)


def test_order_sign_says_what_each_order_needs(call_hook, bff_app):
    # At Seguros Andinos: a blood count is approved at once; an X-ray needs the medical order; a CT is also
    # reviewed; sildenafil is excluded, and so is its only other brand.
    answered = call_hook(SIGN, hook_body("LAB-001", "IMG-001", "IMG-020", "MED-287"))
    assert answered.status_code == 200, answered.text
    answer = answered.json()
    said = coverage_of(answer)
    assert {code: (item["covered"], item.get("pa-needed"), item.get("doc-needed")) for code, item in said.items()} == {
        "LAB-001": ("covered", "no-auth", None),
        "IMG-001": ("covered", "auth-needed", ["clinical"]),
        "IMG-020": ("covered", "auth-needed", ["clinical"]),
        "MED-287": ("not-covered", None, None),
    }
    assertion_ids = {item["coverage-assertion-id"] for item in said.values()}
    assert len(assertion_ids) == 1 and all(item["coverage"] == {"reference": "Coverage/cov-ana"}
                                           for item in said.values())
    with bff_app.app_context():
        stored = db.session.get(CoverageAssertion, assertion_ids.pop())
        assert stored.host_app_id == "ehr-a" and stored.sponsor_slug == "seguros-andinos"

    cards = answer["cards"]
    check_card_rules(cards)
    [not_covered] = [card for card in cards if "not covered" in card["summary"]]
    assert not_covered["indicator"] == "warning" and "suggestions" not in not_covered  # no covered equivalent
    [preauth] = [card for card in cards if card.get("links")]
    assert preauth["indicator"] == "warning" and "pre-authorization" in preauth["summary"]
    assert "send the medical order" in preauth["detail"] and "reviewed by the sponsor" in preauth["detail"]
    [link] = preauth["links"]
    assert link["type"] == "smart" and link["url"].endswith("/smart/preauth/launch")
    context = json.loads(link["appContext"])
    assert contexts.validate("preauth", context) == context  # a preauth session opens with it as it is
    assert context["sponsor"] == "seguros-andinos" and context["diagnoses"] == ["R51"]
    assert [item["product_code"] for item in context["products"]] == ["LAB-001", "IMG-001", "IMG-020"]


def test_a_reviewed_category_needs_a_pre_authorization(call_hook, sponsor_rules):
    sponsor_rules("seguros-andinos", review_categories=["Haematology"])
    answer = call_hook(SIGN, hook_body("LAB-001")).json()
    assert coverage_of(answer)["LAB-001"]["pa-needed"] == "auth-needed"
    assert "doc-needed" not in coverage_of(answer)["LAB-001"]
    [card] = answer["cards"]
    assert card["indicator"] == "warning" and card["detail"].endswith("reviewed by the sponsor")


def test_a_covered_order_alone_gets_an_info_link(call_hook):
    [card] = call_hook(SIGN, hook_body("LAB-001")).json()["cards"]
    assert card["indicator"] == "info" and card["links"][0]["type"] == "smart"
    assert "detail" not in card  # nothing to do beforehand (CDS Hooks: an absent detail, never null)


def test_an_excluded_product_with_a_covered_equivalent_is_offered_it(call_hook, sponsor_rules):
    sponsor_rules("seguros-andinos", excluded_products=["MED-002"])  # Amoxil; generic amoxicillin is covered
    answer = call_hook(SIGN, hook_body("MED-002")).json()
    assert coverage_of(answer)["MED-002"]["covered"] == "not-covered"
    [card] = answer["cards"]
    check_card_rules(answer["cards"])
    assert card["indicator"] == "warning" and card["selectionBehavior"] == "at-most-one"
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-0"
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "MED-001"


def test_order_select_answers_for_the_selected_orders_only(call_hook):
    answer = call_hook(SELECT, hook_body("LAB-001", "IMG-020", hook="order-select",
                                         selections=["ServiceRequest/draft-1"])).json()
    assert set(coverage_of(answer)) == {"IMG-020"}


def test_without_an_osigu_sponsor_in_the_prefetch_there_is_nothing_to_say(call_hook):
    body = hook_body("LAB-001")
    body["prefetch"] = {}
    assert call_hook(SIGN, body).json() == {"cards": []}


def test_a_hook_the_service_does_not_answer_is_refused(call_hook):
    assert call_hook(SIGN, hook_body("LAB-001", hook="order-select")).status_code == 400


@pytest.mark.parametrize("case", ["none", "not a jwt", "unknown issuer", "another key", "wrong audience", "expired"])
def test_a_call_without_the_ehrs_valid_jwt_is_refused(call_hook, ehr, bff_url, case):
    url = f"{bff_url}/cds-services/{SIGN}"
    tokens = {
        "not a jwt": "not-a-jwt",
        "unknown issuer": ehr.token(url, issuer="https://other-ehr.example.org"),
        "another key": ehr.token(url, key=ECKey.generate_key("P-384", private=True)),
        "wrong audience": ehr.token(f"{bff_url}/cds-services/{SELECT}"),
        "expired": ehr.token(url, expires_in=-120),
    }
    headers = {} if case == "none" else {"Authorization": f"Bearer {tokens[case]}"}
    refused = call_hook(SIGN, hook_body("LAB-001"), headers=headers or {"X-No-Auth": "1"})
    assert refused.status_code == 401 and refused.json()["error_code"] == "CDS-401"
    assert "ehr.example.org" not in refused.text  # the refusal names no issuer it knows


def test_coverage_check_gives_the_hooks_answer_as_json(call_hook, bff_url, bff_app):
    codes = ("LAB-001", "IMG-020", "MED-287")
    hooked = coverage_of(call_hook(SIGN, hook_body(*codes)).json())
    checked = requests.post(f"{bff_url}/v1/coverage-check", timeout=15,
                            headers={"Authorization": "Bearer ehr-a-api-key-0123456789"},
                            json={"sponsor": "seguros-andinos", "diagnoses": ["R51"],
                                  "products": [{"product_code": code, "quantity": 1} for code in codes]})
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert answer["sponsor"] == {"sponsor_slug": "seguros-andinos", "name": "Seguros Andinos"}
    for item in answer["orders"]:
        said = hooked[item["product_code"]]
        assert (item["covered"], item.get("pa_needed"), item.get("doc_needed") or None) == (
            said["covered"], said.get("pa-needed"), said.get("doc-needed"))
    assert [item["status"] for item in answer["orders"]] == ["covered", "documents-needed", "not-covered"]
    assert answer["preauth_context"]["coverage_assertion_id"] == answer["coverage_assertion_id"]
    with bff_app.app_context():
        assert db.session.get(CoverageAssertion, answer["coverage_assertion_id"]).host_app_id == "ehr-a"


@pytest.mark.parametrize("body, status", [
    ({"sponsor": "seguros-andinos", "products": []}, 422),
    ({"sponsor": "../x", "products": [{"product_code": "LAB-001"}]}, 422),
    ({"sponsor": "seguros-andinos", "products": [{"product_code": "LAB-001", "quantity": 0}]}, 422),
    ({"sponsor": "no-such-sponsor", "products": [{"product_code": "LAB-001"}]}, 404),
])
def test_coverage_check_refuses_what_it_cannot_answer(bff_url, body, status):
    refused = requests.post(f"{bff_url}/v1/coverage-check", json=body, timeout=15,
                            headers={"Authorization": "Bearer ehr-a-api-key-0123456789"})
    assert refused.status_code == status, refused.text


def test_coverage_check_needs_the_host_apps_key(bff_url):
    assert requests.post(f"{bff_url}/v1/coverage-check", json={}, timeout=10).status_code == 401
