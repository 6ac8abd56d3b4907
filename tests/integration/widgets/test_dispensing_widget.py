"""The dispensing widget (seed 000) over HTTP against the simulator: every step, every refusal, exactly once."""

from datetime import date, timedelta

from widget_client import products_form, step_of, trigger_of

NEXT_YEAR = date.today() + timedelta(days=365)
PARACETAMOL = {"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}
TRAMADOL = {"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"}


def dispense(widget, code=None, **kwargs):
    """A dispensing session, its code opened from the context when given."""
    return widget(widget="dispensing", context={"code": code} if code else {}, **kwargs)


def test_a_context_code_opens_at_once_and_only_primary_actions_dispense_it(widget, prescribe, simulator_rows):
    code = prescribe()
    w = dispense(widget, code)
    products = w.get("/resume")
    assert step_of(products) == "products" and "aracetamol" in products.text
    done = w.post("/complete", data=products_form(products))
    assert step_of(done) == "done"
    outcome = trigger_of(done)["osigu:success"]["outcome"]
    assert outcome["code"] == code and outcome["status"] == "DISPENSED" and outcome["code_type"] == "PRESCRIPTION"
    assert outcome["lines"] == [{"product_code": "MED-042", "quantity": 30}] and outcome["claim_id"] is None
    assert simulator_rows(code) == ["DISPENSED"]

