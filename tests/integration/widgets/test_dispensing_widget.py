"""The dispensing widget (seed 000) over HTTP against the simulator: every step, every refusal, exactly once."""

import re
import threading
from datetime import date, timedelta

import pytest
from widget_client import HOSTILE, ORIGIN, invalid, products_form, step_of, trigger_of

from bff.db import db as bff_db
from bff.outbox import OutboxMessage
from simulator.db import db as sim_db
from simulator.db import utcnow
from simulator.faults import FaultRule
from simulator.models import Authorization, Dispensation

NEXT_YEAR = date.today() + timedelta(days=365)
PARACETAMOL = {"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}
GS = "\x1d"


@pytest.fixture
def host_apps(host_apps):
    """The widget tests' host apps, his-cb, which wants callbacks (owed in the outbox; nothing listens), and
    pharmacy-p, a pharmacy chain's PMS acting as farmacia-demo, whose Osigu client holds no ARC scope."""
    return [*host_apps, {"id": "his-cb", "api_key": "his-cb-api-key-0123456789", "origins": [ORIGIN],
                         "callback_url": "http://127.0.0.1:9/callbacks",
                         "callback_secret": "whsec_aGlzLWNiLWNhbGxiYWNrLXNlY3JldC0xMjM0NTY3ODkw"},
            {"id": "pharmacy-p", "api_key": "pharmacy-p-api-key-0123456789", "origins": [ORIGIN],
             "osigu_client_id": "demo-pharmacy", "osigu_client_secret": "demo-pharmacy-secret"}]


@pytest.fixture
def simulator_row(simulator_app):
    """Change a simulator row as time or a sponsor would: change(Model, filter, **values)."""

    def change(model, values, **where):
        with simulator_app.app_context():
            row = sim_db.session.scalar(sim_db.select(model).filter_by(**where).order_by(model.created_at.desc()))
            for name, value in values.items():
                setattr(row, name, value)
            sim_db.session.commit()

    return change


@pytest.fixture
def dispensed_lines(simulator_app):
    """What the simulator's latest dispensation of a code hands over: [(product_code, quantity)]."""

    def lines(code):
        with simulator_app.app_context():
            found = sim_db.session.scalar(sim_db.select(Dispensation).filter_by(code=code)
                                          .order_by(Dispensation.created_at.desc()))
            return [(line.product_code, line.quantity) for line in found.lines]

    return lines


def dispense(widget, code=None, **kwargs):
    """A dispensing session in English, its code opened from the context when given."""
    kwargs.setdefault("locale", "en")
    return widget(widget="dispensing", context={"code": code} if code else {}, **kwargs)


def outcome_of(response):
    assert step_of(response) == "done", response.text
    return trigger_of(response)["osigu:success"]["outcome"]


def options(response, index=0):
    """The product codes the products step offers for a line (the prescribed one first), or None without a choice."""
    select = re.search(rf'<select[^>]*name="product_code-{index}"[^>]*>(.*?)</select>', response.text, re.S)
    return select and re.findall(r'<option value="([^"]+)"', select.group(1))


class TestCode:
    def test_a_context_code_opens_at_once_and_only_primary_actions_dispense_it(self, widget, prescribe,
                                                                               simulator_rows):
        code = prescribe()
        w = dispense(widget, code)
        products = w.get("/resume")
        assert step_of(products) == "products" and "Paracetamol 500 mg" in products.text
        assert 'value="30"' in products.text and 'max="30"' in products.text  # the prescribed quantity, no more
        outcome = outcome_of(w.post("/complete", data=products_form(products)))
        assert (outcome["code"], outcome["code_type"], outcome["status"], outcome["claim_id"]) == (
            code, "PRESCRIPTION", "DISPENSED", None)
        assert outcome["lines"] == [{"product_code": "MED-042", "quantity": 30}] and outcome["completed_at"]
        assert set(outcome) == {"dispensation_id", "code", "code_type", "status", "claim_id", "completed_at", "lines"}
        assert simulator_rows(code) == ["DISPENSED"]

    @pytest.mark.parametrize("scan", ["{code}\r\n", "  {lower}  ", "]Q1{code}", "]C0{lower}\n"])
    def test_a_typed_or_wedge_scanned_code_opens(self, widget, prescribe, scan):
        code = prescribe()
        w = dispense(widget)
        code_step = w.get("/resume")
        assert step_of(code_step) == "code" and 'name="code"' in code_step.text and "data-osigu-focus" in code_step.text
        opened = w.post("/code", data={"code": scan.format(code=code, lower=code.lower())})
        assert step_of(opened) == "products" and code in opened.text

    @pytest.mark.parametrize("typed, code, message", [
        ("ABC-123", "INVALID_CODE", "not a prescription (RX-…) or authorization (AUT-…) code"),
        ("RX-2026-000000", "091-101", "No prescription or authorization has this code"),
    ])
    def test_a_code_that_is_not_one(self, widget, typed, code, message):
        refused = dispense(widget).post("/code", data={"code": typed})
        assert invalid(refused) and step_of(refused) == "code" and message in refused.text
        assert trigger_of(refused)["osigu:error"]["problem"]["code"] == code
        assert f'value="{typed}"' in refused.text  # what was typed stays, to correct

    def test_an_already_dispensed_code(self, widget, prescribe):
        code = prescribe()
        first = dispense(widget, code)
        outcome_of(first.post("/complete", data=products_form(first.get("/resume"))))
        refused = dispense(widget, code).get("/resume")
        assert invalid(refused) and "already been dispensed" in refused.text
        assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "091-102"

    def test_a_code_open_in_another_of_the_pharmacys_sessions_or_at_another_pharmacy(self, widget, prescribe,
                                                                                    pharmacy):
        mine, theirs = prescribe(), prescribe()
        assert step_of(dispense(widget, mine).get("/resume")) == "products"
        here = dispense(widget).post("/code", data={"code": mine})
        assert invalid(here) and "open in another dispensation of yours" in here.text
        assert pharmacy.post("/dispensing/v1/dispensations", json={"code": theirs}).status_code == 201
        elsewhere = dispense(widget).post("/code", data={"code": theirs})
        assert invalid(elsewhere) and "Another pharmacy is dispensing this code" in elsewhere.text
        assert trigger_of(elsewhere)["osigu:error"]["problem"]["code"] == "091-103"

    @pytest.mark.parametrize("change, code, message", [
        ({"expires_at": utcnow() - timedelta(seconds=1)}, "061-123", "has expired"),
        ({"status": "VOIDED"}, "061-122", "was voided"),
        ({"status": "REJECTED"}, "061-121", "was not approved"),
    ])
    def test_an_authorization_that_cannot_be_dispensed(self, widget, authorization_code, simulator_row, change, code,
                                                       message):
        authorization = authorization_code()
        simulator_row(Authorization, change, code=authorization)
        refused = dispense(widget, authorization).get("/resume")
        assert invalid(refused) and message in refused.text
        assert trigger_of(refused)["osigu:error"]["problem"]["code"] == code

    def test_a_prescription_its_prescriber_cancelled(self, widget, hospital):
        issued = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [PARACETAMOL]}).json()
        assert hospital.post(f"/ehr/v1/prescriptions/{issued['prescription_id']}/cancel").status_code == 200
        refused = dispense(widget, issued["prescription_code"]).get("/resume")
        assert invalid(refused) and "The prescriber cancelled this prescription" in refused.text


