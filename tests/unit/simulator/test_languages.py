"""Language fallbacks and the words searches compare."""

from simulator.languages import pick, words


def test_portuguese_falls_back_to_spanish_then_english():
    assert pick({"en": "tablet", "es": "comprimido", "pt": "comprimido revestido"}, "pt") == "comprimido revestido"
    assert pick({"en": "Headache", "es": "Cefalea", "pt": None}, "pt") == "Cefalea"
    assert pick({"en": "Headache"}, "pt") == "Headache"
    assert pick({"en": "Headache", "es": "Cefalea"}, "en") == "Headache"


def test_words_ignore_case_accents_and_punctuation():
    assert words("Ácido fólico, 5 mg/mL") == ["acido", "folico", "5", "mg", "ml"]
