"""The v1.1 (Portugal) patient-data consent, recorded per patient and provider with its date, asked once a year.

The market's rule as we read it (an assumption, to confirm with the provider's DPO): consent to process health
data to issue, deliver and dispense prescriptions holds for the care relationship, so it is not asked on every
prescription; it is asked again after CONSENT_VALID_DAYS so it stays current. The provider is the host app
(one Osigu provider per host app).
"""

from datetime import datetime, timedelta

from flask import g
from sqlalchemy import DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import aware, db, utcnow

CONSENT_VALID_DAYS = 365


class PatientConsent(db.Model):
    """When a patient last consented, at one provider."""

    __tablename__ = "bff_patient_consent"
    __table_args__ = (UniqueConstraint("host_app_id", "patient_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100))
    patient_id: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _found(patient):
    return db.session.scalars(db.select(PatientConsent).filter_by(
        host_app_id=g.widget_session.host_app_id, patient_id=patient["patient_id"])).first()


def on_file(patient):
    """When the patient's consent still on file at this provider was given, or None (ask for it)."""
    found = _found(patient) if patient else None
    if found is None or aware(found.given_at) < utcnow() - timedelta(days=CONSENT_VALID_DAYS):
        return None
    return aware(found.given_at)


def record(patient):
    """Record that the patient consents today."""
    found = _found(patient)
    if found is None:
        db.session.add(PatientConsent(host_app_id=g.widget_session.host_app_id, patient_id=patient["patient_id"]))
    else:
        found.given_at = utcnow()
