"""The verification component (widgets/verification.py) as the dispensing widget mounts it: OTP and biometric."""

import base64
import re
from datetime import timedelta

import pytest
from widget_client import products_form, step_of, trigger_of

from bff.db import db
from bff.redemption import Redemption
from simulator.db import db as sim_db
from simulator.db import utcnow
from simulator.faults import FaultRule
from simulator.models import Dispensation

TRAMADOL = {"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"}
MATCH = base64.b64encode(b"a fingerprint template").decode()
NO_MATCH = base64.b64encode(b"NO-MATCH: someone else").decode()


@pytest.fixture
def otp_for(bff_app, read_otp):
    """The newest OTP sent about the dispensation of a code, as the beneficiary reads it from their phone."""

    def read(code):
        with bff_app.app_context():
            dispensation_id = db.session.scalar(db.select(Redemption.dispensation_id).filter_by(code=code)
                                                .order_by(Redemption.created_at.desc()).limit(1))
        return read_otp(dispensation_id)

    return read


def waiting_for_verification(widget, code):
    """A dispensing session whose code was opened and completed, and now waits for the beneficiary's verification."""
    w = widget(widget="dispensing", locale="en", context={"code": code})
    products = w.get("/resume")
    assert step_of(products) == "products"
    verify = w.post("/complete", data=products_form(products))
    assert step_of(verify) == "verify", verify.text
    return w, verify


def wrong(otp):
    return "111111" if otp != "111111" else "222222"


def dispensed(response):
    """The outcome a verified answer carries, once it put the receipt in place of the whole step."""
    assert response.headers["HX-Retarget"] == "#widget" and step_of(response) == "done"
    return trigger_of(response)["osigu:success"]["outcome"]


class TestOtp:
    def test_the_right_code_after_a_wrong_one_dispenses_and_files_the_claim(self, widget, authorization_code,
                                                                            otp_for):
        code = authorization_code("seguros-andinos")
        w, verify = waiting_for_verification(widget, code)
        assert 'name="otp"' in verify.text and "Attempts left: 3" in verify.text
        assert re.search(r"<button[^>]*data-osigu-primary[^>]*>Verify<", verify.text)
        otp = otp_for(code)
        refused = w.post("/verification/otp", data={"otp": wrong(otp)})
        assert step_of(refused) is None and 'id="osigu-verification"' in refused.text
        assert "That code is not right" in refused.text and "Attempts left: 2" in refused.text
        outcome = dispensed(w.post("/verification/otp", data={"otp": otp}))
        assert outcome["status"] == "DISPENSED" and outcome["claim_id"].startswith("clm_")

    @pytest.mark.parametrize("typed", ["12345", "12a456", "１２３４５６", "1234567"])
    def test_anything_but_six_digits_is_refused_here_and_costs_no_attempt(self, widget, authorization_code, typed):
        w, _ = waiting_for_verification(widget, authorization_code("seguros-andinos"))
        refused = w.post("/verification/otp", data={"otp": typed})
        assert "Type the six digits" in refused.text and "Attempts left: 3" in refused.text

    def test_three_wrong_codes_spend_it_and_a_new_one_can_be_sent(self, widget, authorization_code, otp_for):
        code = authorization_code("seguros-andinos")
        w, _ = waiting_for_verification(widget, code)
        first = otp_for(code)
        for _ in range(2):
            w.post("/verification/otp", data={"otp": wrong(first)})
        spent = w.post("/verification/otp", data={"otp": wrong(first)})
        assert "Three wrong codes" in spent.text and 'name="otp"' not in spent.text
        assert re.search(r"<button[^>]*data-osigu-primary[^>]*>Send a new code<", spent.text)
        sent = w.post("/verification/otp/send")
        assert "A new code is on its way" in sent.text and "Attempts left: 3" in sent.text
        second = otp_for(code)
        assert dispensed(w.post("/verification/otp", data={"otp": second}))["claim_id"]


