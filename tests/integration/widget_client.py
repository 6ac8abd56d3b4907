"""Speaking to a widget as static/widget.js does, and reading what it answers (for bff/ and widgets/ tests)."""

import json
import re

import requests

ORIGIN = "http://127.0.0.1:9001"


class Widget(requests.Session):
    """What static/widget.js sends: htmx's header, the session token and the page's origin; `previous` is the
    expired token it hands along after a renewal."""

    def __init__(self, bff_url, token, widget="prescription", origin=ORIGIN, previous=None):
        super().__init__()
        self.base, self.token = f"{bff_url}/widgets/{widget}", token
        self.headers.update({"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": origin})
        if previous:
            self.headers["X-Osigu-Previous-Session"] = previous

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(method, f"{self.base}{url}", *args, **kwargs)


def step_of(response):
    """The step a fragment shows."""
    match = re.search(r'data-osigu-step="([^"]+)"', response.text)
    return match and match.group(1)


def trigger_of(response):
    """The HX-Trigger events a response announces."""
    return json.loads(response.headers.get("HX-Trigger", "{}"))


def fill_in_ana_with_paracetamol(w):
    """Walk the prescription's steps up to the review: Ana López, R51, paracetamol 500 mg 1 tablet every 8 h for
    10 days."""
    assert step_of(w.get("/resume")) == "patient"
    found = w.get("/patient/search", params={"document_type": "CC", "document_number": "1000000001"})
    assert "Ana López" in found.text
    patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
    assert step_of(w.post("/patient/select", data={"patient_id": patient_id})) == "diagnoses"
    results = w.get("/diagnoses/search", params={"q": "cefalea"})
    assert "R51" in results.text
    assert "R51" in w.post("/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"}).text
    assert "MED-042" in w.get("/medications/search", params={"q": "paracetamol 500"}).text
    line_form = w.get("/medications/line", params={"product_code": "MED-042"})
    assert 'value="tablet" selected' in line_form.text  # the form suggests the unit from the product's form
    added = w.post("/medications/add", data={"product_code": "MED-042", "quantity": "30", "dose": "1",
                                             "unit": "tablet", "every_hours": "8", "duration_days": "10"})
    assert step_of(added) == "medications" and "paracetamol" in added.text.lower()
    return patient_id


def issued_code(w, *medications, host_app="his-a"):
    """Issue a v1 prescription for Ana López through the BFF's proxy (as the host app) and return its code."""
    lines = medications or ({"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"},)
    response = requests.post(f"{w.base.split('/widgets/')[0]}/v1/osigu/ehr/v1/prescriptions", timeout=10, json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": list(lines)}, headers={"Authorization": f"Bearer {host_app}-api-key-0123456789"})
    assert response.status_code == 201, response.text
    return response.json()["prescription_code"]


def open_a_prescription(w):
    """Walk the dispensing widget's steps up to the products: a fresh prescription's code, typed."""
    assert step_of(w.get("/resume")) == "code"
    products = w.post("/code", data={"code": issued_code(w)})
    assert step_of(products) == "products", products.text
    return products


def products_form(response):
    """The values the dispensing widget's products form submits as rendered (its primary action, unchanged)."""
    form = re.search(r'<form id="dispense-form".*?</form>', response.text, re.S).group(0)
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected', options) or re.search(r'<option value="([^"]+)"',
                                                                                      options)
        values[name] = chosen.group(1)
    return values


def invalid(response):
    """Whether a widget answered with its step shown again and something to fix (a 200 marked 422)."""
    return response.status_code == 200 and response.headers.get("X-Osigu-Status") == "422"


class Widgets:
    """Opens a widget session for a host app (its API key, the test page's origin) and returns a Widget for it."""

    def __init__(self, bff_url):
        self.bff_url = bff_url

    def __call__(self, host_app="his-a", locale="es", context=None, widget="prescription", **body):
        payload = {"widget": widget, "origin": ORIGIN, "locale": locale, "context": context or {},
                   "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}} | body
        response = requests.post(f"{self.bff_url}/v1/widget-sessions", json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {host_app}-api-key-0123456789"})
        assert response.status_code == 201, response.text
        return Widget(self.bff_url, response.json()["token"], widget)


# Values a hostile user might type, and every widget form with a valid value for each field.
HOSTILE = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "../../../sandbox/v1/messages",
           "%2e%2e%2f%2e%2e%2f", "x" * 3000, "-1", "NaN", "1e308", "0,0,0", "\x00", "Ｒ５１", "{{7*7}}", ""]
FORMS = [
    ("GET", "/patient/search", {"document_number": "1000000001", "document_type": "CC"}),
    ("POST", "/patient/select", {"patient_id": "pat_01HXE0000000000000000ANA01"}),
    ("POST", "/patient/new", {"first_name": "Eva", "last_name": "Gil", "document_type": "CC",
                              "document_number": "7733333333", "date_of_birth": "1980-01-01", "email": ""}),
    ("GET", "/diagnoses/search", {"q": "cefalea"}),
    ("POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"}),
    ("POST", "/diagnoses/remove", {"diagnosis_code": "J45.9"}),
    ("GET", "/medications/search", {"q": "paracetamol"}),
    ("GET", "/medications/line", {"product_code": "MED-042"}),
    ("POST", "/medications/add", {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet",
                                  "every_hours": "8", "duration_days": "10", "quantity_confirmed": "30"}),
    ("POST", "/medications/remove", {"product_code": "MED-999"}),
    ("POST", "/consent", {"patient_data_consent": "yes"}),
    ("POST", "/resend", {"email": "ana@example.org"}),
]
