"""Renewal and reload over HTTP: a renewed session carries on the doctor's draft only when the old token proves it."""

import re
from datetime import timedelta

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from widget_client import Widget, step_of

from bff.db import SessionObject, WidgetSession, db, utcnow

ORIGIN, OTHER_ORIGIN = "http://127.0.0.1:9001", "http://127.0.0.1:9003"
CHOSEN = "<strong>R51</strong>"  # R51 among the draft's diagnoses (the search's placeholder names it too)
ANA = {"patient": {"document_type": "CC", "document_number": "1000000001"}}


@pytest.fixture
def host_apps():
    """his-a on two origins; his-c, another host app on his-a's first origin, with the same Osigu credentials."""
    return [
        {"id": "his-a", "api_key": "his-a-api-key-0123456789", "origins": [ORIGIN, OTHER_ORIGIN]},
        {"id": "his-c", "api_key": "his-c-api-key-0123456789", "origins": [ORIGIN]},
    ]


@pytest.fixture
def widget(bff_url):
    """Open a prescription session (the host's back end) and return the widget speaking for it."""

    def open_widget(host_app="his-a", origin=ORIGIN, user_id="dr-7", context=ANA, previous=None, **body):
        payload = {"widget": "prescription", "origin": origin, "locale": "en", "context": context,
                   "user": {"id": user_id, "name": "Dra. Ruiz", "role": "doctor"}} | body
        response = requests.post(f"{bff_url}/v1/widget-sessions", json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {host_app}-api-key-0123456789"})
        assert response.status_code == 201, response.text
        return Widget(bff_url, response.json()["token"], origin=origin, previous=previous and previous.token)

    return open_widget


def start_with_a_diagnosis(w):
    """Ana López from the host, R51 chosen: the doctor is on the diagnoses step."""
    assert step_of(w.get("/resume")) == "diagnoses"
    assert CHOSEN in w.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"}).text


def walk_to_review(w):
    start_with_a_diagnosis(w)
    w.post("/medications/add", data={"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet",
                                     "every_hours": "8", "duration_days": "10"})
    assert step_of(w.get("/review")) == "review"


def expire(app, w, ago=timedelta(0)):
    """End w's session now (or `ago` earlier), as its idle time running out would."""
    with app.app_context():
        session = next(s for s in db.session.scalars(db.select(WidgetSession)) if token_names(w, s))
        session.expires_at = utcnow() - ago
        db.session.commit()


def token_names(w, session):
    return URLSafeTimedSerializer("test-key", salt="osigu-widget-session").loads(w.token)["sid"] == session.id


def flow_of(app, w):
    with app.app_context():
        return next(s.flow_id for s in db.session.scalars(db.select(WidgetSession)) if token_names(w, s))


def issued_id(response):
    return re.search(r'"prescription_id": "([^"]+)"', response.headers["HX-Trigger"]).group(1)


def test_a_renewed_session_carries_on_the_draft(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    expire(bff_app, first)
    refused = first.get("/medications")
    assert refused.status_code == 401 and refused.json()["error_code"] == "SESSION_EXPIRED"

    renewed = widget(previous=first)
    resumed = renewed.get("/medications")  # the refused request, retried with the new token
    assert step_of(resumed) == "medications" and "Ana López" in resumed.text
    assert CHOSEN in renewed.get("/diagnoses").text
    assert flow_of(bff_app, renewed) == flow_of(bff_app, first)


@pytest.mark.parametrize("change", [
    {"user_id": "dr-8"},                # another user of the same host app
    {"origin": OTHER_ORIGIN},           # another page of the same host app
    {"host_app": "his-c"},              # another host app on the same page
])
def test_renewal_for_another_user_page_or_host_app_starts_afresh(bff_app, widget, change):
    first = widget()
    start_with_a_diagnosis(first)
    expire(bff_app, first)
    other = widget(previous=first, **change)
    assert CHOSEN not in other.get("/resume").text
    assert flow_of(bff_app, other) != flow_of(bff_app, first)


def test_a_forged_previous_token_carries_nothing_over(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    expire(bff_app, first)
    claims = URLSafeTimedSerializer("test-key", salt="osigu-widget-session").loads(first.token)
    forged = URLSafeTimedSerializer("not-the-key", salt="osigu-widget-session").dumps(claims)
    renewed = widget()
    renewed.headers["X-Osigu-Previous-Session"] = forged
    assert CHOSEN not in renewed.get("/resume").text
    assert flow_of(bff_app, renewed) != flow_of(bff_app, first)


def test_a_session_expired_longer_than_the_grace_period_carries_nothing_over(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    grace = bff_app.config["SESSION_RENEWAL_GRACE_SECONDS"]
    expire(bff_app, first, ago=timedelta(seconds=grace + 60))
    renewed = widget(previous=first)
    assert CHOSEN not in renewed.get("/resume").text
    assert flow_of(bff_app, renewed) != flow_of(bff_app, first)


def test_one_session_is_carried_on_once(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    expire(bff_app, first)
    renewed = widget(previous=first)
    assert CHOSEN in renewed.get("/diagnoses").text
    assert CHOSEN in renewed.get("/diagnoses").text  # the header again (a concurrent retry): still the same work
    fork = widget(previous=first)  # a second session claiming the same predecessor
    assert CHOSEN not in fork.get("/resume").text
    assert flow_of(bff_app, fork) != flow_of(bff_app, first)


def test_a_renewal_before_expiry_ends_the_previous_session(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    renewed = widget(previous=first)
    assert CHOSEN in renewed.get("/diagnoses").text
    assert first.get("/diagnoses").json()["error_code"] == "SESSION_EXPIRED"  # one session at a time on a draft


def test_activity_extends_a_session_up_to_its_absolute_limit(bff_app, widget):
    w = widget()
    ttl, limit = bff_app.config["SESSION_TTL_SECONDS"], bff_app.config["SESSION_MAX_SECONDS"]
    with bff_app.app_context():
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow() + timedelta(seconds=5)))
        db.session.commit()
    before = utcnow()
    assert step_of(w.get("/resume")) == "diagnoses"
    with bff_app.app_context():
        session = db.session.scalars(db.select(WidgetSession)).one()
        assert session.expires_at.replace(tzinfo=before.tzinfo) >= before + timedelta(seconds=ttl - 5)
        # Near the absolute limit, activity extends it no further: the session ends at the limit.
        created = utcnow() - timedelta(seconds=limit - 2)
        session.created_at, session.expires_at = created, utcnow() + timedelta(seconds=1)
        db.session.commit()
    assert step_of(w.get("/diagnoses")) == "diagnoses"
    with bff_app.app_context():
        session = db.session.scalars(db.select(WidgetSession)).one()
        assert session.expires_at.replace(tzinfo=created.tzinfo) <= created + timedelta(seconds=limit)


def test_issuing_again_after_a_renewal_returns_the_same_prescription(bff_app, widget):
    first = widget()
    walk_to_review(first)
    issued = first.post("/issue")
    prescription_id = issued_id(issued)
    # The answer was lost on the way back (the host reloaded, the session expired): neither the outcome nor
    # the binding was kept. Only the draft's idempotency key can stop a second prescription now.
    with bff_app.app_context():
        db.session.execute(db.text("UPDATE bff_prescription_draft SET outcome = NULL"))
        db.session.execute(db.delete(SessionObject))
        db.session.commit()
    expire(bff_app, first)
    renewed = widget(previous=first)
    assert step_of(renewed.get("/review")) == "review"
    assert issued_id(renewed.post("/issue")) == prescription_id


def test_a_reload_offers_the_unfinished_draft_and_resuming_it_issues_the_same_prescription(bff_app, widget):
    first = widget()
    walk_to_review(first)
    prescription_id = issued_id(first.post("/issue"))
    with bff_app.app_context():
        db.session.execute(db.text("UPDATE bff_prescription_draft SET outcome = NULL"))
        db.session.commit()
    reloaded = widget()  # the host page reloaded: a new session, no previous token
    offer = reloaded.get("/resume")
    assert step_of(offer) == "resume"
    assert re.search(r"Resume the prescription you started at \d{1,2}:\d{2}", offer.text)
    assert step_of(reloaded.post("/resume/earlier")) == "review"
    assert issued_id(reloaded.post("/issue")) == prescription_id
    assert first.get("/review").json()["error_code"] == "SESSION_EXPIRED"  # the old tab no longer writes


def test_a_reload_may_start_a_new_prescription_instead(widget):
    first = widget()
    start_with_a_diagnosis(first)
    reloaded = widget()
    assert step_of(reloaded.get("/resume")) == "resume"
    fresh = reloaded.post("/resume/new")
    assert step_of(fresh) == "diagnoses" and CHOSEN not in fresh.text
    assert step_of(widget().get("/resume")) == "diagnoses"  # the discarded draft is not offered again


@pytest.mark.parametrize("change", [{"user_id": "dr-8"}, {"context": {"patient": {"document_type": "DNI",
                                                                                  "document_number": "12345678Z"}}},
                                    {"host_app": "his-c"}, {"context": {}}])
def test_a_reload_offers_only_the_same_users_draft_for_the_same_patient(widget, change):
    start_with_a_diagnosis(widget())
    assert step_of(widget(**change).get("/resume")) != "resume"


def test_a_renewal_that_cannot_carry_on_still_offers_the_draft_and_applies_the_hosts_patient(bff_app, widget):
    first = widget()
    start_with_a_diagnosis(first)
    expire(bff_app, first, ago=timedelta(seconds=bff_app.config["SESSION_RENEWAL_GRACE_SECONDS"] + 60))
    late = widget(previous=first)
    assert step_of(late.get("/medications")) == "resume"  # whatever step the retried request asked for
    other_patient = widget(previous=first, context={"patient": {"document_type": "DNI",
                                                                "document_number": "12345678Z"}})
    started = other_patient.get("/medications")
    assert step_of(started) == "diagnoses" and "Lucía Fernández" in started.text
