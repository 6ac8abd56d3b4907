"""The structured posology reads as a sentence in the doctor's language."""

import pytest
from flask import Flask, g
from flask_babel import Babel

from bff.i18n import TRANSLATIONS
from widgets.prescription import posology


@pytest.fixture
def in_locale():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=lambda: g.locale)

    def describe(locale, **line):
        with app.test_request_context():
            g.locale = locale
            return posology.describe(line)

    return describe


@pytest.mark.parametrize(("locale", "line", "sentence"), [
    ("es", {"dose": 1, "unit": "tablet", "every_hours": 8, "duration_days": 10},
     "1 comprimido cada 8 horas durante 10 días"),
    ("en", {"dose": 1, "unit": "tablet", "every_hours": 8, "duration_days": 10}, "1 tablet every 8 hours for 10 days"),
    ("es", {"dose": 0.5, "unit": "tablet", "every_hours": 24, "duration_days": 1},
     "0,5 comprimidos una vez al día durante 1 día"),
    ("en", {"dose": 2.5, "unit": "ml", "every_hours": 12, "duration_days": 5}, "2.5 mL every 12 hours for 5 days"),
    ("es", {"dose": 2, "unit": "puff", "every_hours": 6, "duration_days": 30},
     "2 inhalaciones cada 6 horas durante 30 días"),
    ("en", {"dose": 1, "unit": "drop", "every_hours": 4, "duration_days": 1}, "1 drop every 4 hours for 1 day"),
])
def test_posology_reads_as_a_sentence_with_plurals_and_decimals(in_locale, locale, line, sentence):
    assert in_locale(locale, **line) == sentence


@pytest.mark.parametrize(("form", "unit"), [
    ("tablet", "tablet"), ("film-coated tablet", "tablet"), ("oral suspension", "ml"), ("inhaler", "puff"),
    ("eye drops", "drop"), ("cream", "application"), ("something new", "tablet"),
])
def test_the_unit_is_suggested_from_the_products_form(form, unit):
    assert posology.unit_for_form(form) == unit
