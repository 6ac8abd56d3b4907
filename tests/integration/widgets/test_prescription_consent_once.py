"""The v1.1 consent is recorded per patient and provider with its date, shown on the review, and not asked on
every prescription; another provider, or another patient, is asked."""

from datetime import timedelta

import pytest
from widget_client import ORIGIN, fill_in_ana_with_paracetamol, step_of, trigger_of

ANA = "pat_01HXE0000000000000000ANA01"


@pytest.fixture
def host_apps(host_apps):
    """his-pt: a second provider in the v1.1 market."""
    return [*host_apps, {"id": "his-pt", "api_key": "his-pt-api-key-0123456789", "prescription_version": "v1.1",
                         "origins": [ORIGIN]}]


def consented_and_issued(widget, host_app="his-eu"):
    w = widget(host_app, locale="en")
    fill_in_ana_with_paracetamol(w)
    assert step_of(w.get("/review")) == "consent"
    assert step_of(w.post("/consent", data={"patient_data_consent": "yes"})) == "review"
    assert "osigu:success" in trigger_of(w.post("/issue"))


def test_the_next_prescription_for_the_patient_goes_to_the_review_with_the_consent_and_its_date(widget):
    consented_and_issued(widget)
    w = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(w)
    medications = w.get("/medications")
    assert "/widgets/prescription/review" in medications.text  # Continue skips the consent step
    assert "/widgets/prescription/consent" not in medications.text
    review = w.get("/review")
    assert step_of(review) == "review"
    assert "The patient consented to the processing of their data on" in review.text
    assert "osigu:success" in trigger_of(w.post("/issue"))  # Osigu refuses a v1.1 prescription without consent


def test_another_provider_asks_again_another_doctor_of_the_same_does_not(widget):
    consented_and_issued(widget, "his-eu")
    colleague = widget("his-eu", locale="en", user={"id": "dr-9", "name": "Dr Nine", "role": "doctor"})
    fill_in_ana_with_paracetamol(colleague)
    assert step_of(colleague.get("/review")) == "review"
    elsewhere = widget("his-pt", locale="en")
    fill_in_ana_with_paracetamol(elsewhere)
    assert step_of(elsewhere.get("/review")) == "consent"


def test_a_consent_older_than_a_year_is_asked_again(widget, bff_app):
    consented_and_issued(widget)
    from bff.db import db
    from widgets.prescription.consents import PatientConsent

    with bff_app.app_context():
        found = db.session.scalars(db.select(PatientConsent).filter_by(patient_id=ANA)).one()
        found.given_at = found.given_at - timedelta(days=366)
        db.session.commit()
    w = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(w)
    assert step_of(w.get("/review")) == "consent"
