"""The e-prescription widget over HTTP, as static/widget.js drives it, against a live simulator."""

import concurrent.futures
import json
import re

import pytest
import requests

ORIGIN = "http://127.0.0.1:9001"


@pytest.fixture
def host_apps():
    """his-a prescribes v1 as demo-hospital; his-eu needs consent (v1.1); his-es is Spain (v2); clinic-c is the
    clinic, which has not registered MED-042."""
    base = {"origins": [ORIGIN]}
    return [
        base | {"id": "his-a", "api_key": "his-a-api-key-0123456789"},
        base | {"id": "his-eu", "api_key": "his-eu-api-key-0123456789", "prescription_version": "v1.1"},
        base | {"id": "his-es", "api_key": "his-es-api-key-0123456789", "prescription_version": "v2"},
        base | {"id": "clinic-c", "api_key": "clinic-c-api-key-0123456789", "osigu_client_id": "demo-clinic",
                "osigu_client_secret": "demo-clinic-secret"},
    ]


class Widget(requests.Session):
    """What static/widget.js sends: htmx's header, the session token and the page's origin."""

    def __init__(self, bff_url, token):
        super().__init__()
        self.bff_url = bff_url
        self.headers.update({"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": ORIGIN})

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(method, f"{self.bff_url}/widgets/prescription{url}", *args, **kwargs)


def step_of(response):
    """The step a fragment shows."""
    match = re.search(r'data-osigu-step="([^"]+)"', response.text)
    return match and match.group(1)


def trigger_of(response):
    """The HX-Trigger events a response announces."""
    return json.loads(response.headers.get("HX-Trigger", "{}"))


@pytest.fixture
def widget(bff_url):
    """Open a prescription widget session for a host app and return a Widget speaking for it."""

    def open_widget(host_app="his-a", locale="es", context=None, **body):
        api_key = f"{host_app}-api-key-0123456789"
        payload = {"widget": "prescription", "origin": ORIGIN, "locale": locale, "context": context or {},
                   "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}} | body
        response = requests.post(f"{bff_url}/v1/widget-sessions", json=payload, timeout=10,
                                 headers={"Authorization": f"Bearer {api_key}"})
        assert response.status_code == 201, response.text
        return Widget(bff_url, response.json()["token"])

    return open_widget


def hospital_api(simulator_url):
    """The simulator as demo-hospital (the BFF's default credentials), to check what was really issued."""
    session = requests.Session()
    token = session.post(f"{simulator_url}/v1/oauth/token", auth=("demo-hospital", "demo-hospital-secret"),
                         data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def fill_in_ana_with_paracetamol(w):
    """Walk the steps up to the review: Ana López, R51, paracetamol 500 mg 1 tablet every 8 h for 10 days."""
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


def test_a_v1_prescription_is_issued_once_and_reported_to_the_host(widget, simulator_url):
    w = widget()
    patient_id = fill_in_ana_with_paracetamol(w)
    review = w.get("/review")
    assert step_of(review) == "review" and "1 comprimido cada 8 horas durante 10 días" in review.text

    issued = w.post("/issue")
    assert step_of(issued) == "done"
    outcome = trigger_of(issued)["osigu:success"]["outcome"]
    assert set(outcome) == {"prescription_id", "prescription_code", "status", "created_at"}
    assert outcome["prescription_code"] in issued.text and "Descargar PDF" in issued.text

    again = w.post("/issue")  # a double click, or a retry after a lost answer
    assert trigger_of(again)["osigu:success"]["outcome"] == outcome

    stored = hospital_api(simulator_url).get(f"{simulator_url}/ehr/v1/prescriptions/{outcome['prescription_id']}",
                                             timeout=10).json()
    assert stored["version"] == "v1" and stored["patient_id"] == patient_id and stored["doctor_id"] == "dr-7"
    assert stored["medications"][0] | {"name": None} == {
        "product_code": "MED-042", "name": None, "quantity": 30, "duration_days": 10, "substitution_allowed": False,
        "posology": "1 comprimido cada 8 horas durante 10 días"}


@pytest.mark.parametrize("attempt", range(5))  # a race: one try would pass by luck too often
def test_two_clicks_at_once_make_one_prescription(widget, attempt):
    w = widget()
    fill_in_ana_with_paracetamol(w)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: w.post("/issue"), range(2)))
    outcomes = [trigger_of(answer).get("osigu:success", {}).get("outcome") for answer in answers]
    assert outcomes[0] and outcomes[0] == outcomes[1]


