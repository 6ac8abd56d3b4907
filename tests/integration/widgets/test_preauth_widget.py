"""The pre-authorization widget over HTTP, as static/widget.js drives it, against a live simulator (the kit's own
contract, common to every widget, is in test_kit.py)."""

import re

from widget_client import invalid, step_of, trigger_of

PDF = b"%PDF-1.4\n% a medical order\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ANA = {"sponsor": "seguros-andinos", "beneficiary": {"policy_number": "SA-10000001"}}


def preauth(widget, **kwargs):
    return widget(widget="preauth", **kwargs)


def upload(w, document_type, content=PDF, filename="order.pdf", mimetype="application/pdf"):
    return w.post("/documents", data={"document_type": document_type}, files={"file": (filename, content, mimetype)})


def walk_to_review(w, search, products, diagnosis="R51", documents=()):
    """Sponsor, beneficiary (with the sponsor's form), products, one diagnosis and the documents asked for."""
    assert step_of(w.get("/start")) == "sponsor"
    found = w.post("/beneficiary", data=search)
    assert step_of(found) == "products", found.text
    for code, quantity in products:
        assert code in w.get("/products/search", params={"q": code}).text
        added = w.post("/products/add", data={"product_code": code, "quantity": str(quantity)})
        assert step_of(added) == "products" and not invalid(added), added.text
    assert step_of(w.post("/products/continue")) == "indications"
    assert diagnosis in w.get("/diagnoses/search", params={"q": diagnosis}).text
    w.post("/diagnoses/add", data={"diagnosis_code": diagnosis, "description": "Headache"})
    for kind in documents:
        assert not invalid(upload(w, kind))
    reviewed = w.post("/indications", data={"notes": "three weeks of pain"})
    assert step_of(reviewed) == "review", reviewed.text
    return reviewed


def walk_ana(w):
    """Ana López at Seguros Andinos: a lab and a medication, approved at once."""
    return walk_to_review(w, {"policy_number": "SA-10000001"}, [("LAB-001", 1), ("MED-001", 2)])


def test_seguros_andinos_approves_a_lab_and_a_medication_at_once(widget):
    w = preauth(widget, context={"sponsor": "seguros-andinos"}, locale="en")
    walk_ana(w)
    done = w.post("/complete")
    assert step_of(done) == "done"
    outcome = trigger_of(done)["osigu:success"]["outcome"]
    assert outcome["status"] == "APPROVED" and len(outcome["authorizations"]) == 2
    for item in outcome["authorizations"]:
        assert re.match(r"^AUT-\d{4}-\d{8}$", item["authorization_code"]) and item["expires_at"]
        assert item["authorization_code"] in done.text
        assert f'data-osigu-copy="{item["authorization_code"]}' in done.text or item["authorization_code"] in \
            re.search(r'data-osigu-copy="([^"]+)"', done.text).group(1)
