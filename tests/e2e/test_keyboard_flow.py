"""Focus and keys in the prescription widget: each step's first field has the focus, its heading is announced,
Enter in a search with one result picks it, and Enter on a step's last field goes on, with no Tab at all."""

import re

import pytest
from playwright.sync_api import expect
from test_prescription import HEADINGS, WORDS, assert_accessible, expect_step, open_his, start

pytestmark = pytest.mark.e2e

DAYS = {"es": "Durante cuántos días", "en": "For how many days"}


def arrive(page, frame, locale, step, field):
    """The step is shown with field focused and its heading in the live region; axe finds nothing serious."""
    expect_step(frame, locale, step)
    expect(frame.get_by_label(field, exact=True)).to_be_focused()
    expect(frame.locator("#widget-announcer")).to_have_text(HEADINGS[locale][step])
    assert_accessible(page, step)


def to_medications_by_keys(page, his, locale):
    """Open the HIS, pick R51 by keys and go on to the medications step; return the widget's frame."""
    words = WORDS[locale]
    open_his(page, his)
    frame = start(page, "v1", locale)
    expect_step(frame, locale, "diagnoses")
    # The HIS mounts with autofocus (the doctor pressed Prescribe): the first step's search has the focus too.
    expect(frame.get_by_label(words["search_dx"], exact=True)).to_be_focused()
    page.keyboard.type("R51")
    page.keyboard.press("Enter")  # exactly one result: picked
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    expect(frame.get_by_label(words["search_dx"], exact=True)).to_be_focused()  # ready for the next diagnosis
    page.keyboard.press("Enter")  # an empty search: the step goes on
    arrive(page, frame, locale, "medications", words["search_med"])
    return frame


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_prescription_by_keys_alone_needs_no_tab(page, his, locale):
    words = WORDS[locale]
    frame = to_medications_by_keys(page, his, locale)
    page.keyboard.type("Panadol")  # one registered product: paracetamol 500 mg, box of 20
    page.keyboard.press("Enter")
    # Dose (1), unit (the form's), how often (every 8 hours) as suggested: the focus is in the days.
    arrive(page, frame, locale, "medications", DAYS[locale])
    page.keyboard.type("7")
    page.keyboard.press("Enter")  # the quantity left empty: computed from the posology
    frame.locator(".osigu-chosen", has_text=re.compile(r"\b40\b")).wait_for()  # 21 tablets: two boxes of 20
    expect(frame.get_by_label(words["search_med"], exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect_step(frame, locale, "review")
    expect(frame.locator("#widget-announcer")).to_have_text(HEADINGS[locale]["review"])
    expect(frame.get_by_role("button", name=words["issue"])).to_be_focused()  # the review's one action
    page.keyboard.press("Enter")
    expect_step(frame, locale, "done")
    page.locator("#last-prescription", has_text=re.compile(r"RX-\d{4}-\d{6}")).wait_for()


@pytest.mark.parametrize("locale", ["es", "en"])
def test_enter_on_a_forms_last_field_a_box_presses_its_forward_action(page, his, locale):
    words = WORDS[locale]
    frame = to_medications_by_keys(page, his, locale)
    page.keyboard.type("Panadol")
    page.keyboard.press("Enter")
    arrive(page, frame, locale, "medications", DAYS[locale])
    frame.get_by_label(DAYS[locale]).fill("7")
    box = frame.locator("#line-substitution")
    box.focus()
    page.keyboard.press("Space")  # ticked, as a keyboard user ticks it
    page.keyboard.press("Enter")  # the form's last field: the line is added, with the substitution allowed
    frame.locator(".osigu-chosen", has_text=re.compile(r"\b40\b")).wait_for()
    frame.get_by_role("button", name=words["continue"]).click()  # only to read the review
    expect_step(frame, locale, "review")
    assert frame.locator(".osigu-hint").count() == 1  # "Substitution allowed", ticked by Space, kept by Enter