def test_reloading_resumes_where_the_doctor_was(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    assert step_of(w.get("/diagnoses")) == "diagnoses"  # the doctor went back a step
    resumed = w.get("/resume")  # what a reloaded iframe asks for
    assert step_of(resumed) == "diagnoses" and "R51" in resumed.text
    assert step_of(w.get("/review")) == "review"  # and nothing chosen was lost


def test_a_step_cannot_be_skipped(widget):
    w = widget()
    assert step_of(w.get("/review")) == "patient"
    assert step_of(w.post("/issue")) == "patient"


def test_v1_1_asks_for_the_patients_consent(widget, simulator_url):
    w = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(w)
    assert step_of(w.get("/review")) == "consent"  # consent comes before the review in this market
    refused = w.post("/consent", data={})
    assert refused.status_code == 422 and "Without the patient's consent" in refused.text
    assert "osigu:error" not in trigger_of(refused)  # the doctor's to fix, not the host's to hear
    assert step_of(w.post("/consent", data={"patient_data_consent": "yes"})) == "review"
    issued = w.post("/issue")
    outcome = trigger_of(issued)["osigu:success"]["outcome"]
    stored = hospital_api(simulator_url).get(f"{simulator_url}/ehr/v1/prescriptions/{outcome['prescription_id']}",
                                             timeout=10).json()
    assert stored["version"] == "v1.1" and stored["patient_data_consent"] is True
    assert stored["medications"][0]["posology"] == "1 tablet every 8 hours for 10 days"


def test_v2_is_signed_in_the_bff_and_certified(widget, simulator_url):
    w = widget("his-es")
    fill_in_ana_with_paracetamol(w)
    issued = w.post("/issue")
    outcome = trigger_of(issued)["osigu:success"]["outcome"]
    stored = hospital_api(simulator_url).get(f"{simulator_url}/ehr/v1/prescriptions/{outcome['prescription_id']}",
                                             timeout=10).json()
    assert stored["version"] == "v2" and stored["national_repository_id"] == "ES-RNR-0000001"


def test_the_patient_the_host_passes_is_used_and_fixed(widget):
    w = widget(context={"patient": {"document_type": "CC", "document_number": "1000000001"}})
    resumed = w.get("/resume")
    assert step_of(resumed) == "diagnoses" and "Ana López" in resumed.text
    patient = w.get("/patient")
    assert "Ana López" in patient.text and "/patient/change" not in patient.text
    # Nor can a crafted request swap the patient the host app named.
    w.post("/patient/select", data={"patient_id": "pat_01HXE0000000000000000CAR02"})
    w.post("/patient/change")
    assert "Ana López" in w.get("/diagnoses").text


def test_a_new_patient_is_checked_then_created(widget):
    w = widget()
    w.get("/resume")
    form = {"first_name": "Elena", "last_name": "Sanz", "document_type": "CC", "document_number": "7700000001",
            "date_of_birth": "2999-01-01", "email": "not-an-email"}
    refused = w.post("/patient/new", data=form)
    assert refused.status_code == 422 and step_of(refused) == "patient"
    assert "Introduzca una fecha de nacimiento real" in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="Elena"' in refused.text  # nothing typed is lost
    created = w.post("/patient/new", data=form | {"date_of_birth": "1980-05-05", "email": "elena@example.org"})
    assert step_of(created) == "diagnoses" and "Elena Sanz" in created.text


def test_an_unregistered_medication_is_explained_not_offered(widget):
    w = widget("clinic-c", locale="en")
    results = w.get("/medications/search", params={"q": "paracetamol 500"})
    assert "Not registered by your provider" in results.text
    offered = re.findall(r'name="product_code"\s+value="([^"]+)"', results.text)
    assert "MED-042" in results.text and "MED-042" not in offered


def test_an_unknown_product_code_cannot_be_added(widget):
    w = widget()
    fill_in_ana_with_paracetamol(w)
    answer = w.post("/medications/add", data={"product_code": "MED-999", "quantity": "1", "dose": "1",
                                              "unit": "tablet", "every_hours": "8", "duration_days": "1"})
    assert "MED-999" not in answer.text


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [
    {"path_prefix": "/ehr/v1/prescriptions", "methods": ["POST"], "error_rate": 1, "times": 1}]}])
