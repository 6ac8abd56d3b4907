"""A medication line by keys alone in a real Chromium (host page and BFF on two origins): a favourite saved, found
first and added in one action; the quantity computed from the posology, its pack shown, a quantity short of it or
over it by more than a pack warned about. One language per test, es and en in turn: these behave alike in both
(their words and numbers differ, and each test reads them in its own)."""

import re

import pytest
from playwright.sync_api import expect
from prescription_keys import ANA, add_a_week_of, arrive, assert_accessible, expect_focus, issue, mount, tab_to

pytestmark = pytest.mark.e2e

DIAGNOSED = {"patient": ANA, "diagnoses": ["R51"]}  # from the host: the widget opens on the medications


def test_a_favourite_is_saved_offered_first_and_added_in_one_action(page, stack):
    frame = mount(page, stack, "es", DIAGNOSED)
    arrive(page, frame, "es", "medications")
    add_a_week_of(page, frame, "Panadol")
    expect(frame.locator(".osigu-chosen li")).to_contain_text("Cantidad: 40 unidades")  # 21 tablets, boxes of 20
    # Saving is an edit off the happy path: back from the search, past the line's Remove, to its Favourite.
    tab_to(page, 'button[hx-post$="/medications/favourite"]', at_most=2, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(frame.locator('button[hx-post$="/medications/favourite"]')).to_have_count(0)  # saved: nothing to save
    expect_focus(page, "#medication-query")
    page.keyboard.press("Enter")  # an empty search: Continue
    issue(page, frame, "es")

    frame = mount(page, stack, "es", DIAGNOSED)  # the same doctor's next prescription
    arrive(page, frame, "es", "medications")
    expect(frame.get_by_role("list", name="Sus favoritos")).to_contain_text("1 comprimido cada 8 horas durante 7 días")
    expect_focus(page, "#medication-query")
    page.keyboard.type("paracetamol")
    first = frame.locator("#medication-results .osigu-results > li").first
    expect(first).to_contain_text("Panadol")  # the favourite first, before MED-042 and Tylenol
    expect(first.locator("button[data-osigu-pick]")).to_have_text("Añadir")
    page.keyboard.press("Control+a")  # what a doctor types for it, instead: its name, then Enter
    page.keyboard.type("Panadol")
    page.keyboard.press("Enter")  # its one result is a favourite: added as saved, no form
    line = frame.locator(".osigu-chosen li", has_text="Panadol")
    expect(line).to_contain_text("1 comprimido cada 8 horas durante 7 días")
    expect(line).to_contain_text("Cantidad: 40 unidades")
    expect_focus(page, "#medication-query")
    assert_accessible(page, "medications (a favourite added)")


def test_the_quantity_is_computed_and_one_short_or_over_by_a_pack_is_warned(page, stack):
    frame = mount(page, stack, "en", DIAGNOSED)
    arrive(page, frame, "en", "medications")
    expect_focus(page, "#medication-query")
    page.keyboard.type("Panadol")
    page.keyboard.press("Enter")
    expect_focus(page, "#line-days")  # the dose, unit and interval suggested: the days are to write
    expect(frame.get_by_label("Quantity to dispense (units)")).to_be_visible()  # units, never "boxes" or a bare 21
    expect(frame.locator("#line-quantity-hint")).to_have_text(
        "Leave it empty to compute it from the posology, rounded up to whole packs (box of 20).")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    page.keyboard.type("11")  # as typed in the issue's example: 21 are needed
    page.keyboard.press("Enter")
    warning = frame.locator("#line-quantity-warning")
    expect(warning).to_have_text("The posology needs 21 units and the quantity is 11. Check it, or add the line as it "
                                 "is.")
    expect_focus(page, "#line-quantity")  # to change it, or Enter to keep it
    assert_accessible(page, "medications (a quantity warned)")
    page.keyboard.press("Control+a")
    page.keyboard.type("60")  # more than the 40 of whole boxes: over by more than a pack
    page.keyboard.press("Enter")
    expect(warning).to_have_text(re.compile(r"needs 21 units and the quantity is 60\."))
    page.keyboard.press("Enter")  # the doctor means it: added as typed
    expect(frame.locator(".osigu-chosen li")).to_contain_text("Quantity: 60 units")
    expect_focus(page, "#medication-query")