class TestProducts:
    def test_a_partial_quantity_with_its_lot_and_expiry(self, widget, prescribe, dispensed_lines):
        code = prescribe(PARACETAMOL, {"product_code": "MED-050", "quantity": 20, "posology": "1 tablet every 8 h"})
        w = dispense(widget, code)
        form = products_form(w.get("/resume")) | {"quantity-0": "10", "lot-0": "L-7",
                                                  "expiry-0": NEXT_YEAR.isoformat(), "quantity-1": "0"}
        outcome = outcome_of(w.post("/complete", data=form))
        assert outcome["lines"] == [{"product_code": "MED-042", "quantity": 10, "lot": "L-7",
                                     "expiry": NEXT_YEAR.isoformat()}]
        assert dispensed_lines(code) == [("MED-042", 10), ("MED-050", 0)]

    @pytest.mark.parametrize("field, value, message", [
        ("quantity-0", "31", "from 0 to 30"),
        ("quantity-0", "-1", "from 0 to 30"),
        ("quantity-0", "2.5", "from 0 to 30"),
        ("expiry-0", "2020-01-31", "This lot expired on 2020-01-31: do not hand it over"),
        ("expiry-0", "31/01/2020", "as it is printed on the pack"),
        ("lot-0", "L" * 41, "at most 40 characters"),
        ("product_code-0", "MED-001", "one of the equivalents offered"),
    ])
    def test_what_cannot_be_handed_over_is_said_beside_its_field(self, widget, prescribe, dispensed_lines, field,
                                                                 value, message):
        code = prescribe()
        w = dispense(widget, code)
        refused = w.post("/complete", data=products_form(w.get("/resume")) | {field: value})
        assert invalid(refused) and step_of(refused) == "products" and message in refused.text
        assert 'aria-invalid="true"' in refused.text
        assert step_of(w.get("/resume")) == "products" and dispensed_lines(code) == [("MED-042", 30)]

    def test_nothing_to_hand_over_is_osigus_refusal_shown_in_place(self, widget, prescribe):
        w = dispense(widget, prescribe())
        refused = w.post("/complete", data=products_form(w.get("/resume")) | {"quantity-0": "0"})
        assert invalid(refused) and "Every quantity is zero" in refused.text
        assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "091-110"
        assert 'value="0"' in refused.text  # what was typed is kept

    def test_a_prescription_offers_same_ingredient_strength_and_form_and_records_the_swap(self, widget, prescribe):
        w = dispense(widget, prescribe())
        products = w.get("/resume")
        offered = options(products)
        assert offered[0] == "MED-042" and "MED-046" in offered  # Panadol, same INN, strength and form
        outcome = outcome_of(w.post("/complete", data=products_form(products) | {"product_code-0": "MED-046"}))
        assert outcome["lines"] == [{"product_code": "MED-046", "quantity": 30, "substituted_for": "MED-042"}]

    def test_a_prescription_whose_prescriber_forbade_substitution_offers_none(self, widget, prescribe):
        w = dispense(widget, prescribe(PARACETAMOL | {"substitution_allowed": False}))
        products = w.get("/resume")
        assert options(products) is None and "No substitution allowed for this line" in products.text
        refused = w.post("/complete", data=products_form(products) | {"product_code-0": "MED-046"})
        assert invalid(refused) and "one of the equivalents offered" in refused.text

    @pytest.mark.parametrize("sponsor, offered, refused", [
        ("seguros-andinos", {"MED-002"}, "MED-357"),  # same INN other brand: Amoxil, not the tablets
        ("eps-vital", {"MED-002", "MED-357"}, "MED-004"),  # same ingredient and strength, other presentation
        ("ars-caribe", None, "MED-002"),  # none
    ])
    def test_an_authorization_offers_what_its_sponsor_allows(self, widget, authorization_code, dispensed_lines,
                                                             sponsor, offered, refused):
        code = authorization_code(sponsor)
        w = dispense(widget, code)
        products = w.get("/resume")
        choices = options(products)
        if offered is None:
            assert choices is None
        else:
            assert choices[0] == "MED-001" and offered <= set(choices) and refused not in choices
        denied = w.post("/complete", data=products_form(products) | {"product_code-0": refused})
        assert invalid(denied) and "one of the equivalents offered" in denied.text
        if offered:
            swapped = sorted(offered)[-1]
            accepted = w.post("/complete", data=products_form(products) | {"product_code-0": swapped})
            assert step_of(accepted) == "verify"  # both sponsors verify the beneficiary at the counter
            assert dispensed_lines(code) == [(swapped, 21)]

    def test_a_pharmacy_that_cannot_read_sponsors_is_offered_what_the_dispensation_says_its_sponsor_allows(
            self, widget, authorization_code):
        products = dispense(widget, authorization_code("seguros-andinos"), host_app="pharmacy-p").get("/resume")
        choices = options(products)
        assert choices[0] == "MED-001" and "MED-002" in choices and "MED-357" not in choices

    def test_an_equivalent_osigu_no_longer_accepts_is_refused_in_place(self, widget, prescribe, hospital):
        w = dispense(widget, prescribe())
        products = w.get("/resume")  # the registered list is read (and kept a minute) here
        assert hospital.delete("/arc/v1/providers/products/MED-046").status_code in (200, 204)
        refused = w.post("/complete", data=products_form(products) | {"product_code-0": "MED-046"})
        assert invalid(refused) and "has not registered this equivalent" in refused.text
        assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "091-109"


