"""Every user-facing string is marked, and translated into Spanish, English and Portuguese."""

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[3]
TRANSLATIONS = ROOT / "widgets" / "translations"
METHODS = [("widgets/**.py", "python"), ("bff/**.py", "python"), ("widgets/**/templates/**.html", "jinja2")]
KEYWORDS = DEFAULT_KEYWORDS | {"_l": None}  # flask_babel.lazy_gettext, imported as _l


def marked_strings():
    """Every marked message id (a plural's singular form stands for it)."""
    # extract_from_dir yields (filename, lineno, message, comments, context); a plural's message is a tuple
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)
    return {item[2] if isinstance(item[2], str) else item[2][0] for item in found}


def translated(message):
    """Whether a catalogue message has its translation (every plural form, for a plural)."""
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)


def catalog(locale, kind="po"):
    path = TRANSLATIONS / locale / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as handle:
        return read_po(handle) if kind == "po" else read_mo(handle)


@pytest.mark.parametrize("locale", ["es", "en", "pt"])
def test_every_marked_string_is_translated(locale):
    done = {(message.id if isinstance(message.id, str) else message.id[0]) for message in catalog(locale)
            if message.id and translated(message)}
    missing = sorted(text for text in marked_strings() if text not in done)
    assert marked_strings(), "no string is marked for translation: the extraction is broken"
    assert missing == [], f"untranslated in {locale}: {missing}"


@pytest.mark.parametrize("locale", ["es", "en", "pt"])
def test_the_compiled_catalog_matches_its_source(locale):
    def entries(messages):
        return {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string if isinstance(m.string, str)
                else tuple(m.string) for m in messages if m.id}

    source, compiled = entries(catalog(locale)), entries(catalog(locale, "mo"))
    assert compiled == source, "run: pybabel compile -d widgets/translations"
