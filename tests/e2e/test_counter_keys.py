"""The counter by keys alone: the code field has the focus when the widget opens, a wedge scan (code + Enter) opens
the code, each GS1 pack scan fills its line and gives the focus back to the scan field, and Enter in the empty
scan field dispenses. No click and no Tab inside the widget; axe at every step; the focus checked in the frame."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.test_pharmacy_counter import ANA, GS, HEADINGS, PARACETAMOL_GTIN, open_pharmacy, outcome, read_otp
from tests.e2e.test_prescription import assert_accessible, widget_frame

pytestmark = pytest.mark.e2e

AMOXICILLIN_GTIN = "07709990000016"  # MED-001 in simulator/seed/medications.csv
IBUPROFEN_GTIN = "07709990000481"  # MED-048: on no line of the prescription below
EXPIRY = date.today() + timedelta(days=400)
NOT_ON_CODE = {"es": "Este envase no es uno de los productos de este código",
               "en": "This pack is not one of the products on this code"}
PACK_IN_CODE = {"es": "Eso es el código de barras de un envase, no un código",
                "en": "That is a pack's barcode, not a code"}
WRONG_OTP = {"es": "Ese código no es correcto", "en": "That code is not right"}
UNKNOWN = {"es": "Ninguna receta ni autorización tiene este código",
           "en": "No prescription or authorization has this code"}


@pytest.fixture
def two_line_rx(hospital):
    """A v1 prescription for Ana López with two lines, paracetamol 500 mg and amoxicillin 500 mg: its code."""
    issued = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": ANA, "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 20, "posology": "1 every 8 h"},
                        {"product_code": "MED-001", "quantity": 21, "posology": "1 every 8 h"}]})
    assert issued.status_code == 201, issued.text
    return issued.json()["prescription_code"]


def pack(gtin, lot):
    """What a wedge scanner types for a pack's GS1 DataMatrix: its symbology identifier, GTIN, expiry, lot."""
    return f"]d201{gtin}17{EXPIRY:%y%m%d}10{lot}{GS}21SN-{lot}"


def focused(page, selector):
    """Whether the widget frame's document.activeElement is selector, and the frame has the page's focus."""
    return widget_frame(page).evaluate("s => !!document.activeElement && document.activeElement.matches(s) && "
                                       "document.hasFocus()", selector)


def arrive(page, locale, step, selector):
    """The step is shown, its heading read out by the live region, selector focused (keys go there); axe is clean."""
    frame = page.frame_locator("#osigu iframe")
    frame.get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()
    expect(frame.locator("#widget-announcer")).to_have_text(HEADINGS[locale][step])
    expect(frame.locator(selector)).to_be_focused()
    assert focused(page, selector)
    assert_accessible(page, step)