def pack(gtin, expiry, lot, serial="SN-1"):
    """A pack's GS1 DataMatrix as a scanner types it: symbology identifier, fixed fields, GS after the lot."""
    return f"]d201{gtin}17{expiry:%y%m%d}10{lot}{GS}21{serial}"


class TestGs1:
    @pytest.mark.parametrize("scan", [pack("07709990000429", NEXT_YEAR, "LOT-7"),
                                      f"(01)07709990000429(17){NEXT_YEAR:%y%m%d}(10)LOT-7(21)SN-1"])
    def test_a_scanned_pack_fills_its_lines_lot_and_expiry(self, widget, prescribe, scan):
        w = dispense(widget, prescribe())
        products = w.get("/resume")
        scanned = w.post("/products/scan", data=products_form(products) | {"quantity-0": "20", "scan": scan})
        assert step_of(scanned) == "products" and "Lot and expiry filled in" in scanned.text
        assert 'value="LOT-7"' in scanned.text and f'value="{NEXT_YEAR.isoformat()}"' in scanned.text
        assert 'value="20"' in scanned.text  # what was typed beside the scan is kept
        outcome = outcome_of(w.post("/complete", data=products_form(scanned)))
        assert outcome["lines"] == [{"product_code": "MED-042", "quantity": 20, "lot": "LOT-7",
                                     "expiry": NEXT_YEAR.isoformat()}]

    def test_a_pack_of_an_allowed_equivalent_swaps_the_line(self, widget, prescribe):
        w = dispense(widget, prescribe())
        scanned = w.post("/products/scan", data=products_form(w.get("/resume")) | {
            "scan": pack("07709990000467", NEXT_YEAR, "PAN-1")})  # Panadol, MED-046
        assert re.search(r'<option value="MED-046" selected', scanned.text)
        assert outcome_of(w.post("/complete", data=products_form(scanned)))["lines"][0]["substituted_for"] == "MED-042"

    @pytest.mark.parametrize("scan, message", [
        (pack("07709990000429", date(2020, 1, 31), "OLD-1"), "This lot expired on 2020-01-31"),
        (pack("07709990000016", NEXT_YEAR, "AMX-1"), "not one of the products on this code"),  # amoxicillin
        ("RX-2026-123456", "not a GS1 pack code"),
        (f"]d210LOT-7{GS}17{NEXT_YEAR:%y%m%d}", "no product number (GTIN)"),
        ("", "Scan the DataMatrix on the pack"),
    ])
    def test_a_pack_that_cannot_be_handed_over_is_refused(self, widget, prescribe, scan, message):
        w = dispense(widget, prescribe())
        refused = w.post("/products/scan", data=products_form(w.get("/resume")) | {"scan": scan})
        assert invalid(refused) and message in refused.text and 'value="LOT' not in refused.text


