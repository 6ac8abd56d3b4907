"""The catalogue in Spanish and Portuguese beside English: searched in either, answered in Accept-Language."""

import pytest

SPANISH = {"Accept-Language": "es-CO,es;q=0.9"}
PORTUGUESE = {"Accept-Language": "pt-PT"}


def medications(session, query, headers=None):
    response = session.get("/medical-catalogs/v1/medications", params={"query": query}, headers=headers)
    assert response.status_code == 200
    return response.json()["data"]


def diagnoses(session, query, headers=None):
    response = session.get("/medical-catalogs/v1/diagnoses", params={"query": query, "page_size": 100},
                           headers=headers)
    assert response.status_code == 200
    return response.json()["data"]


@pytest.mark.parametrize("query, inn", [("ibuprofeno", "ibuprofen"), ("amoxicilina", "amoxicillin"),
                                        ("acido folico", "folic acid"), ("ÁCIDO FÓLICO", "folic acid")])
def test_spanish_inns_find_the_medicines(clinic, query, inn):
    found = medications(clinic, query)
    assert found and found[0]["inn"] == inn


def test_a_medication_is_named_in_the_requested_language_and_its_codes_do_not_change(clinic):
    english, spanish, portuguese = (medications(clinic, "MED-042", headers)[0]
                                    for headers in (None, SPANISH, PORTUGUESE))
    assert (english["name"], english["form"], english["presentation"]) == ("Paracetamol 500 mg tablet", "tablet",
                                                                         "box of 20")
    assert (spanish["name"], spanish["form"], spanish["presentation"]) == ("Paracetamol 500 mg comprimido",
                                                                         "comprimido", "caja de 20")
    assert portuguese["presentation"] == "caixa de 20"
    for product in (english, spanish, portuguese):
        assert (product["product_code"], product["inn"], product["form_code"]) == ("MED-042", "paracetamol", "tablet")


def test_syrups_read_jarabe_in_spanish(clinic):
    found = medications(clinic, "jarabe", SPANISH)
    assert found and all(p["form"] == "jarabe" and p["form_code"] == "syrup" for p in found)


def test_medication_words_match_only_at_the_start_of_a_word(clinic):
    # "profeno" is inside "ibuprofeno" but starts no word.
    assert medications(clinic, "profeno") == []
    assert medications(clinic, "ibu")[0]["inn"] == "ibuprofen"


def test_registered_products_are_named_in_the_requested_language(clinic):
    response = clinic.get("/arc/v1/providers/products", params={"query": "amoxicilina", "product_type": "MEDICATION"},
                          headers=SPANISH)
    assert response.status_code == 200
    products = response.json()["data"]
    assert products and all(p["name"].startswith(("Amoxicilina", "Amoxil")) for p in products)


@pytest.mark.parametrize("query, code", [("cefalea", "R51"), ("Cefalea", "R51"), ("asma", "J45"),
                                         ("diabetes mellitus tipo 2", "E11"), ("lumbalgia", "M54.5"),
                                         ("hipertension", "I10")])
def test_spanish_words_find_the_diagnosis_first(clinic, query, code):
    assert diagnoses(clinic, query)[0]["diagnosis_code"] == code


def test_asma_finds_asthma_and_not_myeloma(clinic):
    found = diagnoses(clinic, "asma", SPANISH)
    assert [d["diagnosis_code"] for d in found[:2]] == ["J45", "J45.9"]
    # "plasmacytoma" contains "asma", but no word of it starts with it.
    assert not [d for d in found if d["diagnosis_code"].startswith("C90")]


def test_diagnoses_are_titled_in_the_requested_language(clinic):
    assert diagnoses(clinic, "R51")[0]["description"] == "Headache"
    assert diagnoses(clinic, "R51", SPANISH)[0]["description"] == "Cefalea"
    # No Portuguese titles: Spanish is the fallback.
    assert diagnoses(clinic, "R51", PORTUGUESE)[0]["description"] == "Cefalea"
    # An unknown language is English.
    assert diagnoses(clinic, "R51", {"Accept-Language": "de"})[0]["description"] == "Headache"


def test_english_words_still_find_diagnoses_in_a_spanish_session(clinic):
    found = diagnoses(clinic, "low back pain", SPANISH)
    assert found[0]["diagnosis_code"] == "M54.5"
    assert found[0]["description"] == "Lumbago no especificado"
