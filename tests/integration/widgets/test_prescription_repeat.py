"""Repeat: the prescriptions this BFF's widget issued, per tenant and patient, offered again straight to the review;
refused for another tenant's or another patient's prescription."""

import re

from widget_client import fill_in_ana_with_paracetamol, invalid, step_of, trigger_of

ANA = {"document_type": "CC", "document_number": "1000000001"}
CARLOS = {"document_type": "CC", "document_number": "1000000002"}


def issued_for_ana(widget, host_app="his-a"):
    """Issue paracetamol for Ana López through the widget; return the outcome."""
    w = widget(host_app)
    fill_in_ana_with_paracetamol(w)
    return trigger_of(w.post("/issue"))["osigu:success"]["outcome"]


def test_the_patients_recent_prescription_is_offered_and_repeated_to_the_review(widget):
    earlier = issued_for_ana(widget)
    w = widget(locale="en", context={"patient": ANA})
    diagnoses = w.get("/resume")
    assert step_of(diagnoses) == "diagnoses" and "Recent prescriptions for this patient" in diagnoses.text
    assert f'aria-label="Repeat {earlier["prescription_code"]}"' in diagnoses.text
    review = w.post("/repeat", data={"prescription_id": earlier["prescription_id"]})
    assert step_of(review) == "review" and "1 tablet every 8 hours for 10 days" in review.text and "R51" in review.text
    w.post("/medications/remove", data={"product_code": "MED-042"})  # its lines stay editable
    assert step_of(w.get("/review")) == "medications"


def test_repeat_of_in_the_context_opens_the_review_at_once_and_issues_a_new_prescription(widget):
    earlier = issued_for_ana(widget)
    w = widget(context={"patient": ANA, "repeat_of": earlier["prescription_id"]})
    assert step_of(w.get("/resume")) == "review"
    again = trigger_of(w.post("/issue"))["osigu:success"]["outcome"]
    assert again["prescription_id"] != earlier["prescription_id"]


def test_another_patients_prescription_is_refused(widget):
    earlier = issued_for_ana(widget)
    w = widget(context={"patient": CARLOS, "repeat_of": earlier["prescription_id"]})
    opened = w.get("/resume")
    assert step_of(opened) == "diagnoses" and "Esa receta no se puede repetir para este paciente." in opened.text
    assert earlier["prescription_code"] not in opened.text
    refused = w.post("/repeat", data={"prescription_id": earlier["prescription_id"]})
    assert invalid(refused) and step_of(refused) == "diagnoses" and "paracetamol" not in refused.text.lower()


def test_another_tenants_prescription_is_refused(widget):
    earlier = issued_for_ana(widget, host_app="his-a")
    w = widget("clinic-c", locale="en", context={"patient": ANA, "repeat_of": earlier["prescription_id"]})
    opened = w.get("/resume")
    assert step_of(opened) == "diagnoses" and "That prescription cannot be repeated for this patient." in opened.text
    assert "Recent prescriptions" not in opened.text
    assert invalid(w.post("/repeat", data={"prescription_id": earlier["prescription_id"]}))
    assert invalid(w.post("/repeat", data={"prescription_id": "../../x"}))
    assert re.search(r"paracetamol", w.get("/review").text, re.IGNORECASE) is None