class TestCompleteOnce:
    def test_two_tabs_completing_at_once_dispense_once_and_file_one_claim(self, widget, authorization_code,
                                                                         simulator_app, simulator_rows):
        code = authorization_code()  # Acme Salud: no verification at the counter
        first = dispense(widget, code)
        form = products_form(first.get("/resume"))
        second = type(first)(first.base.split("/widgets/")[0], first.token, "dispensing")
        answers = []
        tabs = [threading.Thread(target=lambda tab=tab: answers.append(tab.post("/complete", data=form)))
                for tab in (first, second, first)]
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.join()
        outcomes = [outcome_of(answer) for answer in answers] + [outcome_of(second.post("/complete", data=form))]
        assert all(outcome == outcomes[0] for outcome in outcomes) and outcomes[0]["claim_id"].startswith("clm_")
        assert simulator_rows(code) == ["DISPENSED"]

    def test_a_completion_osigu_failed_is_retried_to_one_dispensation(self, widget, prescribe, simulator_app,
                                                                     simulator_rows):
        code = prescribe()
        w = dispense(widget, code)
        form = products_form(w.get("/resume"))
        simulator_app.extensions["simulator.faults"].replace([FaultRule(
            path_prefix="/dispensing/v1/dispensations/", methods=["POST"], error_rate=1, times=1)])
        lost = w.post("/complete", data=form)
        assert invalid(lost) and step_of(lost) == "products" and "Osigu is not answering" in lost.text
        assert trigger_of(lost)["osigu:error"]["problem"]["retryable"] is True
        assert outcome_of(w.post("/complete", data=form))["status"] == "DISPENSED"
        assert simulator_rows(code) == ["DISPENSED"]

    def test_a_completed_session_opens_no_other_code(self, widget, prescribe, simulator_rows):
        w, other = dispense(widget, prescribe()), prescribe()
        outcome_of(w.post("/complete", data=products_form(w.get("/resume"))))
        assert step_of(w.post("/code", data={"code": other})) == "done" and simulator_rows(other) == []

    def test_the_receipt_shows_the_code_lots_claim_and_time_in_the_users_zone(self, widget, authorization_code):
        w = dispense(widget, authorization_code(), locale="es")
        w.headers["X-Osigu-Timezone"] = "America/Bogota"
        done = w.post("/complete", data=products_form(w.get("/resume")) | {"lot-0": "L-9"})
        outcome = outcome_of(done)
        assert outcome["code"] in done.text and "L-9" in done.text and outcome["claim_id"] in done.text
        assert "Colombia" in done.text and "Amoxicilina 500 mg" in done.text
        assert re.search(r"<button[^>]*data-osigu-print[^>]*data-osigu-primary", done.text)
        assert step_of(w.get("/resume")) == "done" and step_of(w.get("/products")) == "done"

    def test_completing_tells_the_host_apps_back_end(self, widget, prescribe, bff_app):
        w = dispense(widget, prescribe(), host_app="his-cb")
        outcome = outcome_of(w.post("/complete", data=products_form(w.get("/resume"))))
        with bff_app.app_context():
            owed = bff_db.session.scalars(bff_db.select(OutboxMessage).filter_by(host_app_id="his-cb")).all()
        assert [(message.event_type, message.payload["data"]["dispensation_id"]) for message in owed] == [
            ("widget.dispensing.completed", outcome["dispensation_id"])]
        assert owed[0].payload["data"]["user_id"] == "dr-7"


