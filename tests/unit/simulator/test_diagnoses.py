"""ICD-10 search: codes, words, accents and synonyms."""

from simulator import diagnoses


def codes(query):
    return [d["diagnosis_code"] for d in diagnoses.search(query)]


def test_code_prefix_lists_the_category_and_its_subcategories():
    assert codes("J45")[:3] == ["J45", "J45.0", "J45.1"]


def test_words_match_in_any_order_and_case():
    assert "I10" in codes("HYPERTENSION essential")


def test_accents_do_not_matter():
    assert codes("dolor de cabeza")[0] == codes("cefalea")[0] == "R51"


def test_chapters_and_blocks_are_not_diagnoses():
    assert not diagnoses.exists("XVIII")
    assert not diagnoses.exists("R50-R69")
    assert diagnoses.exists("R51") and not diagnoses.exists("R51.9")


def test_a_title_equal_to_the_query_comes_first_then_the_category_before_its_subcategories():
    assert codes("asma")[:3] == ["J45", "J45.9", "J45.0"]


def test_words_must_start_a_word():
    assert "C90.2" not in codes("asma")  # plasmacytoma
    assert "M54.5" in codes("lumba") and "M54.5" not in codes("umbago")


def test_titles_come_in_spanish_with_english_as_the_fallback():
    assert diagnoses.describe("E11", "es")["description"] == "Diabetes mellitus no insulinodependiente"
    assert diagnoses.describe("E11", "pt")["description"] == "Diabetes mellitus no insulinodependiente"
    assert diagnoses.describe("E11", "en")["description"] == "Type 2 diabetes mellitus"
    missing = next(code for code in ("A09.0", "A09.9", "B98") if diagnoses.titles(code)["es"] is None)
    assert diagnoses.describe(missing, "es")["description"] == diagnoses.titles(missing)["en"]
