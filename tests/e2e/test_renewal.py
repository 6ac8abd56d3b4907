"""A session that runs out mid-flow, in a real Chromium: renewed through fetchToken, the doctor's draft intact."""

import re

import pytest
from test_prescription import WORDS, expect_step, open_his, start

from bff.db import WidgetSession, db, utcnow

pytestmark = pytest.mark.e2e
IDLE_SECONDS = 3  # the idle limit for these tests: any pause of the doctor's longer than this ends the session


def choose_headache(frame, words):
    """On the diagnoses step: find and add R51."""
    frame.get_by_label(words["search_dx"]).fill("cefalea")
    frame.get_by_role("button", name=words["add"], exact=True).click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()


def prescribe_paracetamol(frame, words):
    """On the medications step: add paracetamol 500 mg, 1 tablet every 8 hours for 10 days."""
    frame.get_by_label(words["search_med"]).fill("paracetamol 500")
    frame.get_by_role("button", name=words["prescribe"], exact=True).click()
    frame.get_by_label(words["days"]).fill("10")
    frame.get_by_label(words["quantity"]).fill("30")
    frame.get_by_role("button", name=words["add_line"]).click()
    frame.get_by_text(words["posology"]).wait_for()


def sessions_of(his):
    with his.bff_app.app_context():
        return [(s.flow_id, s.expires_at) for s in db.session.scalars(db.select(WidgetSession))]


def all_expired(his):
    now = utcnow()
    return all(expires_at.replace(tzinfo=now.tzinfo) <= now for _, expires_at in sessions_of(his))


@pytest.mark.parametrize("bff_config", [{"SESSION_TTL_SECONDS": IDLE_SECONDS}])
def test_a_session_that_expires_mid_flow_is_renewed_and_the_draft_is_intact(page, his, eventually, console_errors,
                                                                           bff_config):
    words = WORDS["en"]
    open_his(page, his)
    frame = start(page, "v1", "en")  # the HIS passes Ana López
    expect_step(frame, "en", "diagnoses")
    choose_headache(frame, words)

    eventually(lambda: all_expired(his), timeout=IDLE_SECONDS * 5)  # the doctor looks away for a while
    frame.get_by_role("button", name=words["continue"]).click()
    # fetchToken made a second session; the refused request went again with it and the expired token's proof.
    expect_step(frame, "en", "medications")
    flows = [flow for flow, _ in sessions_of(his)]
    assert len(flows) >= 2 and len(set(flows)) == 1
    frame.get_by_text("Ana López").first.wait_for()  # the host's patient is still applied

    prescribe_paracetamol(frame, words)
    frame.get_by_role("button", name=words["continue"]).click()
    expect_step(frame, "en", "review")
    assert frame.get_by_text("R51").count() > 0  # the diagnosis chosen before the renewal is on the prescription
    frame.get_by_role("button", name=words["issue"]).click()
    expect_step(frame, "en", "done")
    # Shown in the browser's zone (Bogotá in these tests), and saying so.
    assert re.search(r"Issued .+\(Colombia Time\)", frame.locator(".osigu-success").inner_text())
    page.get_by_text(re.compile(r"Prescription RX-\d{4}-\d{6} issued")).wait_for()
    # widget.js renews ahead of the idle limit; a request that still met an expired session (a slow answer
    # can make its clock late) shows as a refused 401 in the console, renewed just the same. Nothing else may.
    assert all("401" in text for text in console_errors), console_errors
    console_errors.clear()


def test_reloading_the_host_page_offers_to_resume_the_unfinished_prescription(page, his):
    words = WORDS["en"]
    open_his(page, his)
    frame = start(page, "v1", "en")
    expect_step(frame, "en", "diagnoses")
    choose_headache(frame, words)

    page.reload()  # the host page: a new mount, a new session, no previous token
    frame = start(page, "v1", "en")
    offer = frame.get_by_role("button", name=re.compile(r"Resume the prescription you started at \d{1,2}:\d{2}"))
    offer.wait_for()
    assert "Colombia Time" in offer.inner_text()
    offer.click()
    expect_step(frame, "en", "diagnoses")
    frame.locator(".osigu-chosen", has_text="R51").wait_for()


def test_a_session_about_to_run_out_is_renewed_before_the_request_so_nothing_is_refused(page, his, console_errors):
    words = WORDS["en"]
    page.clock.install()  # the widget's clock, to stand for a doctor away for 40 minutes
    open_his(page, his)
    frame = start(page, "v1", "en")
    expect_step(frame, "en", "diagnoses")
    choose_headache(frame, words)
    page.clock.fast_forward("40:00")
    frame.get_by_role("button", name=words["continue"]).click()
    expect_step(frame, "en", "medications")
    flows = [flow for flow, _ in sessions_of(his)]
    assert len(flows) == 2 and len(set(flows)) == 1  # renewed, and carrying on the same draft
    frame.get_by_role("button", name="Back").click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    assert console_errors == []  # no request was sent with a session the BFF would refuse


def test_a_request_refused_as_expired_is_retried_with_the_renewed_session_on_the_same_draft(page, his,
                                                                                           console_errors):
    words = WORDS["en"]
    open_his(page, his)
    frame = start(page, "v1", "en")
    expect_step(frame, "en", "diagnoses")
    choose_headache(frame, words)
    with his.bff_app.app_context():  # ended on the BFF's side, where the widget cannot see it coming
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow()))
        db.session.commit()
    frame.get_by_role("button", name=words["continue"]).click()
    expect_step(frame, "en", "medications")
    assert len({flow for flow, _ in sessions_of(his)}) == 1
    frame.get_by_role("button", name="Back").click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    assert console_errors and all("401" in text for text in console_errors), console_errors  # the refused request
    console_errors.clear()
