"""Redemption at Osigu (bff/redemption.py): every step against the simulator over HTTP, exactly once."""

import json
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from bff import redemption as redemptions
from bff.db import SessionObject, WidgetSession
from bff.db import db as bff_db
from bff.redemption import Redemption, RedemptionError
from simulator.db import db as sim_db
from simulator.db import utcnow
from simulator.faults import FaultRule
from simulator.models import Authorization, Claim, Dispensation

PHARMACY = "pms-b"  # a host app with the demo pharmacy's own Osigu credentials
QUEUE_ENTRY = ("pharmacy", "queue-entry-1")
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


@pytest.fixture
def app(bff_app):
    """The BFF's application context: the redemption functions run inside a request or a job."""
    with bff_app.app_context():
        yield bff_app


@pytest.fixture
def upstream_rows(simulator_app):
    """Read the simulator's own records of a code: its dispensations and the claims they filed."""

    def rows(code):
        with simulator_app.app_context():
            dispensations = sim_db.session.scalars(sim_db.select(Dispensation).filter_by(code=code)).all()
            claims = sim_db.session.scalars(sim_db.select(Claim).where(
                Claim.dispensation_id.in_([d.id for d in dispensations]))).all()
            return [d.status for d in dispensations], [c.id for c in claims]

    return rows


@pytest.fixture
def authorization_code(preauthorize):
    """Have a sponsor approve MED-001 for its first beneficiary and return the AUT- code."""

    def approve(sponsor="acme-salud"):
        response = preauthorize(sponsor, ("MED-001", 21))
        assert response.status_code == 200, response.text
        return response.json()["authorizations"][0]["authorization_code"]

    return approve


def reload(redemption):
    """Read the redemption back as another request (or a restarted process) would."""
    bff_db.session.expire_all()
    return bff_db.session.get(Redemption, redemption.id)


