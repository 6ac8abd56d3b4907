"""Medical catalogues: medications, ICD-10 diagnoses and ARC products."""

import pytest


def test_medication_search_finds_paracetamol_as_med_042(clinic):
    response = clinic.get("/medical-catalogs/v1/medications", params={"query": "paracetamol"})
    assert response.status_code == 200
    products = response.json()["data"]
    med_042 = next(p for p in products if p["product_code"] == "MED-042")
    assert med_042["inn"] == "paracetamol"
    assert med_042["strength"] == "500 mg" and med_042["form"] == "tablet"
    assert {p["inn"] for p in products} == {"paracetamol"}


def test_medication_catalogue_is_real_world_sized_and_paginated(clinic):
    first = clinic.get("/medical-catalogs/v1/medications", params={"page_size": 100}).json()
    assert first["pagination"]["total_items"] >= 200
    assert len(first["data"]) == 100
    second = clinic.get("/medical-catalogs/v1/medications", params={"page_size": 100, "page": 2}).json()
    assert not {p["product_code"] for p in first["data"]} & {p["product_code"] for p in second["data"]}


def test_medication_search_matches_brand_names(clinic):
    products = clinic.get("/medical-catalogs/v1/medications", params={"query": "panadol"}).json()["data"]
    assert products and all(p["brand"] == "Panadol" for p in products)


@pytest.mark.parametrize("query", ["cephalgia", "headache", "cefalea", "R51"])
def test_diagnosis_search_finds_r51(clinic, query):
    response = clinic.get("/medical-catalogs/v1/diagnoses", params={"query": query})
    assert response.status_code == 200
    codes = [d["diagnosis_code"] for d in response.json()["data"]]
    assert codes[0] == "R51"


def test_diagnoses_are_the_who_classification(clinic):
    body = clinic.get("/medical-catalogs/v1/diagnoses", params={"query": "J45"}).json()
    codes = {d["diagnosis_code"]: d["description"] for d in body["data"]}
    assert codes["J45.0"] == "Predominantly allergic asthma"
    everything = clinic.get("/medical-catalogs/v1/diagnoses", params={"page_size": 1}).json()
    assert everything["pagination"]["total_items"] > 10000


@pytest.mark.parametrize("product_type, prefix", [("LAB", "LAB-"), ("IMAGING", "IMG-"),
                                                  ("PROCEDURE", "PRC-"), ("MEDICATION", "MED-")])
def test_arc_products_by_type(clinic, product_type, prefix):
    response = clinic.get("/arc/v1/products", params={"product_type": product_type})
    assert response.status_code == 200
    products = response.json()["data"]
    assert products and all(p["product_type"] == product_type and p["product_code"].startswith(prefix)
                            for p in products)


def test_arc_products_search(clinic):
    products = clinic.get("/arc/v1/products", params={"product_type": "LAB", "query": "hba1c"}).json()["data"]
    assert [p["name"] for p in products] == ["Glycated haemoglobin (HbA1c)"]


@pytest.mark.parametrize("params, field", [({"product_type": "DRUG"}, "product_type"), ({"page_size": 0}, "page_size"),
                                           ({"page_size": 101}, "page_size"), ({"page": "x"}, "page")])
def test_bad_filters_are_422_naming_the_field(clinic, params, field):
    response = clinic.get("/arc/v1/products", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "000-422"
    assert body["details"][0]["field"] == field