class TestBiometric:
    def test_a_matching_reading_polls_then_dispenses(self, widget, prescribe, eventually):
        w, verify = waiting_for_verification(widget, prescribe(TRAMADOL))
        assert "data-osigu-biometric " in verify.text and 'data-osigu-biometric-max-bytes="262144"' in verify.text
        waiting = w.post("/verification/biometric", data={"modality": "FINGERPRINT", "reading": MATCH})
        assert 'role="status"' in waiting.text and 'aria-live="polite"' in waiting.text
        assert re.search(r'hx-trigger="load delay:\d+m?s"', waiting.text)
        answer = eventually(lambda: (poll := w.get("/verification/poll")).status_code == 286 and poll)
        assert dispensed(answer)["lines"] == [{"product_code": "MED-069", "quantity": 10}]

    def test_the_form_keeps_the_biometric_dom_contract_and_the_reading_is_never_logged(self, widget, prescribe,
                                                                                        caplog):
        w, verify = waiting_for_verification(widget, prescribe(TRAMADOL))
        form = re.search(r"<form data-osigu-biometric .*?</form>", verify.text, re.S).group(0)
        assert 'hx-post="/widgets/dispensing/verification/biometric"' in form
        assert '<input type="hidden" name="modality" value="FINGERPRINT">' in form
        assert '<input type="hidden" name="reading">' in form
        assert re.search(r'<button type="button" data-osigu-biometric-host hidden>', form)
        assert re.search(r"<button type=\"button\" data-osigu-biometric-camera[^>]*>Take a photo<", form)
        assert "<video data-osigu-biometric-video hidden></video>" in form
        assert 'accept="image/jpeg,image/png" data-osigu-biometric-file' in form
        assert re.search(r'<p data-osigu-biometric-error role="alert"\s+data-too-large="[^"]+"'
                         r'\s+data-no-camera="[^"]+"', form)
        caplog.set_level("DEBUG")
        w.post("/verification/biometric", data={"modality": "FINGERPRINT", "reading": MATCH})
        assert caplog.records and MATCH not in caplog.text

    def test_a_sponsor_that_asks_only_for_biometrics_makes_the_camera_the_primary_action(
            self, widget, authorization_code):
        _, verify = waiting_for_verification(widget, authorization_code("eps-vital"))
        assert 'name="otp"' not in verify.text and "Send a code" not in verify.text
        assert re.search(r"<button type=\"button\" data-osigu-biometric-camera data-osigu-primary>", verify.text)

    def test_no_match_stops_polling_and_says_what_to_do(self, widget, prescribe, eventually):
        w, _ = waiting_for_verification(widget, prescribe(TRAMADOL))
        w.post("/verification/biometric", data={"modality": "FACE", "reading": NO_MATCH})
        answer = eventually(lambda: (poll := w.get("/verification/poll")).status_code == 286 and poll)
        assert "did not match" in answer.text and "osigu:success" not in trigger_of(answer)
        assert "hx-trigger" not in answer.text and "data-osigu-biometric " in answer.text  # take it again
        assert step_of(w.get("/resume")) == "verify"

    @pytest.mark.parametrize("modality, reading, message", [
        ("IRIS", MATCH, "could not be read"),
        ("FACE", "not base64!", "could not be read"),
        ("FACE", "", "could not be read"),
        ("FACE", "A" * (4 * (256 * 1024 // 3 + 1) + 4), "too large"),
    ])
    def test_a_reading_osigu_could_not_take_is_refused_here(self, widget, prescribe, modality, reading, message):
        w, _ = waiting_for_verification(widget, prescribe(TRAMADOL))
        refused = w.post("/verification/biometric", data={"modality": modality, "reading": reading})
        assert refused.status_code == 200 and message in refused.text
        assert "data-osigu-verification-progress" not in w.get("/verification").text  # nothing reached Osigu

    def test_a_reading_far_beyond_any_photo_is_refused_before_it_is_read(self, widget, prescribe):
        w, _ = waiting_for_verification(widget, prescribe(TRAMADOL))
        assert w.post("/verification/biometric", data={"modality": "FACE", "reading": "A" * 2_000_000}).status_code \
            == 413


def test_while_osigu_cannot_say_what_it_asks_the_step_offers_to_ask_again(widget, prescribe, simulator_app):
    w, _ = waiting_for_verification(widget, prescribe(TRAMADOL))
    faults = simulator_app.extensions["simulator.faults"]
    faults.replace([FaultRule(path_prefix="/dispensing/", methods=["GET"], error_rate=1)])
    down = w.get("/verify")
    assert step_of(down) == "verify" and "Osigu is not answering" in down.text
    assert re.search(r"<button[^>]*data-osigu-primary[^>]*>Try again<", down.text)
    faults.replace([])
    assert 'id="osigu-verification"' in w.get("/verify").text


def test_a_dispensation_voided_for_idleness_while_verifying_says_so_in_place_of_the_step(
        widget, authorization_code, otp_for, simulator_app):
    code = authorization_code("seguros-andinos")
    w, _ = waiting_for_verification(widget, code)
    idle = simulator_app.config["DISPENSATION_TIMEOUT_SECONDS"] + 1
    with simulator_app.app_context():
        row = sim_db.session.scalar(sim_db.select(Dispensation).filter_by(code=code))
        row.updated_at = utcnow() - timedelta(seconds=idle)
        sim_db.session.commit()
    answer = w.post("/verification/otp", data={"otp": otp_for(code)})
    assert answer.headers["HX-Retarget"] == "#widget" and step_of(answer) == "code"
    assert "left idle too long" in answer.text and "osigu:success" not in trigger_of(answer)


def test_nothing_waiting_shows_the_widgets_own_step(widget, prescribe):
    w = widget(widget="dispensing", locale="en", context={"code": prescribe()})
    assert step_of(w.get("/resume")) == "products"
    answer = w.get("/verification")
    assert answer.headers["HX-Retarget"] == "#widget" and step_of(answer) == "products"
