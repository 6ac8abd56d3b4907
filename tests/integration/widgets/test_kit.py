"""What every widget does because it is built on the kit, run for each registered widget: the guard on every
route, the shell on a plain page load, resume, no skipping, one outcome, one primary action per step."""

import concurrent.futures
import re
from dataclasses import dataclass
from typing import Callable

import pytest
import requests
from widget_client import (
    ORIGIN,
    fill_in_ana_with_paracetamol,
    issued_code,
    open_a_prescription,
    products_form,
    step_of,
    trigger_of,
)

from bff.db import SessionObject, db

CHANNEL = "0123456789abcdef0123456789abcdef"


@dataclass
class Spec:
    """What the kit's tests need to know of a widget to drive it."""

    first: str  # the step a new session starts on
    walk: Callable  # (Widget) -> fills in every step before the last
    earlier: str  # a step the walk went past, to go back to
    last: str  # the step the outcome is made from (unreachable on a new session)
    complete: str  # the POST that makes the outcome
    outcome_id: str  # the outcome's key naming the upstream object made
    screens: Callable  # (open a Widget) -> every screen a user meets, each a step fragment


def prescription_screens(widget):
    """The patient search, registration, both states of diagnoses and medications, the line form, consent,
    review, the prescription issued, and the offer of an unfinished one."""
    w = widget()
    yield w.get("/resume")
    yield w.post("/patient/new", data={"first_name": ""})
    fill_in_ana_with_paracetamol(w)
    yield w.post("/diagnoses/remove", data={"diagnosis_code": "R51"})
    yield w.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"})
    yield w.post("/medications/remove", data={"product_code": "MED-042"})
    yield w.get("/medications/line", params={"product_code": "MED-042"})
    yield w.post("/medications/add", data={"product_code": "MED-042", "quantity": "30", "dose": "1",
                                           "unit": "tablet", "every_hours": "8", "duration_days": "10"})
    yield w.get("/review")
    yield w.post("/issue")
    consent = widget("his-eu")
    fill_in_ana_with_paracetamol(consent)
    yield consent.get("/consent")
    ana = {"patient": {"document_type": "CC", "document_number": "1000000001"}}
    earlier = widget(context=ana)
    assert step_of(earlier.get("/resume")) == "diagnoses"
    earlier.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"})
    yield widget(context=ana).get("/resume")


def dispensing_screens(widget):
    """The code field, a refused code, the open code, the products, both verifications, the void confirmation,
    the voided screen, the receipt, and the offer of an unfinished dispensation."""
    w = widget(locale="en")
    yield w.get("/resume")
    yield w.post("/code", data={"code": "RX-2026-000000"})
    products = open_a_prescription(w)
    yield products
    yield w.get("/code")
    yield w.get("/void")
    yield w.post("/void")
    products = open_a_prescription(w)
    yield w.post("/complete", data=products_form(products) | {"quantity-0": "999"})
    yield w.post("/complete", data=products_form(products))
    controlled = widget(context={"code": issued_code(w, {"product_code": "MED-069", "quantity": 10,
                                                        "posology": "1 capsule every 12 h"})})
    yield controlled.post("/complete", data=products_form(controlled.get("/resume")))
    code = issued_code(w)
    earlier = widget(context={"code": code})
    assert step_of(earlier.get("/resume")) == "products"
    yield widget(context={"code": code}).get("/resume")


SPECS = {
    "prescription": Spec(first="patient", walk=fill_in_ana_with_paracetamol, earlier="diagnoses", last="review",
                         complete="/issue", outcome_id="prescription_id", screens=prescription_screens),
    "dispensing": Spec(first="code", walk=open_a_prescription, earlier="code", last="products",
                       complete="/complete", outcome_id="dispensation_id", screens=dispensing_screens),
}