class TestVoidAndTimeout:
    def test_void_asks_first_then_frees_the_code_and_tells_the_host(self, widget, prescribe, simulator_rows,
                                                                    bff_app):
        code = prescribe()
        w = dispense(widget, code, host_app="his-cb")
        assert step_of(w.get("/resume")) == "products"
        confirm = w.get("/void")
        assert step_of(confirm) == "void" and code in confirm.text and simulator_rows(code) == ["STARTED"]
        voided = w.post("/void")
        assert step_of(voided) == "voided" and trigger_of(voided)["osigu:exit"] == {"reason": "voided",
                                                                                    "step": "products"}
        assert simulator_rows(code) == ["VOIDED"]
        assert step_of(w.get("/resume")) == "code"
        assert step_of(dispense(widget, code).get("/resume")) == "products"  # the code is free again
        with bff_app.app_context():
            owed = bff_db.session.scalars(bff_db.select(OutboxMessage.event_type)
                                          .filter_by(host_app_id="his-cb")).all()
        assert owed == ["widget.dispensing.voided"]

    def test_a_dispensed_code_cannot_be_voided(self, widget, prescribe, simulator_rows):
        code = prescribe()
        w = dispense(widget, code)
        outcome_of(w.post("/complete", data=products_form(w.get("/resume"))))
        assert step_of(w.post("/void")) == "done" and simulator_rows(code) == ["DISPENSED"]

    def test_a_dispensation_osigu_voided_for_idleness_can_be_started_again(self, widget, prescribe, simulator_app,
                                                                           simulator_row, simulator_rows):
        code = prescribe()
        w = dispense(widget, code)
        products = w.get("/resume")
        idle = simulator_app.config["DISPENSATION_TIMEOUT_SECONDS"] + 1
        simulator_row(Dispensation, {"updated_at": utcnow() - timedelta(seconds=idle)}, code=code)
        timed_out = w.post("/complete", data=products_form(products))
        assert invalid(timed_out) and step_of(timed_out) == "code" and "left idle too long" in timed_out.text
        assert re.search(r"<button[^>]*data-osigu-primary[^>]*>Open the code again<", timed_out.text)
        assert step_of(w.get("/resume")) == "code" and "left idle too long" in w.get("/resume").text
        again = w.post("/code", data={"code": code})
        assert step_of(again) == "products"
        assert simulator_rows(code) == ["VOIDED", "STARTED"]
        assert outcome_of(w.post("/complete", data=products_form(again)))["status"] == "DISPENSED"


