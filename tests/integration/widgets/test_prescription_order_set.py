"""The order the host already holds (context `diagnoses` and `medications`) arrives preselected and editable, its
missing quantities computed from the posology in whole packs."""

import re

from widget_client import step_of

ANA = {"document_type": "CC", "document_number": "1000000001"}
PARACETAMOL_A_WEEK = {"product_code": "MED-042",  # box of 20; 1 every 8 hours for 7 days needs 21: two boxes
                      "posology": {"dose": 1, "unit": "tablet", "every_hours": 8, "duration_days": 7}}
SYRUP = {"product_code": "MED-049", "quantity": 1,
         "posology": {"dose": 5, "unit": "ml", "every_hours": 8, "duration_days": 3}}


def test_a_complete_order_set_opens_on_the_review_with_the_quantity_in_whole_packs(widget):
    w = widget(context={"patient": ANA, "diagnoses": ["R51", "J45.9"], "medications": [PARACETAMOL_A_WEEK, SYRUP]})
    review = w.get("/resume")
    assert step_of(review) == "review" and "R51" in review.text and "J45.9" in review.text
    assert "Cantidad: 40 unidades" in review.text  # 21 tablets, rounded up to two boxes of 20
    assert "1 comprimido cada 8 horas durante 7 días" in review.text and "Cantidad: 1 envase" in review.text


def test_the_order_set_stays_editable(widget):
    w = widget(locale="en", context={"patient": ANA, "diagnoses": ["R51"], "medications": [PARACETAMOL_A_WEEK]})
    assert step_of(w.get("/resume")) == "review"
    w.post("/diagnoses/remove", data={"diagnosis_code": "R51"})
    assert step_of(w.get("/review")) == "diagnoses"  # nothing the host ordered is forced on the doctor
    w.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"})
    w.post("/medications/remove", data={"product_code": "MED-042"})
    medications = w.get("/medications")
    assert "Ordered, posology to complete" in medications.text
    reopened = w.get("/medications/line", params={"product_code": "MED-042"})
    assert 'name="duration_days"' in reopened.text and re.search(r'name="duration_days"[^>]*value="7"',
                                                                 reopened.text.replace("\n", " "))


def test_an_ordered_medication_without_posology_is_offered_to_complete(widget):
    w = widget(locale="en", context={"patient": ANA, "diagnoses": ["R51"],
                                     "medications": [PARACETAMOL_A_WEEK, {"product_code": "MED-001", "quantity": 2}]})
    medications = w.get("/resume")
    assert step_of(medications) == "medications" and "Quantity: 40 units" in medications.text
    assert "Ordered, posology to complete" in medications.text and 'value="MED-001"' in medications.text
    opened = w.get("/medications/line", params={"product_code": "MED-001"})
    assert re.search(r'name="quantity"[^>]*value="2"', opened.text.replace("\n", " "))


def test_without_a_known_patient_the_order_waits_on_the_patient_step(widget):
    w = widget(context={"diagnoses": ["R51"], "medications": [PARACETAMOL_A_WEEK]})
    assert step_of(w.get("/resume")) == "patient"
    found = w.get("/patient/search", params={"document_type": "CC", "document_number": "1000000001"})
    patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
    w.post("/patient/select", data={"patient_id": patient_id})
    assert step_of(w.get("/review")) == "review"  # the order was kept while the doctor found the patient


def test_codes_osigu_does_not_know_are_left_for_the_doctor(widget):
    w = widget(locale="en", context={"patient": ANA, "diagnoses": ["R51.ZZ9"], "medications": [PARACETAMOL_A_WEEK]})
    assert step_of(w.get("/resume")) == "diagnoses"


def test_the_first_ordered_medication_to_complete_has_the_focus(widget):
    w = widget(locale="en", context={"patient": ANA, "diagnoses": ["R51"],
                                     "medications": [{"product_code": "MED-001"}, {"product_code": "MED-042"}]})
    medications = w.get("/resume").text.replace("\n", " ")
    focused = re.findall(r'<(?:input|button)[^>]*data-osigu-focus[^>]*>', medications)
    assert 'value="MED-001"' in focused[0]  # before the search: Enter opens its line form