def routes(app, name):
    """(path, method) for every route of the widget's blueprint."""
    return [(rule.rule, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{name}.")
            for method in rule.methods & {"GET", "POST"}]


def test_every_registered_widget_is_driven_here(bff_app):
    assert set(SPECS) == set(bff_app.extensions["widgets.start"])


@pytest.mark.parametrize("name", SPECS)
def test_a_plain_page_load_of_any_route_is_the_shell(bff_app, bff_url, name):
    pages = [path for path, method in routes(bff_app, name) if method == "GET"]
    assert len(pages) > 3
    for path in pages:
        page = requests.get(f"{bff_url}{path}", params={"origin": ORIGIN, "channel": CHANNEL}, timeout=10)
        assert page.status_code == 200 and f'data-start-url="{path}"' in page.text, path


@pytest.mark.parametrize("name", SPECS)
def test_every_route_needs_its_widgets_session_from_its_own_page(bff_app, bff_url, widget, name):
    token = widget(widget=name).token
    other = widget(widget=next(other for other in ("prescription", "dispensing") if other != name)).token
    refusals = {"SESSION_MISSING": {"X-Osigu-Origin": ORIGIN},
                "SESSION_ORIGIN": {"X-Osigu-Session": token, "X-Osigu-Origin": "http://evil.example"},
                "SESSION_WRONG_WIDGET": {"X-Osigu-Session": other, "X-Osigu-Origin": ORIGIN}}
    for path, method in routes(bff_app, name):
        for code, headers in refusals.items():
            answer = requests.request(method, f"{bff_url}{path}", headers={"HX-Request": "true"} | headers, timeout=10)
            assert answer.status_code in (401, 403) and answer.json()["error_code"] == code, (method, path, code)


@pytest.mark.parametrize("name", SPECS)
def test_an_htmx_request_gets_the_steps_fragment_and_the_sessions_expiry(widget, name):
    first = widget(widget=name).get("/resume")
    assert first.status_code == 200 and step_of(first) == SPECS[name].first
    assert "<html" not in first.text and 'data-osigu-heading' in first.text
    assert int(first.headers["X-Osigu-Session-Expires-In"]) > 0


@pytest.mark.parametrize("name", SPECS)
def test_reloading_resumes_where_the_user_was(widget, name):
    spec, w = SPECS[name], widget(widget=name, locale="en")
    spec.walk(w)
    assert step_of(w.get(f"/{spec.earlier}")) == spec.earlier
    assert step_of(w.get("/resume")) == spec.earlier
    assert step_of(w.get(f"/{spec.last}")) == spec.last  # nothing entered was lost


@pytest.mark.parametrize("name", SPECS)
def test_a_step_cannot_be_skipped(widget, name):
    spec, w = SPECS[name], widget(widget=name)
    assert step_of(w.get(f"/{spec.last}")) == spec.first
    assert step_of(w.post(spec.complete)) == spec.first and "osigu:success" not in trigger_of(w.post(spec.complete))


@pytest.mark.parametrize("name", SPECS)
def test_completing_at_once_and_again_makes_one_outcome(bff_app, widget, name):
    spec, w = SPECS[name], widget(widget=name)
    spec.walk(w)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: w.post(spec.complete), range(3)))
    answers.append(w.post(spec.complete))
    outcomes = [trigger_of(answer)["osigu:success"]["outcome"] for answer in answers]
    assert all(outcome == outcomes[0] for outcome in outcomes)
    with bff_app.app_context():
        bound = db.session.scalars(db.select(SessionObject.upstream_id)
                                   .filter(SessionObject.upstream_id == outcomes[0][spec.outcome_id])).all()
    assert len(bound) == 1


@pytest.mark.parametrize("simulator_config", [{"PROVIDER_PRODUCTS_RATE_LIMIT": "10000/minute"}])
@pytest.mark.parametrize("name", SPECS)
def test_every_step_marks_its_one_forward_action(widget, name):
    seen = set()
    for screen in SPECS[name].screens(lambda *args, **kwargs: widget(*args, widget=name, **kwargs)):
        assert step_of(screen), screen.text
        seen.add(step_of(screen))
        assert len(re.findall(r"<(?:button|a)\b[^>]*\bdata-osigu-primary\b", screen.text)) == 1, step_of(screen)
    assert SPECS[name].first in seen and "done" in seen and "resume" in seen
