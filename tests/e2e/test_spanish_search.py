"""A Spanish-speaking doctor searches the catalogue in Spanish and reads it in Spanish, in a real Chromium."""

import pytest
from test_prescription import WORDS, assert_accessible, expect_step, open_his, start

pytestmark = pytest.mark.e2e


def offered(frame, label):
    """What each item of the results list (by its accessible name) says, its button aside."""
    results = frame.get_by_role("list", name=label)
    results.wait_for()
    return [" ".join(item.split()) for item in results.locator("li > span:first-child").all_inner_texts()]


def search(frame, field, query, first_result):
    """Type a query in the search field and wait until the results show first_result."""
    frame.get_by_label(field).fill(query)
    frame.locator(".osigu-results li", has_text=first_result).first.wait_for()


def test_a_spanish_doctor_finds_diagnoses_and_medicines_by_their_spanish_names(page, his):
    words = WORDS["es"]
    open_his(page, his)
    frame = start(page, "v1", "es")
    expect_step(frame, "es", "diagnoses")

    search(frame, words["search_dx"], "cefalea", "R51")
    assert "R51 Cefalea" in offered(frame, "Diagnósticos encontrados")
    search(frame, words["search_dx"], "asma", "J45")
    found = offered(frame, "Diagnósticos encontrados")
    assert found[0].startswith("J45 Asma"), found  # the whole word first, not "mieloma"
    assert_accessible(page, "diagnosis results")
    frame.get_by_role("button", name="Añadir J45", exact=True).click()
    frame.locator(".osigu-chosen", has_text="J45").wait_for()
    frame.get_by_role("button", name=words["continue"]).click()

    expect_step(frame, "es", "medications")
    search(frame, words["search_med"], "ibuprofeno", "Ibuprofeno")
    medicines = offered(frame, "Medicamentos registrados")
    assert "Ibuprofeno 400 mg comprimido · caja de 20" in medicines, medicines
    search(frame, words["search_med"], "amoxicilina", "Amoxicilina")
    medicines = offered(frame, "Medicamentos registrados")
    assert "Amoxicilina 875 mg comprimido · caja de 14" in medicines, medicines
    assert not any("tablet" in item or "box of" in item for item in medicines)  # nothing left in English
    assert_accessible(page, "medication results")
    frame.get_by_role("button", name="Recetar Amoxicilina 875 mg comprimido, caja de 14", exact=True).click()
    frame.get_by_label(words["days"]).wait_for()
