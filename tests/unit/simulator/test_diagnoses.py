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
