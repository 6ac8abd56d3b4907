"""The line form puts the focus where the doctor has something to type: the days, once the dose is suggested."""

import re

from widget_client import fill_in_ana_with_paracetamol

ANA = {"document_type": "CC", "document_number": "1000000001"}


def focused_field(form):
    """The name of the one field the fragment marks data-osigu-focus."""
    [name] = re.findall(r'<input[^>]*\bdata-osigu-focus\b[^>]*>', form.text.replace("\n", " "))
    return re.search(r'name="([^"]+)"', name).group(1)


def test_with_the_dose_suggested_the_focus_is_in_the_days(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    form = w.get("/medications/line", params={"product_code": "MED-001"})
    assert re.search(r'name="dose"[^>]*value="1"', form.text.replace("\n", " "))  # 1 capsule, suggested
    assert focused_field(form) == "duration_days"


def test_a_line_with_its_days_known_is_focused_on_the_dose(widget):
    ordered = {"product_code": "MED-042", "posology": {"dose": 1, "unit": "tablet", "every_hours": 8,
                                                       "duration_days": 7}}
    w = widget(locale="en", context={"patient": ANA, "diagnoses": ["R51"], "medications": [ordered]})
    w.get("/resume")
    w.post("/medications/remove", data={"product_code": "MED-042"})
    assert focused_field(w.get("/medications/line", params={"product_code": "MED-042"})) == "dose"


def test_without_a_dose_the_focus_stays_on_the_dose(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    refused = w.post("/medications/add", data={"product_code": "MED-001", "dose": "", "unit": "capsule",
                                                "every_hours": "8", "duration_days": "0"})
    assert focused_field(refused) == "dose"  # the first field to write (widget.js puts it on an invalid one first)