def scan(page, text):
    """A keyboard-wedge scan: the scanner types the symbols, fast, then Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def open_counter(page, his, locale):
    """The pharmacist's page, the widget opened from its empty code field with Enter (the host's own form)."""
    open_pharmacy(page, his, locale)
    page.locator("#code").focus()
    page.keyboard.press("Enter")
    return page.frame_locator("#osigu iframe")


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_two_line_prescription_takes_three_scans_and_one_enter(page, his, two_line_rx, locale):
    frame = open_counter(page, his, locale)
    arrive(page, locale, "code", "#dispensing-code")  # the widget took the focus from the host's button
    scan(page, f"]C0{two_line_rx}\r")  # Code 128 with its identifier; the scanner's CR is dropped too
    arrive(page, locale, "products", "#dispensing-scan")
    for index, (gtin, lot) in enumerate([(PARACETAMOL_GTIN, "PARA-1"), (AMOXICILLIN_GTIN, "AMOX-1")]):
        scan(page, pack(gtin, lot))
        expect(frame.locator(f"#lot-{index}")).to_have_value(lot)
        expect(frame.locator("#dispensing-scan")).to_be_focused()  # ready for the next pack
        assert focused(page, "#dispensing-scan")
        assert frame.locator("#dispensing-scan").input_value() == ""
        assert_accessible(page, f"products, pack {index + 1} scanned")
    page.keyboard.press("Enter")  # the scan field is empty: the step's primary action, Dispense
    arrive(page, locale, "done", "[data-osigu-print]")  # the receipt's one action
    page.locator("#last-dispensation", has_text=two_line_rx).wait_for()
    [success] = outcome(page)
    assert (success["code"], success["status"]) == (two_line_rx, "DISPENSED")
    assert success["lines"] == [
        {"product_code": "MED-042", "quantity": 20, "lot": "PARA-1", "expiry": EXPIRY.isoformat()},
        {"product_code": "MED-001", "quantity": 21, "lot": "AMOX-1", "expiry": EXPIRY.isoformat()}]


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_wrong_scan_is_said_and_the_focus_stays_for_the_next_one(page, his, two_line_rx, locale, console_errors):
    frame = open_counter(page, his, locale)
    arrive(page, locale, "code", "#dispensing-code")
    scan(page, pack(PARACETAMOL_GTIN, "PARA-1"))  # a pack, before the code
    frame.get_by_role("alert").filter(has_text=PACK_IN_CODE[locale]).wait_for()
    assert focused(page, "#dispensing-code") and frame.locator("#dispensing-code").input_value() == ""
    assert_accessible(page, "code, a pack scanned")
    scan(page, "RX-2026-000000")  # no such prescription: said, the code kept (to correct) and selected
    frame.get_by_role("alert").filter(has_text=UNKNOWN[locale]).wait_for()
    expect(frame.locator("#dispensing-code")).to_have_value("RX-2026-000000")
    assert focused(page, "#dispensing-code")
    # htmx logs every event whose detail has an "error" key: the two refusals' osigu:error (widgets/flow.py).
    assert console_errors == ["[object Object]"] * 2
    console_errors.clear()
    scan(page, two_line_rx)  # the next scan replaces the refused code
    arrive(page, locale, "products", "#dispensing-scan")
    scan(page, pack(IBUPROFEN_GTIN, "IBU-1"))  # paracetamol 1 g: on no line, and no allowed equivalent
    frame.locator("#dispensing-scan-error", has_text=NOT_ON_CODE[locale]).wait_for()
    expect(frame.locator("#dispensing-scan")).to_have_attribute("aria-invalid", "true")
    assert focused(page, "#dispensing-scan")
    assert_accessible(page, "products, a pack of no line")
    scan(page, pack(PARACETAMOL_GTIN, "PARA-1"))  # the right pack, straight after
    expect(frame.locator("#lot-0")).to_have_value("PARA-1")
    assert focused(page, "#dispensing-scan")


@pytest.mark.parametrize("locale", ["es", "en"])
def test_an_authorization_from_the_host_goes_from_the_scan_field_to_the_otp_field(page, his, api, locale):
    obtained = page.request.post(f"{his.url}/demo-authorization")  # as the clinic would have, before the counter
    assert obtained.ok, obtained.text()
    code = obtained.json()["authorization_code"]
    open_pharmacy(page, his, locale, code)  # the host passes the code: the widget opens on its products
    arrive(page, locale, "products", "#dispensing-scan")
    page.keyboard.press("Enter")  # nothing to scan: Dispense
    arrive(page, locale, "verify", "#osigu-otp")  # Seguros Andinos asks for the beneficiary's OTP
    otp = read_otp(api)
    page.keyboard.type("000000" if otp != "000000" else "111111")  # misheard
    page.keyboard.press("Enter")
    frame = page.frame_locator("#osigu iframe")
    frame.get_by_role("alert").filter(has_text=WRONG_OTP[locale]).wait_for()
    expect(frame.locator("#osigu-otp")).to_be_focused()  # the component answered in place: its field again
    assert focused(page, "#osigu-otp")
    assert_accessible(page, "verify, a wrong code")
    page.keyboard.type(otp)
    page.keyboard.press("Enter")
    arrive(page, locale, "done", "[data-osigu-print]")
    [success] = outcome(page)
    assert (success["code"], success["code_type"], success["status"]) == (code, "AUTHORIZATION", "DISPENSED")
    assert success["claim_id"]
