"""Dates of birth that cannot be misread: typed in the widget's language's order (day first in Spanish), the format
shown, impossible and future dates refused, the date read back in words before it is saved."""

import re
from datetime import date

import pytest
from widget_client import invalid, step_of

NEW = {"first_name": "Elena", "last_name": "Sanz", "document_type": "CC", "document_number": "7700000101"}


def registering(widget, locale):
    w = widget(locale=locale)
    w.get("/resume")
    return w


@pytest.mark.parametrize("locale, shown, typed, words", [
    ("es", "Fecha de nacimiento (DD/MM/AAAA)", "15/03/1982", "Nacido/a el 15 de marzo de 1982"),
    ("en", "Date of birth (MM/DD/YYYY)", "03/15/1982", "Born March 15, 1982"),
])
def test_the_format_is_the_languages_and_the_date_is_read_back_in_words(widget, locale, shown, typed, words):
    w = registering(widget, locale)
    form = w.get("/patient/search", params={"document_type": "CC", "document_number": "7700000101"})
    assert shown in form.text
    assert w.get("/patient/date-of-birth", params={"date_of_birth": typed}).text == words


def test_a_spanish_day_first_date_is_saved_as_typed(widget, simulator_url):
    w = registering(widget, "es")
    created = w.post("/patient/new", data=NEW | {"date_of_birth": "15/03/1982"})
    assert step_of(created) == "diagnoses" and "Elena Sanz" in created.text
    found = w.get("/patient/search", params={"document_type": "CC", "document_number": "7700000101"})
    assert "15 mar 1982" in found.text  # not 3 December


@pytest.mark.parametrize("typed", ["31/02/1982", "15/13/1982", "15/03/82", "1982", f"01/01/{date.today().year + 1}",
                                   "01/01/1850"])
def test_impossible_and_future_dates_are_refused(widget, typed):
    w = registering(widget, "es")
    refused = w.post("/patient/new", data=NEW | {"document_number": "7700000102", "date_of_birth": typed})
    assert invalid(refused) and "Introduzca una fecha de nacimiento real" in refused.text
    echo = w.get("/patient/date-of-birth", params={"date_of_birth": typed})
    assert "No es una fecha de nacimiento posible: escríbala como DD/MM/AAAA." in echo.text


def test_an_english_session_reads_month_first(widget):
    w = registering(widget, "en")
    assert invalid(w.post("/patient/new", data=NEW | {"document_number": "7700000103", "date_of_birth": "15/03/1982"}))
    created = w.post("/patient/new", data=NEW | {"document_number": "7700000103", "date_of_birth": "03/15/1982"})
    assert step_of(created) == "diagnoses"
    found = w.get("/patient/search", params={"document_type": "CC", "document_number": "7700000103"})
    assert "Mar 15, 1982" in found.text


def test_the_patient_search_is_a_search_and_registration_asks_first_for_what_it_has_not_prefilled(widget):
    w = registering(widget, "en")
    assert re.search(r'id="document_number"[^>]*type="search"', w.get("/patient").text)  # Enter: its one result
    form = w.get("/patient/search", params={"document_type": "CC", "document_number": "7700000101"}).text
    order = [form.index(f'id="new-{name}"') for name in ("first_name", "last_name", "date_of_birth",
                                                         "document_type", "document_number", "email")]
    assert order == sorted(order)  # typed in a row from the first name to the date; the document is prefilled
    # The echo as the date is typed inherits no "find button" from the form (htmx logged an error on each).
    assert re.search(r'id="new-date_of_birth"[^>]*hx-disabled-elt="unset"', form.replace("\n", " "))
