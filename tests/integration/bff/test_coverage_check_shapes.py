"""POST /v1/coverage-check takes a product code and a sponsor slug of their exact shape: not null, not a number,
not one followed by a line break; diagnoses, if any, a list of ICD-10 codes (schemathesis found a null
product_code and a diagnoses object answered 200)."""

import pytest

PRODUCT = {"product_code": "MED-001", "quantity": 2}


@pytest.mark.parametrize("body", [
    {"sponsor": "seguros-andinos", "products": [{"product_code": None, "quantity": 1}]},
    {"sponsor": "seguros-andinos", "products": [{"product_code": 123}]},
    {"sponsor": "seguros-andinos", "products": [{"product_code": "MED-001\n"}]},
    {"sponsor": "seguros-andinos\n", "products": [PRODUCT]},
    {"sponsor": "seguros-andinos", "products": [PRODUCT], "diagnoses": {}},
    {"sponsor": "seguros-andinos", "products": [PRODUCT], "diagnoses": "R51"},
    {"sponsor": "seguros-andinos", "products": [PRODUCT], "diagnoses": ["R51", "headache"]},
    {"sponsor": "seguros-andinos", "products": [PRODUCT], "diagnoses": ["R51"] * 11},
])
def test_a_product_code_or_sponsor_of_another_shape_is_422(host, body):
    answer = host.post("/v1/coverage-check", json=body)
    assert answer.status_code == 422 and answer.json()["error_code"] == "BFF-422", answer.text


def test_a_product_code_of_the_right_shape_is_answered(host):
    answer = host.post("/v1/coverage-check", json={"sponsor": "seguros-andinos", "products": [PRODUCT],
                                                   "diagnoses": ["R51"]})
    assert answer.status_code == 200 and answer.json()["orders"][0]["product_code"] == "MED-001"
    assert answer.json()["preauth_context"]["diagnoses"] == ["R51"]
