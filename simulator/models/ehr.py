"""ePrescription (EHR): patients and the prescriptions doctors issue for them."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow

ISSUED = "PRESCRIPTION_ISSUED"
REDEEMED = "PRESCRIPTION_DISPENSED"
CANCELLED = "PRESCRIPTION_CANCELLED"


class Patient(db.Model):
    __table_args__ = (UniqueConstraint("document_type", "document_number"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    document_type: Mapped[str] = mapped_column(String(10))
    document_number: Mapped[str] = mapped_column(String(30), index=True)
    date_of_birth: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(1))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)


class Prescription(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    version: Mapped[str] = mapped_column(String(4))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    patient: Mapped[Patient] = relationship()
    doctor_id: Mapped[str | None] = mapped_column(String(60))
    provider_branch_id: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(30), default=ISSUED)
    diagnoses: Mapped[list] = mapped_column(JSON)
    patient_data_consent: Mapped[bool | None]
    national_repository_id: Mapped[str | None] = mapped_column(String(80))
    signed_hash: Mapped[dict | None] = mapped_column(JSON)
    # The language it was issued in (the create request's Accept-Language): its PDF and e-mail speak it.
    locale: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(String(200))
    lines: Mapped[list["PrescriptionLine"]] = relationship(
        order_by="PrescriptionLine.line_no", cascade="all, delete-orphan"
    )


class PrescriptionLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[str] = mapped_column(ForeignKey("prescription.id"), index=True)
    line_no: Mapped[int]
    product_code: Mapped[str] = mapped_column(ForeignKey("catalog_product.code"))
    product = relationship("CatalogProduct", lazy="joined")
    quantity: Mapped[int]
    posology: Mapped[str] = mapped_column(String(500))
    duration_days: Mapped[int | None]
    substitution_allowed: Mapped[bool] = mapped_column(default=True)