def test_a_reload_offers_the_unfinished_dispensation_of_the_same_code(widget, prescribe, simulator_rows):
    code = prescribe()
    assert step_of(dispense(widget, code).get("/resume")) == "products"
    again = dispense(widget, code)
    offer = again.get("/resume")
    assert step_of(offer) == "resume"
    resumed = again.post("/resume/earlier")
    assert step_of(resumed) == "products" and simulator_rows(code) == ["STARTED"]
    assert outcome_of(again.post("/complete", data=products_form(resumed)))["code"] == code


def test_starting_anew_instead_voids_the_unfinished_dispensation_and_opens_the_code_again(widget, prescribe,
                                                                                        simulator_rows):
    code = prescribe()
    assert step_of(dispense(widget, code).get("/resume")) == "products"
    again = dispense(widget, code)
    assert step_of(again.get("/resume")) == "resume"
    assert step_of(again.post("/resume/new")) == "products"
    assert simulator_rows(code) == ["VOIDED", "STARTED"]


DISPENSING_FORMS = [("/code", "code"), ("/complete", "product_code-0"), ("/complete", "quantity-0"),
                    ("/complete", "lot-0"), ("/complete", "expiry-0"), ("/products/scan", "scan"),
                    ("/verification/otp", "otp"), ("/verification/biometric", "modality"),
                    ("/verification/biometric", "reading")]


@pytest.mark.parametrize("url, field", DISPENSING_FORMS)
def test_hostile_text_in_any_field_is_refused_or_escaped_never_a_5xx(widget, prescribe, simulator_rows, url, field):
    code = prescribe()
    w = dispense(widget, code)
    form = products_form(w.get("/resume"))
    for value in HOSTILE:
        answer = w.post(url, data=form | {field: value})
        assert answer.status_code < 500, (field, value[:40], answer.text[:300])
        if "<" in value:
            assert value not in answer.text
    assert simulator_rows(code) in (["STARTED"], ["DISPENSED"])  # never a second dispensation
