"""The e-prescription widget over HTTP, as static/widget.js drives it, against a live simulator (the kit's own
contract, common to every widget, is in test_kit.py)."""

import concurrent.futures
import json
import re

import pytest
import requests
from widget_client import FORMS, HOSTILE, ORIGIN, fill_in_ana_with_paracetamol, invalid, step_of, trigger_of


def hospital_api(simulator_url):
    """The simulator as demo-hospital (the BFF's default credentials), to check what was really issued."""
    session = requests.Session()
    token = session.post(f"{simulator_url}/v1/oauth/token", auth=("demo-hospital", "demo-hospital-secret"),
                         data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


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
    assert stored["doctor_name"] == "Dra. Ruiz"  # the session user's name, for the PDF and the e-mail
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
    assert invalid(refused) and "Without the patient's consent" in refused.text
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
    assert stored["doctor_name"] == "Dra. Ruiz"  # sent beside the signed fields, not among them


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
    assert invalid(refused) and step_of(refused) == "patient"
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
    assert invalid(failed) and step_of(failed) == "review"
    assert "Osigu is not answering right now" in failed.text
    assert trigger_of(failed)["osigu:error"]["problem"]["retryable"] is True
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


def line(w, product_code="MED-042", **fields):
    """Post the line form as a doctor fills it (strings, as a browser sends them)."""
    form = {"product_code": product_code, "quantity": "30", "dose": "1", "unit": "tablet", "every_hours": "8",
            "duration_days": "10"} | fields
    return w.post("/medications/add", data=form)


def test_a_spanish_dose_takes_a_decimal_comma_and_reads_back_with_it(widget):
    w = widget()
    fill_in_ana_with_paracetamol(w)
    refused = line(w, dose="0.5", quantity="", duration_days="1.000")  # Spanish writes 0,5; 1.000 is a thousand
    assert invalid(refused)
    assert "por ejemplo 0,5" in refused.text and "como máximo 1.000" in refused.text
    assert "de 1 a 365" in refused.text  # the days: a thousand is over the limit, said with it
    added = line(w, dose="0,5", quantity="", every_hours="12", duration_days="10")  # empty: computed
    assert step_of(added) == "medications" and "Cantidad: 20 unidades" in added.text  # 10 needed: a box of 20
    assert "0,5 comprimidos cada 12 horas durante 10 días" in w.get("/review").text


def test_an_english_dose_takes_a_decimal_point(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    assert "for example 0.5" in line(w, dose="0,5").text
    added = line(w, dose="1.5", quantity="45")
    assert "1.5 tablets every 8 hours for 10 days" in added.text and "Quantity: 45 units" in added.text


def test_messages_say_the_real_limits(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    assert "Enter a whole number from 1 to 1,000." in line(w, quantity="1001").text
    w.post("/patient/change")
    new = {"first_name": "E" * 101, "last_name": "Sanz", "document_type": "CC", "document_number": "7700000002",
           "date_of_birth": "1980-05-05"}
    assert "at most 100 characters" in w.post("/patient/new", data=new).text


def test_a_quantity_the_posology_does_not_explain_is_a_warning_the_doctor_can_override(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    w.post("/medications/remove", data={"product_code": "MED-042"})
    warned = line(w, quantity="10")  # 1 tablet every 8 hours for 10 days needs 30
    assert warned.status_code == 200 and "The posology needs 30 units and the quantity is 10" in warned.text
    assert "MED-042" not in w.get("/medications").text  # nothing added yet
    confirmed = re.search(r'name="quantity_confirmed" value="([^"]+)"', warned.text).group(1)
    added = line(w, quantity="10", quantity_confirmed=confirmed)
    assert "Quantity: 10 units" in added.text
    assert "posology needs" not in line(w, quantity="40").text  # two boxes of 20 cover 30: no warning


def test_only_units_that_fit_the_form_are_offered_and_packs_are_counted_as_packs(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    tablets = w.get("/medications/line", params={"product_code": "MED-042"})
    assert re.findall(r'<option value="(\w+)"', tablets.text)[:1] == ["tablet"] and 'value="ml"' not in tablets.text
    assert invalid(line(w, unit="ml"))
    syrup = w.get("/medications/line", params={"product_code": "MED-049"})  # paracetamol syrup, bottle of 120 mL
    assert 'value="ml" selected' in syrup.text and "Quantity to dispense (packs: bottle of 120 mL)" in syrup.text
    added = line(w, "MED-049", dose="5", unit="ml", quantity="")  # 5 mL every 8 hours for 10 days: 150 mL
    assert "Quantity: 2 packs" in added.text


@pytest.mark.parametrize("host_app, offered, refused", [
    ("his-a", {"CC", "CE", "TI", "RC", "PA"}, "DNI"),
    ("his-eu", {"CC", "PA"}, "TI"),
    ("his-es", {"DNI", "NIE", "PA"}, "CC"),
])
def test_identity_documents_are_the_markets(widget, host_app, offered, refused):
    w = widget(host_app, locale="en")
    form = w.get("/patient/search", params={"document_number": "7711111111"})
    assert set(re.findall(r'<option value="(\w+)"', form.text)) == offered
    new = {"first_name": "Elena", "last_name": "Sanz", "document_type": refused, "document_number": "7711111111",
           "date_of_birth": "1980-05-05"}
    answer = w.post("/patient/new", data=new)
    assert invalid(answer) and "Choose one of the document types offered." in answer.text


def test_an_unknown_host_patient_lands_on_the_search_with_registration_offered(widget):
    w = widget(locale="en", context={"patient": {"document_type": "CC", "document_number": "7722222222"}})
    resumed = w.get("/resume")
    assert step_of(resumed) == "patient"
    assert "No patient has the document 7722222222. Register the patient:" in resumed.text
    assert 'name="document_number" type="text" value="7722222222"' in resumed.text
    created = w.post("/patient/new", data={"first_name": "Elena", "last_name": "Sanz", "document_type": "CC",
                                          "document_number": "7722222222", "date_of_birth": "1980-05-05"})
    assert step_of(created) == "diagnoses" and "Elena Sanz" in created.text
    by_id = widget(locale="en", context={"patient": {"patient_id": "pat_01HXE0000000000000000ZZZ99"}})
    assert "The patient your system named is not in Osigu" in by_id.get("/resume").text


@pytest.mark.parametrize("patient_id", ["../../../sandbox/v1/messages", "..%2F..%2Fsandbox", "pat_1?x=1", "a" * 65])
def test_a_patient_id_of_the_wrong_shape_never_reaches_osigu(widget, patient_id):
    w = widget(locale="en")
    w.get("/resume")
    answer = w.post("/patient/select", data={"patient_id": patient_id})
    assert invalid(answer) and step_of(answer) == "patient"


def test_an_upstream_path_quotes_every_segment():
    from bff.upstream import path

    assert path("/ehr/v1/patients/{}", "../../sandbox/v1/messages?x=1#y") == \
        "/ehr/v1/patients/..%2F..%2Fsandbox%2Fv1%2Fmessages%3Fx%3D1%23y"
    assert path("/ehr/v1/prescriptions/{}/resend", "rx_01") == "/ehr/v1/prescriptions/rx_01/resend"


def test_form_fields_are_checked_before_they_touch_the_draft(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    assert invalid(w.post("/diagnoses/add", data={"diagnosis_code": "x" * 5000}))
    for trailing in ("R51\n", "J45.9\n"):  # "$" in a pattern matches before a final line break: never enough
        assert invalid(w.post("/diagnoses/add", data={"diagnosis_code": trailing}))
    assert 'name="dose"' in w.get("/medications/line", params={"product_code": "MED-042"}).text
    assert 'name="dose"' not in w.get("/medications/line", params={"product_code": "MED-042\n"}).text
    assert w.post("/diagnoses/add", data={"diagnosis_code": "R51" * (3 * 1024 * 1024)}).status_code == 413
    assert w.post("/medications/add", data={"product_code": "MED-042", "dose": "1" * 9000}).status_code == 413
    page = w.get("/diagnoses")
    assert "xxxxx" not in page.text and len(page.content) < 20_000


@pytest.mark.parametrize("simulator_config", [{"PROVIDER_PRODUCTS_RATE_LIMIT": "10000/minute"}])  # 40+ lookups
def test_a_draft_filled_to_every_limit_stays_small(widget, bff_app):
    from widgets.prescription.draft import PrescriptionDraft

    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    codes = ["A00.0", "A01.0", "B20", "C34.1", "E11.9", "I10", "J45.9", "K29.7", "M54.5", "N39.0", "R50.9"]
    for code in codes:
        w.post("/diagnoses/add", data={"diagnosis_code": code, "description": "d" * 5000})  # kept: 300
    assert "at most 10 diagnoses" in w.post("/diagnoses/add", data={"diagnosis_code": "Z00.0"}).text
    for number in range(1, 22):
        code = f"MED-{number:03d}"
        unit = re.search(r'<option value="(\w+)" selected',
                         w.get("/medications/line", params={"product_code": code}).text).group(1)
        line(w, code, unit=unit, dose="1000", quantity="1000", quantity_confirmed="1000", duration_days="365")
    with bff_app.app_context():
        stored = bff_app.extensions["sqlalchemy"].session.scalars(
            bff_app.extensions["sqlalchemy"].select(PrescriptionDraft)).one()
        size = len(json.dumps([stored.patient, stored.diagnoses, stored.lines]))
    assert len(stored.diagnoses) == 10 and len(stored.lines) == 20
    assert size < 16_000, size  # ten 300-character descriptions and twenty lines: kilobytes, never megabytes


def test_cancel_is_idempotent_before_issue_and_refused_after(widget):
    w = widget()
    fill_in_ana_with_paracetamol(w)
    first, second = w.post("/cancel"), w.post("/cancel")  # a double click
    assert second.status_code == 200
    assert trigger_of(first) == trigger_of(second) == {"osigu:exit": {"reason": "cancelled", "step": "medications"}}
    assert step_of(w.get("/resume")) == "patient"  # the work was dropped: mounted again, it starts over

    w = widget()
    fill_in_ana_with_paracetamol(w)
    outcome = trigger_of(w.post("/issue"))["osigu:success"]["outcome"]
    refused = w.post("/cancel")
    assert step_of(refused) == "done" and "osigu:exit" not in trigger_of(refused)
    assert outcome["prescription_code"] in refused.text
    assert trigger_of(w.post("/issue"))["osigu:success"]["outcome"] == outcome  # still the one prescription


def test_a_portuguese_session_speaks_portuguese_and_writes_decimals_with_a_comma(widget):
    w = widget("his-eu", locale="pt")
    fill_in_ana_with_paracetamol(w)
    added = line(w, dose="0,5", quantity="15")
    assert "Medicamentos" in added.text and "Quantidade: 15 unidades" in added.text
    assert "0,5 comprimidos de 8 em 8 horas durante 10 dias" in added.text
    assert "Consentimento do doente" in w.get("/consent").text


def test_one_back_button_per_screen(widget):
    w = widget(locale="en")
    fill_in_ana_with_paracetamol(w)
    line_form = w.get("/medications/line", params={"product_code": "MED-042"})
    screens = [w.get("/diagnoses"), w.get("/medications"), line_form, w.get("/review")]
    for screen in screens:
        assert len(re.findall(r">(Back|Back to the list)</button>", screen.text)) == 1, step_of(screen)


@pytest.mark.parametrize("simulator_config", [{"PROVIDER_PRODUCTS_RATE_LIMIT": "10000/minute"}])
@pytest.mark.parametrize("method, url, form", FORMS, ids=[url for _, url, _ in FORMS])
def test_hostile_values_in_any_form_field_are_refused_or_escaped_never_a_500(widget, method, url, form):
    w = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(w)
    for field in form:
        for value in HOSTILE:
            data = form | {field: value}
            answer = w.get(url, params=data) if method == "GET" else w.post(url, data=data)
            assert answer.status_code < 500, (url, field, value[:40], answer.text[:300])
            assert "<script>alert" not in answer.text and "<img src=x" not in answer.text, (url, field)
    assert step_of(w.get("/review")) in ("consent", "review")  # the draft survived all of it
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
