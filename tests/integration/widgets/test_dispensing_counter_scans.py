"""The counter's scans over HTTP: what a keyboard-wedge scanner types around a code is dropped before it opens, a
pack scanned into the code field is said to be one, and a GS1 pack scan fills its line of a two-line code."""

import html
from datetime import date, timedelta

import pytest
from widget_client import invalid, issued_code, products_form, step_of, trigger_of

EXPIRY = date.today() + timedelta(days=400)
GS = "\x1d"
TWO_LINES = ({"product_code": "MED-042", "quantity": 20, "posology": "1 tablet every 8 h"},
             {"product_code": "MED-001", "quantity": 21, "posology": "1 capsule every 8 h"})


def dispense(widget):
    return widget(widget="dispensing", locale="en")


def pack(gtin, lot):
    """A pack's GS1 DataMatrix as a wedge scanner types it (symbology identifier, GS after the lot)."""
    return f"]d201{gtin}17{EXPIRY:%y%m%d}10{lot}{GS}21SN-{lot}"


@pytest.mark.parametrize("scan", [
    "]C0{code}\r\n",  # Code 128 with its symbology identifier, the scanner's CR LF
    "\x02]Q1{code}\x03",  # a QR code framed by STX/ETX
    "]d1{code}",  # a plain (not GS1) DataMatrix
    "{apostrophes}",  # a scanner set up for a US keyboard on a Spanish layout: the dash types as '
    "  {typographic} \t",  # copied from a document: en dashes, a tab
])
def test_a_scanned_code_is_normalised_before_it_opens(widget, scan):
    w = dispense(widget)
    code = issued_code(w)
    typed = scan.format(code=code, apostrophes=code.replace("-", "'"), typographic=code.replace("-", "\u2013"))
    opened = w.post("/code", data={"code": typed})
    assert step_of(opened) == "products", opened.text
    assert f"Prescription {code}" in opened.text


def test_a_pack_scanned_into_the_code_field_is_said_to_be_one(widget):
    w = dispense(widget)
    refused = w.post("/code", data={"code": pack("07709990000429", "LOT-1")})
    assert invalid(refused) and step_of(refused) == "code"
    assert "That is a pack's barcode, not a code" in html.unescape(refused.text)
    assert trigger_of(refused)["osigu:error"]["error"]["code"] == "INVALID_CODE"
    assert 'value=""' in refused.text  # emptied: the next scan is the code alone


def test_the_code_and_scan_fields_take_the_focus_and_enter_in_the_empty_scan_field_dispenses(widget):
    w = dispense(widget)
    code_step = w.get("/resume")
    assert 'data-osigu-focus data-osigu-scan' in code_step.text
    products = w.post("/code", data={"code": issued_code(w)})
    # the scan field is the step's first focus; Dispense (primary) is outside its form, so Enter there reaches it
    scan_field = products.text.index('id="dispensing-scan"')
    assert products.text.index("data-osigu-focus") > scan_field > products.text.index("<form")
    assert products.text.index("data-osigu-primary") > products.text.index('id="dispense-form"')


def test_each_pack_of_a_two_line_code_fills_its_own_line(widget):
    w = dispense(widget)
    products = w.post("/code", data={"code": issued_code(w, *TWO_LINES)})
    first = w.post("/products/scan", data=products_form(products) | {"scan": pack("07709990000016", "AMX-1")})
    assert step_of(first) == "products" and "Lot and expiry filled in for" in first.text
    values = products_form(first)
    assert (values["lot-0"], values["lot-1"], values["expiry-1"]) == ("", "AMX-1", EXPIRY.isoformat())
    second = w.post("/products/scan", data=values | {"scan": pack("07709990000429", "PAR-1")})
    values = products_form(second)
    assert (values["lot-0"], values["expiry-0"], values["lot-1"]) == ("PAR-1", EXPIRY.isoformat(), "AMX-1")
    assert (values["quantity-0"], values["quantity-1"]) == ("20", "21")  # the prescribed quantities
    done = w.post("/complete", data=values)
    assert step_of(done) == "done"
    assert trigger_of(done)["osigu:success"]["outcome"]["lines"] == [
        {"product_code": "MED-042", "quantity": 20, "lot": "PAR-1", "expiry": EXPIRY.isoformat()},
        {"product_code": "MED-001", "quantity": 21, "lot": "AMX-1", "expiry": EXPIRY.isoformat()}]


@pytest.mark.parametrize("quantity", ["", "0"])
def test_a_pack_scanned_for_a_line_set_to_nothing_puts_its_prescribed_quantity_back(widget, quantity):
    w = dispense(widget)
    products = w.post("/code", data={"code": issued_code(w, *TWO_LINES)})
    scanned = w.post("/products/scan", data=products_form(products) | {
        "quantity-1": quantity, "quantity-0": "10", "scan": pack("07709990000016", "AMX-1")})
    values = products_form(scanned)
    assert (values["quantity-0"], values["quantity-1"]) == ("10", "21")  # the other line's typed 10 is kept


@pytest.mark.parametrize("locale, message", [
    ("en", "This pack is not one of the products on this code"),
    ("es", "Este envase no es uno de los productos de este código"),
])
def test_a_pack_of_no_line_is_refused_in_the_users_language_with_the_scan_field_to_fix(widget, locale, message):
    w = widget(widget="dispensing", locale=locale)
    products = w.post("/code", data={"code": issued_code(w, *TWO_LINES)})
    refused = w.post("/products/scan", data=products_form(products) | {"scan": pack("07709990000481", "IBU-1")})
    assert invalid(refused) and step_of(refused) == "products" and message in refused.text
    assert 'aria-invalid="true" aria-describedby="dispensing-scan-error dispensing-scan-hint"' in refused.text
    assert 'value="IBU-1"' not in refused.text
