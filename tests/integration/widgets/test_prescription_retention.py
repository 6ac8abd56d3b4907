"""What the prescription widget keeps, and for how long: a consent until its year is over, the issued prescriptions a
repeat offers as long as BFF_RETENTION_DAYS keeps their flow, a doctor's favourites until the doctor changes them."""

from datetime import timedelta

from widget_client import fill_in_ana_with_paracetamol, step_of, trigger_of

from bff import retention
from bff.db import WidgetSession, db, utcnow
from widgets.prescription.consents import CONSENT_VALID_DAYS, PatientConsent
from widgets.prescription.favourites import Favourite

ANA = {"document_type": "CC", "document_number": "1000000001"}


def issued(widget, host_app):
    """Issue Ana López's paracetamol through the widget (consenting where the market asks), saved as a favourite."""
    w = widget(host_app, locale="en")
    fill_in_ana_with_paracetamol(w)
    w.post("/medications/favourite", data={"product_code": "MED-042"})
    if step_of(w.get("/review")) == "consent":
        w.post("/consent", data={"patient_data_consent": "yes"})
    return trigger_of(w.post("/issue"))["osigu:success"]["outcome"]


def consent_aged(app, days):
    """Move the consent's date back by days, as if that long had passed."""
    with app.app_context():
        for found in db.session.scalars(db.select(PatientConsent)):
            found.given_at -= timedelta(days=days)
        db.session.commit()


def count(app, model):
    with app.app_context():
        return db.session.query(model).count()


def test_a_consent_is_purged_once_its_year_is_over_and_not_before(widget, bff_app):
    issued(widget, "his-eu")
    consent_aged(bff_app, CONSENT_VALID_DAYS - 1)
    with bff_app.app_context():
        assert retention.purge()["consents"] == 0  # still valid: the next prescription does not ask
    assert count(bff_app, PatientConsent) == 1
    consent_aged(bff_app, 2)
    with bff_app.app_context():
        assert retention.purge(days=400)["consents"] == 1  # its own lifetime, whatever BFF_RETENTION_DAYS says
    assert count(bff_app, PatientConsent) == 0
    again = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(again)
    assert step_of(again.get("/review")) == "consent"  # asked again, as it would have been without the purge


def test_a_repeat_is_offered_while_the_retention_keeps_its_flow_and_favourites_stay(widget, bff_app):
    earlier = issued(widget, "his-a")
    offered = widget(locale="en", context={"patient": ANA}).get("/resume")
    assert f"Repeat {earlier['prescription_code']}" in offered.text
    with bff_app.app_context():  # a month and a day pass for every session
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        assert retention.purge()["sessions"] >= 2
    later = widget(locale="en", context={"patient": ANA, "repeat_of": earlier["prescription_id"]}).get("/resume")
    assert step_of(later) == "diagnoses" and "Recent prescriptions" not in later.text
    assert "That prescription cannot be repeated for this patient." in later.text
    # A doctor's favourite is a habit, not a patient's data: the purge leaves it (at most 30 per doctor).
    assert count(bff_app, Favourite) == 1
