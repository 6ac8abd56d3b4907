"""The order from the host and the repeat, by keys alone in a real Chromium (host page and BFF on two origins): an
order set opens preselected and editable, context repeat_of opens the review at once, and the patient's recent
prescriptions offer Repeat, straight to the review. Each test runs in one language, es or en in turn: these flows
do not differ by language (the quantity and the words do, and each test reads them in its own)."""

import pytest
from playwright.sync_api import expect
from prescription_keys import ANA, PARACETAMOL_7_DAYS, arrive, expect_focus, issue, mount, tab_to

pytestmark = pytest.mark.e2e

PRESCRIBE = 'button[hx-get$="/medications/line"]'  # a product's line form
ORDER_SET = {"patient": ANA, "diagnoses": ["R51"], "medications": [PARACETAMOL_7_DAYS]}


def test_an_order_set_opens_on_the_review_and_repeat_of_opens_it_again(page, stack):
    frame = mount(page, stack, "en", ORDER_SET)
    arrive(page, frame, "en", "review")  # no step before it: the host said everything
    expect(frame.locator("#widget")).to_contain_text("R51")
    expect(frame.locator("#widget")).to_contain_text("Quantity: 40 units")  # 21 tablets: two boxes of 20
    first = issue(page, frame, "en")

    frame = mount(page, stack, "en", {"patient": ANA, "repeat_of": first["prescription_id"]})
    arrive(page, frame, "en", "review")
    expect(frame.locator("#widget")).to_contain_text("1 tablet every 8 hours for 7 days")
    again = issue(page, frame, "en")  # two keys in all: Enter, Enter
    assert again["prescription_code"] != first["prescription_code"]


def test_the_patients_recent_prescription_is_repeated_straight_to_the_review(page, stack):
    first = issue(page, mount(page, stack, "es", ORDER_SET), "es")
    frame = mount(page, stack, "es", {"patient": ANA})
    arrive(page, frame, "es", "diagnoses")
    expect_focus(page, "#diagnosis-query")  # typing a new diagnosis stays the first thing offered
    recent = frame.get_by_role("list", name="Recetas recientes de este paciente")
    expect(recent).to_contain_text(first["prescription_code"])
    # Which earlier prescription to repeat is a choice among up to five, so it is reached like any list item: past
    # the search's own button, two Tabs (context repeat_of, above, needs none).
    tab_to(page, f'button[aria-label="Repetir {first["prescription_code"]}"]', at_most=2)
    page.keyboard.press("Enter")
    arrive(page, frame, "es", "review")
    expect(frame.locator("#widget")).to_contain_text("Cantidad: 40 unidades")
    again = issue(page, frame, "es")
    assert again["prescription_code"] != first["prescription_code"]


def test_an_order_set_to_complete_is_preselected_and_every_line_stays_editable(page, stack):
    amoxicillin = {"product_code": "MED-001"}  # ordered without a posology: the doctor completes it
    frame = mount(page, stack, "es", {"patient": ANA, "diagnoses": ["R51"],
                                      "medications": [PARACETAMOL_7_DAYS, amoxicillin]})
    arrive(page, frame, "es", "medications")
    expect(frame.locator("#widget")).to_contain_text("Cantidad: 40 unidades")  # the complete line, preselected
    expect_focus(page, f'{PRESCRIBE}[value="MED-001"]')  # the order's line to complete: Enter opens its form
    page.keyboard.press("Enter")
    expect_focus(page, "#line-days")  # dose 1, the form's unit, every 8 hours suggested: the days are to write
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(frame.locator(".osigu-chosen li")).to_have_count(2)
    expect_focus(page, "#medication-query")

    # Editing a line the host ordered (off the happy path): back from the search, past the amoxicillin line's
    # Remove and Favourite, to paracetamol's Remove.
    tab_to(page, 'button[value="MED-042"][hx-post$="/medications/remove"]', at_most=3, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect_focus(page, f'{PRESCRIBE}[value="MED-042"]')  # the host's order, offered again, its form prefilled
    page.keyboard.press("Enter")
    expect_focus(page, "#line-dose")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect_focus(page, "#line-days")
    page.keyboard.type("10")  # Tab selected the ordered 7: typing replaces it
    page.keyboard.press("Enter")
    expect_focus(page, "#medication-query")
    page.keyboard.press("Enter")  # an empty search: Continue
    arrive(page, frame, "es", "review")
    expect(frame.locator("#widget")).to_contain_text("1 comprimido cada 8 horas durante 10 días")
    expect(frame.locator("#widget")).to_contain_text("Amoxicilina")
    issue(page, frame, "es")
