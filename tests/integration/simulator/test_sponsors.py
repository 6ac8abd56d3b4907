"""Sponsors differ in every rule; beneficiaries are searched only through each sponsor's own form."""

import pytest


def test_four_sponsors_of_every_kind(hospital):
    sponsors = hospital.get("/arc/v1/sponsors").json()["data"]
    assert {s["kind"] for s in sponsors} == {"INSURER", "EPS", "ARS", "EMPLOYER"}


def test_configurations_differ_in_every_dimension(hospital, sponsor_searches):
    configs = [hospital.get(f"/arc/v1/sponsors/{slug}/configuration").json() for slug in sponsor_searches]
    for dimension in ("beneficiary_search", "covered_product_types", "support_documents", "verification",
                      "substitution_policy", "authorization_grouping"):
        values = [repr(config[dimension]) for config in configs]
        assert len(set(values)) > 1, dimension
    assert {c["substitution_policy"] for c in configs} == {
        "NONE", "SAME_INN_OTHER_BRAND", "SAME_ACTIVE_INGREDIENT_OTHER_PRESENTATION"}


def test_configuration_can_render_a_form(hospital):
    config = hospital.get("/arc/v1/sponsors/eps-vital/configuration").json()
    document_type, document_number = config["beneficiary_search"]["fields"]
    assert document_type["type"] == "select" and document_type["label"]["es"] == "Tipo de documento"
    citizenship_card = {"value": "CC", "label": {"es": "Cédula de ciudadanía", "en": "Citizenship card"}}
    assert citizenship_card in document_type["options"]
    assert document_number["required"] is True and document_number["pattern"]
    assert config["support_documents"]["LAB"] == [
        {"document_type": "MEDICAL_ORDER", "label": {"es": "Orden médica", "en": "Medical order"}, "required": True}]
    assert config["document_rules"]["max_bytes"] == 5 * 1024 * 1024


def test_unknown_sponsor_is_404(hospital):
    response = hospital.get("/arc/v1/sponsors/nobody/configuration")
    assert response.status_code == 404 and response.json()["error_code"] == "061-100"


@pytest.mark.parametrize("sponsor, name", [("seguros-andinos", "Ana"), ("eps-vital", "Carlos"),
                                           ("ars-caribe", "Mateo"), ("acme-salud", "Sofía")])
def test_each_sponsor_finds_its_beneficiary_with_its_own_fields(find_beneficiary, sponsor, name):
    beneficiary = find_beneficiary(sponsor)
    assert beneficiary["first_name"] == name and beneficiary["sponsor_slug"] == sponsor
    assert beneficiary["eligibility"]["status"] == "ACTIVE"


def test_eligibility_shows_plan_exclusions_and_suspensions(find_beneficiary):
    excluded = find_beneficiary("seguros-andinos", policy_number="SA-10000002")
    assert "IMAGING" not in excluded["eligibility"]["covered_product_types"]
    suspended = find_beneficiary("seguros-andinos", policy_number="SA-10000003")
    assert suspended["eligibility"]["status"] == "SUSPENDED"


@pytest.mark.parametrize("sponsor, fields, field", [
    ("seguros-andinos", {"document_type": "CC", "document_number": "1000000001"}, "document_type"),
    ("ars-caribe", {"card_number": "00100000041"}, "date_of_birth"),
    ("ars-caribe", {"card_number": "00100000041", "date_of_birth": "30/06/2012"}, "date_of_birth"),
    ("eps-vital", {"document_type": "SSN", "document_number": "1000000002"}, "document_type"),
    ("acme-salud", {"employee_number": "42", "date_of_birth": "1980-01-01"}, "employee_number"),
])
def test_a_wrong_combination_of_fields_is_a_clear_422(hospital, sponsor, fields, field):
    response = hospital.post(f"/arc/v1/sponsors/{sponsor}/beneficiaries/search", json=fields)
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "061-103"
    assert field in {problem["field"] for problem in body["details"]}


def test_no_match_is_404_not_an_empty_200(hospital):
    response = hospital.post("/arc/v1/sponsors/ars-caribe/beneficiaries/search",
                             json={"card_number": "00100000041", "date_of_birth": "2012-07-01"})
    assert response.status_code == 404 and response.json()["error_code"] == "061-101"


def test_the_pharmacy_may_not_search_beneficiaries(pharmacy, sponsor_searches):
    response = pharmacy.post("/arc/v1/sponsors/eps-vital/beneficiaries/search", json=sponsor_searches["eps-vital"])
    assert response.status_code == 403
