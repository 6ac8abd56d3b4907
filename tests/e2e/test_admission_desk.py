"""The demo's path in a real Chromium: the example HIS's admission desk gets Ana López's three codes, the pended
CT's when it is decided, and dispenses one of them at the HIS's pharmacy."""

import re

import pytest

from examples.his import TEXTS

pytestmark = pytest.mark.e2e
HEADINGS = ["Sponsor", "Beneficiary", "Products"]  # the widget's steps in English, up to the documents


def press_primary(frame):
    frame.locator("[data-osigu-primary]").click()


def test_the_admission_desk_gets_three_codes_and_the_pharmacy_dispenses_one(page, his, api):
    texts = TEXTS["en"]
    page.goto(f"{his.url}/admission?lang=en")
    page.get_by_role("button", name=texts["request_preauth"]).click()
    frame = page.frame_locator("#osigu iframe")
    for heading in HEADINGS:  # everything comes from the HIS's context: each step's one forward action
        frame.get_by_role("heading", name=heading, exact=True).wait_for()
        press_primary(frame)
    frame.get_by_role("heading", name="Indications and documents", exact=True).wait_for()
    frame.locator("#document-file").set_input_files(
        {"name": "ct-order.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% the CT's order\n"})
    press_primary(frame)
    frame.locator('[data-osigu-required][data-provided="no"]').wait_for(state="detached")
    press_primary(frame)
    frame.get_by_role("heading", name="Review and request", exact=True).wait_for()
    press_primary(frame)
    frame.get_by_role("heading", name="Partly authorized", exact=True).wait_for()

    # The HIS shows the outcome's codes at once: two approved, the CT under review.
    pended = page.locator('#codes tr[data-status="PENDING"]', has_text="IMG-020")
    pended.wait_for()
    assert page.locator('#codes tr[data-status="APPROVED"]').count() == 2
    assert pended.get_by_role("link").count() == 0  # nothing to dispense yet
    code = pended.locator("td").first.inner_text()
    assert re.fullmatch(r"AUT-\d{4}-\d{8}", code)
    page.locator("#last-preauthorization", has_text=texts["PARTIALLY_APPROVED"]).wait_for()
    page.locator("#callbacks li", has_text="widget.preauth.completed").wait_for()

    # The sponsor approves the CT while the widget is open: the page's row turns approved on authorization_decided.
    assert api().post(f"/sandbox/v1/authorizations/{code}/decision", json={"status": "APPROVED"}).status_code == 200
    page.locator('#codes tr[data-status="APPROVED"]', has_text=code).wait_for()
    assert page.locator('#codes tr[data-status="APPROVED"]').count() == 3
    page.locator("#events li", has_text="authorization_decided").wait_for()

    # The amoxicillin's code goes to the pharmacy, whose page opens the dispensing widget on it.
    medication = page.locator("#codes tr", has_text="MED-001")
    medication_code = medication.locator("td").first.inner_text()
    medication.get_by_role("link", name=texts["dispense"]).click()
    page.wait_for_url(re.compile(r"/pharmacy\?.*code=" + re.escape(medication_code)))
    dispensing = page.frame_locator("#osigu iframe")
    dispensing.get_by_role("heading", name="Products to hand over", exact=True).wait_for()
    dispensing.locator("[data-osigu-line=MED-001]").wait_for()