def run_together(*targets):
    """Run each target in its own thread, as two tabs or two clicks would, and wait for all of them."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def refused(kind, call, *args):
    with pytest.raises(RedemptionError) as caught:
        call(*args)
    assert caught.value.kind == kind
    return caught.value


class TestRedeeming:
    def test_a_prescription_code_is_redeemed_in_full(self, app, prescribe, upstream_rows):
        code = prescribe()
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code.lower())
        assert (redemption.status, redemption.code, redemption.code_type) == ("STARTED", code, "PRESCRIPTION")
        assert [(line["product_code"], line["quantity"]) for line in redemption.lines] == [("MED-042", 30)]
        redemptions.complete(redemption)
        outcome = redemptions.outcome(reload(redemption))
        assert outcome["status"] == "DISPENSED" and outcome["claim_id"] is None and outcome["completed_at"]
        assert outcome["lines"] == [{"product_code": "MED-042", "quantity": 30}]
        assert upstream_rows(code) == (["DISPENSED"], [])

    def test_an_authorization_with_otp_files_one_claim(self, app, authorization_code, read_otp, upstream_rows):
        code = authorization_code("seguros-andinos")  # Seguros Andinos asks for an OTP at the counter
        redemption = redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        assert redemption.status == "PENDING_VERIFICATION" and redemption.verification["methods"] == ["OTP"]
        otp = read_otp(redemption.dispensation_id)
        wrong = refused("OTP_INVALID", redemptions.validate_otp, redemption, "000000" if otp != "000000" else "111111")
        assert wrong.details == {"attempts_left": 2}
        status = redemptions.validate_otp(redemption, otp)
        assert status["status"] == "VERIFIED"
        redemption = reload(redemption)
        assert redemption.status == "DISPENSED" and redemption.claim_id.startswith("clm_")
        assert upstream_rows(code) == (["DISPENSED"], [redemption.claim_id])

    def test_spent_otp_attempts_then_a_fresh_code(self, app, authorization_code, read_otp):
        code = authorization_code("seguros-andinos")
        redemption = redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        first = read_otp(redemption.dispensation_id)
        wrong = "111111" if first != "111111" else "222222"
        for _ in range(2):
            refused("OTP_INVALID", redemptions.validate_otp, redemption, wrong)
        refused("OTP_ATTEMPTS_EXCEEDED", redemptions.validate_otp, redemption, wrong)
        assert redemptions.send_otp(redemption).status == "PENDING_VERIFICATION"
        redemptions.validate_otp(redemption, read_otp(redemption.dispensation_id))
        assert reload(redemption).status == "DISPENSED"

    @pytest.mark.parametrize("reading, verified", [("ZmluZ2Vy", True), ("Tk8tTUFUQ0g=", False)])  # NO-MATCH
    def test_biometric_match_completes_and_no_match_does_not(self, app, prescribe, reading, verified):
        code = prescribe({"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"})
        redemption = redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        assert redemption.status == "PENDING_VERIFICATION"
        redemptions.submit_biometric(redemption, "FINGERPRINT", reading)
        status = redemptions.poll(redemption)
        assert status["biometric"]["status"] == ("MATCH" if verified else "NO_MATCH")
        assert reload(redemption).status == ("DISPENSED" if verified else "PENDING_VERIFICATION")


    @pytest.mark.parametrize("modality, reading", [("IRIS", "ZmluZ2Vy"), ("FACE", "not base64!"), ("FACE", "")])
    def test_a_reading_osigu_could_not_take_is_refused_here(self, app, prescribe, modality, reading):
        code = prescribe({"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"})
        redemption = redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        refused("BIOMETRIC_INVALID", redemptions.submit_biometric, redemption, modality, reading)
        assert redemptions.verification(redemption)["biometric"] is None  # nothing reached Osigu


class TestProducts:
    def test_partial_quantity_with_a_lot_and_a_line_left_out(self, app, prescribe):
        code = prescribe({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"},
                         {"product_code": "MED-050", "quantity": 20, "posology": "1 tablet every 8 h"})
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        redemptions.set_products(redemption, [{"product_code": "MED-042", "quantity": 10, "lot": "L-7",
                                               "expiry": NEXT_YEAR}])
        assert redemption.status == "PRODUCTS_SET"
        assert {line["product_code"]: line["quantity"] for line in redemption.lines} == {"MED-042": 10, "MED-050": 0}
        redemptions.complete(redemption)
        assert redemptions.outcome(reload(redemption))["lines"] == [
            {"product_code": "MED-042", "quantity": 10, "lot": "L-7", "expiry": NEXT_YEAR}]

    @pytest.mark.parametrize("simulator_config", [{"FAULTS": [
        {"path_prefix": "/dispensing/v1/dispensations/", "methods": ["PUT"], "error_rate": 1}]}])
    def test_nothing_is_sent_when_what_is_handed_over_is_what_was_loaded(self, app, prescribe):
        # Every PUT fails at the simulator here, so only a step that sends none can succeed.
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe())
        redemptions.set_products(redemption, [{"product_code": "MED-042", "quantity": 30, "lot": "L-1"}])
        assert reload(redemption).status == "PRODUCTS_SET" and redemption.lines[0]["lot"] == "L-1"
        refused("UPSTREAM_UNAVAILABLE", redemptions.set_products, redemption,
                [{"product_code": "MED-042", "quantity": 29}])

    def test_an_allowed_substitution(self, app, prescribe):
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe())
        redemptions.set_products(redemption, [{"product_code": "MED-046", "quantity": 30,
                                               "substituted_for": "MED-042"}])  # Panadol for paracetamol
        redemptions.complete(redemption)
        assert redemptions.outcome(reload(redemption))["lines"] == [
            {"product_code": "MED-046", "quantity": 30, "substituted_for": "MED-042"}]

    def test_a_substitution_the_prescriber_forbade_is_refused_and_changes_nothing(self, app, prescribe):
        code = prescribe({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h",
                          "substitution_allowed": False})
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        error = refused("SUBSTITUTION_NOT_ALLOWED", redemptions.set_products, redemption,
                        [{"product_code": "MED-046", "quantity": 30, "substituted_for": "MED-042", "lot": "X"}])
        assert error.details["reason"] == "NOT_ALLOWED"
        redemption = reload(redemption)
        assert redemption.status == "STARTED" and redemption.pending is None
        assert (redemption.lines[0]["product_code"], redemption.lines[0]["lot"]) == ("MED-042", None)
        assert redemptions.complete(redemption).status == "DISPENSED"

    def test_a_sponsor_refuses_another_strength(self, app, authorization_code):
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, authorization_code("seguros-andinos"))
        error = refused("SUBSTITUTION_NOT_ALLOWED", redemptions.set_products, redemption,
                        [{"product_code": "MED-357", "quantity": 21, "substituted_for": "MED-001"}])
        assert error.details["reason"] == "NOT_EQUIVALENT"

    @pytest.mark.parametrize("lines, kind", [
        ([{"product_code": "MED-042", "quantity": 31}], "QUANTITY_EXCEEDS_PRESCRIBED"),
        ([{"product_code": "MED-001", "quantity": 1}], "NOT_ON_CODE"),
        ([{"product_code": "MED-042", "quantity": 1, "lot": "OLD", "expiry": "2020-01-31"}], "EXPIRED_LOT"),
        ([{"product_code": "MED-042", "quantity": -1}], "INVALID_LINES"),
    ])
    def test_lines_that_cannot_be_handed_over(self, app, prescribe, lines, kind):
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe())
        refused(kind, redemptions.set_products, redemption, lines)


class TestRefusals:
    def test_an_unknown_code_fails_and_frees_the_owner(self, app):
        refused("CODE_UNKNOWN", redemptions.start, PHARMACY, QUEUE_ENTRY, "RX-2026-000000")
        redemption = redemptions.for_owner(PHARMACY, QUEUE_ENTRY)
        assert (redemption.status, redemption.last_error, redemption.open_key) == ("FAILED", "CODE_UNKNOWN", None)

    @pytest.mark.parametrize("code", ["", "RX 2026", "ABC-123", "RX-" + "9" * 40])
    def test_a_malformed_code_never_reaches_osigu(self, app, code):
        refused("INVALID_CODE", redemptions.start, PHARMACY, QUEUE_ENTRY, code)
        assert redemptions.for_owner(PHARMACY, QUEUE_ENTRY) is None

    def test_an_already_redeemed_code(self, app, prescribe):
        code = prescribe()
        redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        refused("CODE_ALREADY_REDEEMED", redemptions.start, PHARMACY, ("pharmacy", "queue-entry-2"), code)

    def test_a_code_being_dispensed_here_or_elsewhere(self, app, prescribe):
        code = prescribe()
        redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        here = refused("CODE_BEING_DISPENSED", redemptions.start, PHARMACY, ("widget", "flow-2"), code)
        assert here.details is None  # another owner is not told which dispensation holds it
        refused("CODE_BEING_DISPENSED_ELSEWHERE", redemptions.start, "his-a", ("widget", "flow-3"), code)

    def test_an_expired_and_a_voided_authorization(self, app, simulator_app, hospital, authorization_code):
        expired, voided = authorization_code(), authorization_code()
        with simulator_app.app_context():
            row = sim_db.session.scalar(sim_db.select(Authorization).filter_by(code=expired))
            row.expires_at = utcnow() - timedelta(seconds=1)
            sim_db.session.commit()
        assert hospital.post(f"/arc/v1/authorizations/{voided}/void").status_code == 200
        refused("CODE_EXPIRED", redemptions.start, PHARMACY, QUEUE_ENTRY, expired)
        refused("CODE_VOIDED", redemptions.start, PHARMACY, QUEUE_ENTRY, voided)

    @pytest.mark.parametrize("act, args", [("refresh", ()), ("complete", ()),
                                           ("set_products", ([{"product_code": "MED-042", "quantity": 1}],))])
    def test_a_dispensation_osigu_voided_for_idleness(self, app, simulator_app, prescribe, act, args):
        code = prescribe()
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        with simulator_app.app_context():
            row = sim_db.session.get(Dispensation, redemption.dispensation_id)
            row.updated_at = utcnow() - timedelta(seconds=simulator_app.config["DISPENSATION_TIMEOUT_SECONDS"] + 1)
            sim_db.session.commit()
        if act == "refresh":
            assert redemptions.refresh(redemption).status == "VOIDED"
        else:
            refused("TIMEOUT_VOIDED", getattr(redemptions, act), redemption, *args)
        assert (reload(redemption).status, redemption.void_reason) == ("VOIDED", "TIMEOUT")
        assert redemptions.start(PHARMACY, QUEUE_ENTRY, code).status == "STARTED"  # the code is free again


class TestExactlyOnce:
    def test_starting_twice_opens_one_dispensation(self, app, prescribe, upstream_rows):
        code = prescribe()
        first = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        assert redemptions.start(PHARMACY, QUEUE_ENTRY, code).id == first.id
        assert upstream_rows(code) == (["STARTED"], [])

    def test_two_clicks_on_start_at_once_open_one_dispensation(self, bff_app, prescribe, upstream_rows):
        code = prescribe()
        ids, ready = [], threading.Barrier(2)

        def click():
            with bff_app.app_context():
                ready.wait()
                ids.append(redemptions.start(PHARMACY, QUEUE_ENTRY, code).dispensation_id)

        run_together(click, click)
        assert len(ids) == 2 and ids[0] == ids[1] and upstream_rows(code) == (["STARTED"], [])

    def test_completing_twice_dispenses_once(self, app, authorization_code, upstream_rows):
        code = authorization_code()
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        claim_id = redemptions.complete(redemption).claim_id
        assert redemptions.complete(reload(redemption)).claim_id == claim_id
        assert upstream_rows(code) == (["DISPENSED"], [claim_id])

    def test_two_tabs_completing_at_once_dispense_once(self, app, bff_app, authorization_code, upstream_rows):
        code = authorization_code()
        redemption_id = redemptions.start(PHARMACY, QUEUE_ENTRY, code).id
        results, ready = [], threading.Barrier(2)

        def tab():
            with bff_app.app_context():
                redemption = bff_db.session.get(Redemption, redemption_id)
                ready.wait()
                results.append(redemptions.complete(redemption).claim_id)

        run_together(tab, tab)
        statuses, claims = upstream_rows(code)
        assert statuses == ["DISPENSED"] and len(claims) == 1 and results == claims * 2

    def test_a_crash_after_osigu_completed_is_resumed_to_one_claim(self, make_bff, authorization_code,
                                                                   upstream_rows):
        crashes = []

        def crash_once(step, _redemption):
            if step == "complete" and not crashes:
                crashes.append(step)
                raise SystemExit("killed between Osigu's answer and the record")

        crashing = make_bff(REDEMPTION_AFTER_UPSTREAM_CALL=crash_once)
        code = authorization_code()
        with crashing.app_context():
            redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
            with pytest.raises(SystemExit):
                redemptions.complete(redemption)
            left = reload(redemption)
            assert left.status == "STARTED" and left.pending["step"] == "complete"
        assert upstream_rows(code)[0] == ["DISPENSED"]

        restarted = make_bff()  # start-up resumes what was in flight
        with restarted.app_context():
            redemption = bff_db.session.get(Redemption, redemption.id)
            assert redemption.status == "DISPENSED" and redemption.pending is None
            assert redemptions.complete(redemption).claim_id == redemption.claim_id
        assert upstream_rows(code) == (["DISPENSED"], [redemption.claim_id])

    def test_a_crash_after_osigu_started_is_resumed_to_the_same_dispensation(self, make_bff, prescribe,
                                                                             upstream_rows):
        def crash(step, _redemption):
            raise SystemExit(step)

        code = prescribe()
        with make_bff(REDEMPTION_AFTER_UPSTREAM_CALL=crash).app_context():
            with pytest.raises(SystemExit):
                redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        report = redemptions.resume_unfinished(make_bff(REDEMPTION_RESUME_ON_START=False))
        assert [(row["resumed"], row["status"], row["error"]) for row in report] == [("start", "STARTED", None)]
        with make_bff().app_context():
            redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
            assert redemption.dispensation_id
        assert upstream_rows(code) == (["STARTED"], [])

    def test_resuming_stops_while_osigu_is_down_and_finishes_later(self, app, simulator_app, prescribe,
                                                                    upstream_rows):
        codes = [prescribe(), prescribe()]
        started = [redemptions.start(PHARMACY, ("pharmacy", f"entry-{n}"), code) for n, code in enumerate(codes)]
        simulator_app.extensions["simulator.faults"].replace([FaultRule(path_prefix="/dispensing/", error_rate=1)])
        for redemption in started:
            refused("UPSTREAM_UNAVAILABLE", redemptions.complete, redemption)
        assert [row["error"] for row in redemptions.resume_unfinished(app)] == ["UPSTREAM_UNAVAILABLE"]
        simulator_app.extensions["simulator.faults"].replace([])
        assert [row["status"] for row in redemptions.resume_unfinished(app)] == ["DISPENSED", "DISPENSED"]
        assert [upstream_rows(code)[0] for code in codes] == [["DISPENSED"], ["DISPENSED"]]

    @pytest.mark.parametrize("simulator_config", [{"FAULTS": [
        {"path_prefix": "/dispensing/v1/dispensations/", "methods": ["POST"], "drop_rate": 1, "times": 1}]}])
    def test_a_dropped_answer_keeps_the_call_in_flight_until_resumed(self, app, prescribe, upstream_rows):
        code = prescribe()
        redemption = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        error = refused("UPSTREAM_UNAVAILABLE", redemptions.complete, redemption)
        assert error.retryable and reload(redemption).pending["step"] == "complete"
        assert redemptions.resume_unfinished(app)[0]["status"] == "DISPENSED"
        assert upstream_rows(code)[0] == ["DISPENSED"]


class TestVoidAndOwnership:
    def test_void_frees_the_code(self, app, prescribe, upstream_rows):
        code = prescribe()
        first = redemptions.void(redemptions.start(PHARMACY, QUEUE_ENTRY, code))
        assert first.status == "VOIDED" and redemptions.void(first).status == "VOIDED"
        again = redemptions.start(PHARMACY, QUEUE_ENTRY, code)
        assert again.id != first.id and again.status == "STARTED"
        assert upstream_rows(code) == (["VOIDED", "STARTED"], [])

    def test_a_completed_redemption_cannot_be_voided(self, app, prescribe):
        redemption = redemptions.complete(redemptions.start(PHARMACY, QUEUE_ENTRY, prescribe()))
        refused("ALREADY_DISPENSED", redemptions.void, redemption)

    def test_the_dispensation_is_bound_to_the_session_that_started_it(self, app, new_session, prescribe):
        new_session("dispensing")
        session = bff_db.session.scalars(bff_db.select(WidgetSession)).one()
        redemption = redemptions.start(session.host_app_id, ("widget", session.flow_id), prescribe(), session.id)
        bound = bff_db.session.scalars(bff_db.select(SessionObject)).one()
        assert (bound.session_id, bound.kind, bound.upstream_id) == (session.id, "dispensation",
                                                                     redemption.dispensation_id)
        assert redemptions.for_owner(session.host_app_id, ("widget", session.flow_id)).id == redemption.id


class TestKilled:
    @pytest.mark.parametrize("step, database", [("start", "sqlite"), ("products", "sqlite"), ("complete", "sqlite"),
                                                ("complete", "postgres")])
    def test_a_bff_killed_after_osigu_answered_redeems_once_after_restart(
            self, request, step, database, make_bff, host_apps, simulator_url, tmp_path, authorization_code,
            upstream_rows):
        code = authorization_code()
        database_url = (request.getfixturevalue("postgres_database") if database == "postgres"
                        else f"sqlite:///{tmp_path / 'bff.sqlite3'}")
        killed = subprocess.run([sys.executable, str(Path(__file__).with_name("redeem_then_die.py")), simulator_url,
                                 database_url, json.dumps(host_apps), PHARMACY, code, step], timeout=60)
        assert killed.returncode == -signal.SIGKILL

        with make_bff(SQLALCHEMY_DATABASE_URI=database_url).app_context():  # start-up resumes the step in flight
            redemption = redemptions.for_owner(PHARMACY, QUEUE_ENTRY)
            assert redemption.pending is None and redemption.dispensation_id
            if step == "start":
                redemptions.set_products(redemption, [{"product_code": "MED-001", "quantity": 1}])
            redemptions.complete(redemption)  # what the pharmacist does next: retry, or carry on
            assert redemptions.outcome(redemption)["lines"] == [{"product_code": "MED-001", "quantity": 1}]
        assert upstream_rows(code) == (["DISPENSED"], [redemption.claim_id])
