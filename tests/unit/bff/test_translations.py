"""Every user-facing string is marked, and translated into Spanish and English."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[3]
TRANSLATIONS = ROOT / "widgets" / "translations"
METHODS = [("widgets/**.py", "python"), ("bff/**.py", "python"), ("widgets/**/templates/**.html", "jinja2")]


def marked_strings():
    # extract_from_dir yields (filename, lineno, message, comments, context)
    return {found[2] for found in extract_from_dir(str(ROOT), METHODS) if isinstance(found[2], str)}


def catalog(locale, kind="po"):
    path = TRANSLATIONS / locale / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as handle:
        return read_po(handle) if kind == "po" else read_mo(handle)


@pytest.mark.parametrize("locale", ["es", "en"])
def test_every_marked_string_is_translated(locale):
    translated = {message.id: message.string for message in catalog(locale) if message.id}
    missing = sorted(text for text in marked_strings() if not translated.get(text))
    assert marked_strings(), "no string is marked for translation: the extraction is broken"
    assert missing == [], f"untranslated in {locale}: {missing}"


@pytest.mark.parametrize("locale", ["es", "en"])
def test_the_compiled_catalog_matches_its_source(locale):
    source = {m.id: m.string for m in catalog(locale) if m.id}
    compiled = {m.id: m.string for m in catalog(locale, "mo") if m.id}
    assert compiled == source, "run: pybabel compile -d widgets/translations"
