"""The dispensing widget in the example HIS's pharmacy, in a real Chromium: host page and BFF on different origins.

Every flow is driven by the keyboard alone and checked by axe-core at every step; the page fixture fails a test on
any console error.
"""

import re

import pytest

from tests.e2e.test_prescription import assert_accessible, widget_frame

pytestmark = pytest.mark.e2e

ANA = "pat_01HXE0000000000000000ANA01"
HEADINGS = {
    "es": {"code": "Código de receta o autorización", "products": "Productos a entregar",
           "verify": "Verificar al beneficiario", "done": "Dispensado"},
    "en": {"code": "Prescription or authorization code", "products": "Products to hand over",
           "verify": "Verify the beneficiary", "done": "Dispensed"},
}
WORDS = {
    "es": {"scan": "Escanee un envase (GS1 DataMatrix) para completar su lote y vencimiento",
           "type_code": "Escriba o escanee el código", "host_code": "Código RX-",
           "scanned": "Lote y vencimiento completados para", "dispense": "Dispensar", "otp": "Código",
           "reader": "Leer la huella en el lector de este equipo", "authorization": "Obtener una autorización AUT-",
           "no_match": "Simular una huella que no coincide"},
    "en": {"scan": "Scan a pack (GS1 DataMatrix) to fill its lot and expiry",
           "type_code": "Type or scan the code", "host_code": "RX-… or AUT-… code",
           "scanned": "Lot and expiry filled in for", "dispense": "Dispense", "otp": "Code",
           "reader": "Read the fingerprint on this computer's reader", "authorization": "Get an AUT- authorization",
           "no_match": "Simulate a fingerprint that does not match"},
}
PARACETAMOL_GTIN = "07709990000429"  # MED-042 in simulator/seed/medications.csv
GS = "\x1d"  # the FNC1 separator a scanner types after a variable-length field


@pytest.fixture
def issue(hospital):
    """Issue a v1 prescription for Ana López at the simulator, as the clinic would, and return its code."""

    def prescription(product_code="MED-042", quantity=20):
        issued = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": ANA, "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": product_code, "quantity": quantity, "posology": "1 every 8 h"}]})
        assert issued.status_code == 201, issued.text
        return issued.json()["prescription_code"]

    return prescription


def focused_name(page):
    """The accessible name of what has the focus inside the widget (its label, or its text)."""
    return widget_frame(page).evaluate(
        "() => { const e = document.activeElement; if (!e || e === document.body) return ''; return "
        "(e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent "
        "|| '').trim(); }")


def tab_to(page, name, inside_widget=True):
    """Press Tab until the focused element (in the widget, or on the host page) is the one named."""
    for _ in range(60):
        if inside_widget:
            focused = focused_name(page)
        else:
            focused = page.evaluate("() => { const e = document.activeElement; return ((e.labels && e.labels[0] "
                                    "&& e.labels[0].textContent) || e.textContent || '').trim(); }")
        if focused.startswith(name):  # a step may already focus it on arrival
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name!r}")


def expect_step(page, locale, step):
    page.frame_locator("#osigu iframe").get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()
    assert_accessible(page, step)


def read_otp(api):
    """The newest OTP the sandbox sent, as the beneficiary reads it out."""
    return api().get("/sandbox/v1/messages", params={"kind": "OTP"}).json()["data"][0]["otp_code"]


def outcome(page):
    """The success the widget posted to the host page (through embed.js's onSuccess and the page's log)."""
    return page.evaluate("() => window.received.filter(m => m.data && m.data.type === 'success')"
                         ".map(m => m.data.data)")


def open_pharmacy(page, his, locale, code=""):
    """Open the HIS's pharmacy page; with a code it mounts the widget on it at once, as from the clinic."""
    page.add_init_script("""window.received = [];
        window.addEventListener('message', e => window.received.push({origin: e.origin, data: e.data}));""")
    query = f"?lang={locale}" + (f"&code={code}" if code else "")
    page.goto(f"{his.url}/pharmacy{query}")


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_prescription_from_the_clinic_is_dispensed_with_a_scanned_pack(page, his, issue, locale):
    code = issue()
    open_pharmacy(page, his, locale, code)
    words, frame = WORDS[locale], page.frame_locator("#osigu iframe")
    expect_step(page, locale, "products")
    # A keyboard-wedge scanner types the pack's element string (GS as the separator) and presses Enter.
    tab_to(page, words["scan"])
    page.keyboard.type(f"01{PARACETAMOL_GTIN}17301231" f"10LOT-E2E{GS}21SN0001")
    page.keyboard.press("Enter")
    frame.get_by_role("status").filter(has_text=words["scanned"]).wait_for()
    assert frame.locator("[data-osigu-line=MED-042] [name=lot-0]").input_value() == "LOT-E2E"
    assert_accessible(page, "products, scanned")
    # The step came back with the focus in the scan field, emptied for the next pack: Enter there dispenses.
    assert focused_name(page) == words["scan"]
    page.keyboard.press("Enter")
    expect_step(page, locale, "done")
    page.locator("#last-dispensation", has_text=code).wait_for()
    [success] = outcome(page)
    assert (success["code"], success["code_type"], success["status"], success["claim_id"]) == (
        code, "PRESCRIPTION", "DISPENSED", None)
    assert success["lines"] == [{"product_code": "MED-042", "quantity": 20, "lot": "LOT-E2E", "expiry": "2030-12-31"}]
    # ... and the HIS's back end through the signed callback.
    page.locator("#callbacks li", has_text="widget.dispensing.completed").wait_for()


