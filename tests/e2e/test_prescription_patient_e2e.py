"""The patient's side by keys alone in a real Chromium (host page and BFF on two origins): the v1.1 consent asked
once and then shown on the review; a date of birth typed in the widget's language whatever the browser's (English
here, as in the issue), echoed in words, an impossible or future one refused."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from prescription_keys import add_a_week_of, arrive, assert_accessible, expect_focus, issue, mount
from test_prescription import open_his, start

from bff.db import db
from widgets.prescription.draft import PrescriptionDraft

pytestmark = pytest.mark.e2e
CONSENTED = re.compile(r"El paciente consintió el tratamiento de sus datos el \d{1,2} de [a-z]+ de \d{4}\.")


def prescribe_r51_and_panadol(page, frame):
    """From the diagnoses step (its search focused): R51, then a week of Panadol, then Continue."""
    expect_focus(page, "#diagnosis-query")
    page.keyboard.type("R51")
    page.keyboard.press("Enter")  # its one result: picked
    frame.locator('button[value="R51"][hx-post$="/diagnoses/remove"]').wait_for()  # on it (not just in a repeat)
    page.keyboard.press("Enter")  # an empty search: Continue
    add_a_week_of(page, frame, "Panadol")
    page.keyboard.press("Enter")  # Continue


def test_the_consent_is_asked_once_then_shown_on_the_review(page, his):
    # Spanish only: the consent behaves alike in every language (test_prescription.py walks it in English too).
    open_his(page, his)
    frame = start(page, "v1.1", "es")  # the HIS's Prescribe button mounts the widget with autofocus
    arrive(page, frame, "es", "diagnoses")
    prescribe_r51_and_panadol(page, frame)
    arrive(page, frame, "es", "consent")
    expect_focus(page, "#consent")
    page.keyboard.press("Enter")  # one action: the button says the patient consents
    arrive(page, frame, "es", "review")
    expect(frame.locator("#widget")).to_contain_text(CONSENTED)  # recorded with its date as it was given
    issue(page, frame, "es")

    frame = start(page, "v1.1", "es")  # the same patient's next prescription
    arrive(page, frame, "es", "diagnoses")
    prescribe_r51_and_panadol(page, frame)
    arrive(page, frame, "es", "review")  # no consent step: it is on file, the review says when it was given
    expect(frame.locator("#widget")).to_contain_text(CONSENTED)
    issue(page, frame, "es")


# The order a date is typed in is the one thing here that differs by language: es and en both.
@pytest.mark.parametrize("locale, impossible, future, typed, words, unknown", [
    ("es", "31/02/1982", "01/01/{next}", "15/03/1982", "Nacido/a el 15 de marzo de 1982", "7700000301"),
    ("en", "02/31/1982", "01/01/{next}", "03/15/1982", "Born March 15, 1982", "7700000302"),
])
def test_a_date_of_birth_follows_the_widgets_language_not_the_english_browsers(
        page, stack, locale, impossible, future, typed, words, unknown):
    assert page.evaluate("() => navigator.language") == "en-US"  # the browser the issue saw 1982-12-03 in
    frame = mount(page, stack, locale, {})  # no patient from the host: the doctor looks them up
    arrive(page, frame, locale, "patient")
    expect_focus(page, "#document_number")
    page.keyboard.type(unknown)
    page.keyboard.press("Enter")  # nobody has it: on into the registration form
    expect_focus(page, "#new-first_name")
    shown = {"es": "Fecha de nacimiento (DD/MM/AAAA)", "en": "Date of birth (MM/DD/YYYY)"}[locale]
    expect(frame.get_by_text(shown, exact=True)).to_be_visible()
    page.keyboard.type("Elena")
    page.keyboard.press("Tab")
    page.keyboard.type("Sanz")
    page.keyboard.press("Tab")
    expect_focus(page, "#new-date_of_birth")
    echo = frame.locator("#new-date_of_birth-echo")
    for wrong in (impossible, future.format(next=date.today().year + 1)):
        page.keyboard.press("Control+a")
        page.keyboard.type(wrong)
        expect(echo).to_contain_text({"es": "No es una fecha de nacimiento posible", "en": "Not a possible date of "
                                                                                         "birth"}[locale])
    page.keyboard.press("Enter")  # refused when sent too, the field to fix focused again
    expect(frame.locator("#new-date_of_birth[aria-invalid=true]")).to_be_visible()
    expect_focus(page, "#new-date_of_birth")
    assert_accessible(page, "patient (a date refused)")
    page.keyboard.press("Control+a")
    page.keyboard.type(typed)
    expect(echo).to_have_text(words)  # read back in words before it is saved
    page.keyboard.press("Enter")
    arrive(page, frame, locale, "diagnoses")
    expect(frame.locator(".osigu-patient")).to_contain_text("Elena Sanz")
    with stack.bff_app.app_context():
        saved = db.session.scalars(db.select(PrescriptionDraft)).one().patient
    assert saved["date_of_birth"] == "1982-03-15"  # not 1982-12-03
