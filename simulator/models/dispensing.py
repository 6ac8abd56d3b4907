"""Dispensations of a prescription or authorization code, and their verification challenges."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow

STARTED = "STARTED"
PENDING_VERIFICATION = "PENDING_VERIFICATION"
DISPENSED = "DISPENSED"
VOIDED = "VOIDED"
OPEN_STATUSES = (STARTED, PENDING_VERIFICATION)


class Verifiable:
    """What verification.py needs of a subject: the methods that satisfy it, and whether one did."""

    # Space-separated methods (OTP, BIOMETRIC); empty when no verification is required.
    verification_methods: Mapped[str] = mapped_column(String(40), default="")
    verified_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(12))

    @property
    def methods(self):
        """List the verification methods that satisfy this subject."""
        return self.verification_methods.split() if self.verification_methods else []


class Dispensation(Verifiable, db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    provider_branch_id: Mapped[str | None] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(30), index=True)
    code_type: Mapped[str] = mapped_column(String(20))
    prescription_id: Mapped[str | None] = mapped_column(ForeignKey("prescription.id"))
    prescription = relationship("Prescription")
    authorization_id: Mapped[str | None] = mapped_column(ForeignKey("authorization.id"))
    authorization = relationship("Authorization")
    status: Mapped[str] = mapped_column(String(24), default=STARTED)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(20))
    lines: Mapped[list["DispensationLine"]] = relationship(
        order_by="DispensationLine.line_no", cascade="all, delete-orphan"
    )
    challenges: Mapped[list["VerificationChallenge"]] = relationship(
        order_by="VerificationChallenge.created_at", cascade="all, delete-orphan"
    )

    @property
    def contact(self):
        """Whom an OTP goes to: the prescription's patient or the authorization's beneficiary."""
        return self.prescription.patient if self.prescription else self.authorization.beneficiary


class DispensationLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    dispensation_id: Mapped[str] = mapped_column(ForeignKey("dispensation.id"), index=True)
    line_no: Mapped[int]
    prescribed_product_code: Mapped[str] = mapped_column(ForeignKey("catalog_product.code"))
    prescribed_product = relationship("CatalogProduct", foreign_keys=[prescribed_product_code], lazy="joined")
    prescribed_quantity: Mapped[int]
    product_code: Mapped[str] = mapped_column(ForeignKey("catalog_product.code"))
    product = relationship("CatalogProduct", foreign_keys=[product_code], lazy="joined")
    quantity: Mapped[int]
    posology: Mapped[str | None] = mapped_column(String(500))
    substitution_allowed: Mapped[bool] = mapped_column(default=True)


class VerificationChallenge(db.Model):
    """One OTP sent or one biometric reading submitted for a dispensation or a pre-authorization."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dispensation_id: Mapped[str | None] = mapped_column(ForeignKey("dispensation.id"), index=True)
    preauthorization_id: Mapped[str | None] = mapped_column(ForeignKey("preauthorization.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))  # OTP | BIOMETRIC
    status: Mapped[str] = mapped_column(String(12), default="PENDING")  # PENDING | VERIFIED | FAILED | EXPIRED
    otp_code: Mapped[str | None] = mapped_column(String(6))
    sent_to: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    modality: Mapped[str | None] = mapped_column(String(12))
    decide_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(12))  # the biometric result once decided
    expires_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