@pytest.mark.parametrize("locale", ["es", "en"])
def test_an_authorization_is_dispensed_with_the_sponsors_otp_and_its_claim(page, his, api, locale):
    open_pharmacy(page, his, locale)
    words, frame = WORDS[locale], page.frame_locator("#osigu iframe")
    tab_to(page, words["authorization"], inside_widget=False)
    page.keyboard.press("Enter")
    page.locator("#authorization", has_text=re.compile(r"AUT-\d{4}-\d{8}")).wait_for()
    code = page.locator("#authorization").inner_text()
    assert page.locator("#code").input_value() == code
    # The HIS would pass it on; here the pharmacist scans it into the widget instead (a wedge scanner that sends
    # Code 128's symbology identifier first, then the code, then Enter).
    tab_to(page, words["host_code"], inside_widget=False)
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    tab_to(page, words["dispense"], inside_widget=False)
    page.keyboard.press("Enter")
    expect_step(page, locale, "code")
    tab_to(page, words["type_code"])
    page.keyboard.type(f"]C0{code}")
    page.keyboard.press("Enter")
    expect_step(page, locale, "products")
    tab_to(page, words["dispense"])
    page.keyboard.press("Enter")
    expect_step(page, locale, "verify")  # Seguros Andinos asks for the beneficiary's OTP
    tab_to(page, words["otp"])
    page.keyboard.type(read_otp(api))
    page.keyboard.press("Enter")
    expect_step(page, locale, "done")
    claim = frame.locator("[data-osigu-claim-id]").inner_text()
    page.locator("#last-dispensation", has_text=claim).wait_for()
    [success] = outcome(page)
    assert (success["code"], success["code_type"], success["claim_id"]) == (code, "AUTHORIZATION", claim)


def test_the_hosts_fingerprint_reader_verifies_a_controlled_medicine(page, his, issue):
    code = issue("MED-069", 10)  # tramadol: Osigu asks the pharmacy to verify the patient
    open_pharmacy(page, his, "en", code)
    expect_step(page, "en", "products")
    tab_to(page, WORDS["en"]["dispense"])
    page.keyboard.press("Enter")
    expect_step(page, "en", "verify")
    # Offered because the HIS passed onBiometricRequest; the HIS's simulated reader answers at once.
    tab_to(page, WORDS["en"]["reader"])
    page.keyboard.press("Enter")
    expect_step(page, "en", "done")
    biometric = page.evaluate("() => window.received.filter(m => m.data && m.data.type === 'biometric_requested')"
                              ".map(m => m.data.data)")
    assert biometric == [{"modality": "FINGERPRINT"}]
    assert outcome(page)[0]["code"] == code


def test_a_fingerprint_that_does_not_match_says_what_to_do_next(page, his, issue):
    code = issue("MED-069", 10)
    open_pharmacy(page, his, "en", code)
    page.get_by_label(WORDS["en"]["no_match"]).check()  # the HIS's reader now reads a NO-MATCH finger
    frame = page.frame_locator("#osigu iframe")
    expect_step(page, "en", "products")
    frame.get_by_role("button", name=WORDS["en"]["dispense"], exact=True).click()
    expect_step(page, "en", "verify")
    frame.get_by_role("button", name=WORDS["en"]["reader"]).click()
    frame.get_by_role("alert").filter(has_text="The reading did not match the beneficiary. Take it again").wait_for()
    assert_accessible(page, "verify, no match")
    # Nothing was handed over; the reader is offered again, beside the code the beneficiary can be sent.
    assert outcome(page) == []
    page.get_by_label(WORDS["en"]["no_match"]).uncheck()
    frame.get_by_role("button", name=WORDS["en"]["reader"]).click()
    expect_step(page, "en", "done")
    assert outcome(page)[0]["code"] == code


def test_a_doctor_prescribes_and_the_pharmacy_dispenses_it_right_after(page, his):
    from tests.e2e.test_prescription import start, walk_to_review

    page.add_init_script("""window.received = [];
        window.addEventListener('message', e => window.received.push({origin: e.origin, data: e.data}));""")
    page.goto(f"{his.url}/?lang=en")
    frame = start(page, "v1", "en")
    walk_to_review(page, frame, "v1", "en")
    frame.get_by_role("button", name="Issue prescription").click()
    code = frame.locator("[data-osigu-prescription-code]").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Dispense it now at the pharmacy").click()
    assert page.locator("#code").input_value() == code
    expect_step(page, "en", "products")  # the widget opened the code the clinic passed as context.code
    page.frame_locator("#osigu iframe").get_by_role("button", name="Dispense", exact=True).click()
    expect_step(page, "en", "done")
    page.locator("#last-dispensation", has_text=code).wait_for()
