"""The languages the simulator answers in (en, es, pt): chosen from Accept-Language, with fallbacks."""

import re
import unicodedata

from flask import request

LANGUAGES = ("en", "es", "pt")
# Portuguese names are missing for much of the catalogue; Spanish is closer to it than English.
FALLBACKS = {"en": ("en",), "es": ("es", "en"), "pt": ("pt", "es", "en")}


def requested():
    """The language this request asks for in Accept-Language, if we speak it; else en."""
    return request.accept_languages.best_match(LANGUAGES, default="en")


def pick(texts, language):
    """Take the text in language from {language: text}, falling back (pt → es → en) where it is missing."""
    return next((texts[each] for each in FALLBACKS[language] if texts.get(each)), None)


def normalise(text):
    """Lower-case and strip accents so 'Cefalea', 'cefalea' and 'céfalea' match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text):
    """The searchable words of text: normalised, punctuation dropped ("Ácido fólico 5 mg" → "acido folico 5 mg")."""
    return re.findall(r"[a-z0-9]+", normalise(text))