def test_osigu_down_at_issue_time_is_explained_in_place_and_retry_works(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    failed = w.post("/issue")
    assert failed.status_code == 422 and step_of(failed) == "review"
    assert "Osigu is not answering right now" in failed.text
    assert trigger_of(failed)["osigu:error"]["error"]["retryable"] is True
    assert "osigu:success" in trigger_of(w.post("/issue"))


def test_cancelling_reports_exit_with_the_step(widget):
    w = widget()
    w.get("/resume")
    cancelled = w.post("/cancel")
    assert trigger_of(cancelled) == {"osigu:exit": {"reason": "cancelled", "step": "patient"}}


def test_a_plain_page_load_of_a_step_is_the_shell(bff_url):
    channel = "0123456789abcdef0123456789abcdef"
    page = requests.get(f"{bff_url}/widgets/prescription/diagnoses", params={"origin": ORIGIN, "channel": channel},
                        timeout=10)
    assert page.status_code == 200 and 'data-start-url="/widgets/prescription/diagnoses"' in page.text
    assert page.headers["Content-Security-Policy"].endswith(f"frame-ancestors {ORIGIN}")


def test_steps_need_the_session_from_its_own_page(widget):
    w = widget()
    assert w.get("/resume", headers={"X-Osigu-Origin": "http://evil.example"}).status_code == 403
    assert w.get("/resume", headers={"X-Osigu-Session": ""}).status_code == 401


def test_the_prescription_is_sent_by_e_mail_to_the_patient_or_to_an_address_typed(widget, simulator_url):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    outcome = trigger_of(w.post("/issue"))["osigu:success"]["outcome"]
    assert "Sent to" in w.post("/resend", data={"email": ""}).text  # the patient's address on file
    assert "Sent to" in w.post("/resend", data={"email": "ana.work@example.org"}).text
    sent = requests.get(f"{simulator_url}/sandbox/v1/messages", params={"reference": outcome["prescription_id"]},
                        timeout=10).json()["data"]
    assert sorted(message["recipient"] for message in sent) == ["ana.lopez@example.org", "ana.work@example.org"]


def test_the_catalogue_speaks_the_sessions_language(widget, simulator_url):
    w = widget()  # a Spanish session
    diagnoses = w.get("/diagnoses/search", params={"q": "asma"}).text
    assert "J45" in diagnoses and "Asma" in diagnoses and "Asthma" not in diagnoses
    medications = w.get("/medications/search", params={"q": "ibuprofeno"}).text
    assert "Ibuprofeno 400 mg comprimido" in medications and "caja de" in medications
    syrup = w.get("/medications/line", params={"product_code": "MED-049"}).text
    assert "jarabe" in syrup and 'value="ml" selected' in syrup  # the unit still follows the form's code
    english = widget(locale="en").get("/diagnoses/search", params={"q": "asma"}).text
    assert "Asthma" in english

    fill_in_ana_with_paracetamol(w)
    outcome = trigger_of(w.post("/issue"))["osigu:success"]["outcome"]
    stored = hospital_api(simulator_url).get(f"{simulator_url}/ehr/v1/prescriptions/{outcome['prescription_id']}",
                                             timeout=10).json()
    assert stored["locale"] == "es"  # so its PDF and e-mail are in Spanish
