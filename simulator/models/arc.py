"""ARC: sponsors and beneficiaries, pre-authorizations and their authorizations, claims, settlements."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow
from .dispensing import Verifiable


class Sponsor(db.Model):
    """An insurer, EPS, ARS or self-funded employer; `config` holds every rule that varies by sponsor."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # INSURER | EPS | ARS | EMPLOYER
    country: Mapped[str] = mapped_column(String(2))
    config: Mapped[dict] = mapped_column(JSON)


class Beneficiary(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsor.id"), index=True)
    sponsor: Mapped[Sponsor] = relationship()
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    document_type: Mapped[str] = mapped_column(String(10))
    document_number: Mapped[str] = mapped_column(String(30))
    date_of_birth: Mapped[date]
    policy_number: Mapped[str | None] = mapped_column(String(30))
    card_number: Mapped[str | None] = mapped_column(String(30))
    employee_number: Mapped[str | None] = mapped_column(String(30))
    plan: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12))  # ACTIVE | SUSPENDED
    not_covered: Mapped[list] = mapped_column(JSON, default=list)  # product types this plan excludes
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))


class Preauthorization(Verifiable, db.Model):
    """A two-phase request: initiated, given indications and documents in any order, then completed."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    provider_branch_id: Mapped[str | None] = mapped_column(String(60))
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsor.id"))
    sponsor: Mapped[Sponsor] = relationship()
    beneficiary_id: Mapped[str] = mapped_column(ForeignKey("beneficiary.id"))
    beneficiary: Mapped[Beneficiary] = relationship()
    status: Mapped[str] = mapped_column(String(24), default="DRAFT")  # DRAFT | PENDING_VERIFICATION | COMPLETED
    attempt: Mapped[int] = mapped_column(default=1)
    products: Mapped[list] = mapped_column(JSON)  # [{"product_code", "quantity"}]
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    documents: Mapped[list["SupportDocument"]] = relationship(
        order_by="SupportDocument.created_at", cascade="all, delete-orphan"
    )
    authorizations: Mapped[list["Authorization"]] = relationship(order_by="Authorization.group_no")
    challenges = relationship("VerificationChallenge", order_by="VerificationChallenge.created_at",
                              cascade="all, delete-orphan")

    @property
    def contact(self):
        """Whom an OTP goes to: the beneficiary."""
        return self.beneficiary


class SupportDocument(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    preauthorization_id: Mapped[str] = mapped_column(ForeignKey("preauthorization.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)


AUTHORIZATION_STATUSES = ("APPROVED", "PENDING", "REJECTED", "VOIDED", "REDEEMED", "EXPIRED")


class Authorization(db.Model):
    """The sponsor's answer for one group of products: a code a provider can dispense or claim."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    preauthorization_id: Mapped[str] = mapped_column(ForeignKey("preauthorization.id"), index=True)
    preauthorization: Mapped[Preauthorization] = relationship(back_populates="authorizations")
    attempt: Mapped[int] = mapped_column(default=1)
    group_no: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # APPROVED|PENDING|REJECTED|VOIDED|REDEEMED|EXPIRED
    reason: Mapped[str | None] = mapped_column(String(40))
    reason_detail: Mapped[str | None] = mapped_column(String(300))
    lines: Mapped[list] = mapped_column(JSON)  # [{"product_code", "quantity", "product_type"}]
    decide_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    @property
    def sponsor(self):
        return self.preauthorization.sponsor

    @property
    def beneficiary(self):
        return self.preauthorization.beneficiary


class Claim(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    provider_branch_id: Mapped[str | None] = mapped_column(String(60))
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsor.id"))
    sponsor: Mapped[Sponsor] = relationship()
    beneficiary_id: Mapped[str] = mapped_column(ForeignKey("beneficiary.id"))
    beneficiary: Mapped[Beneficiary] = relationship()
    claim_type: Mapped[str] = mapped_column(String(12))  # OUTPATIENT|PROCEDURE|PHARMACY|LAB|IMAGING
    source: Mapped[str] = mapped_column(String(12))  # DISPENSING | DIRECT
    status: Mapped[str] = mapped_column(String(12), default="SUBMITTED")
    authorization_id: Mapped[str | None] = mapped_column(ForeignKey("authorization.id"))
    authorization: Mapped[Authorization | None] = relationship()
    dispensation_id: Mapped[str | None] = mapped_column(String(40))
    service_date: Mapped[date]
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)
    lines: Mapped[list] = mapped_column(JSON)  # [{"product_code", "quantity", "unit_price"}]
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)


class Settlement(db.Model):
    """A Dominican Republic settlement batch (radicación) of redeemed authorizations."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsor.id"))
    sponsor: Mapped[Sponsor] = relationship()
    status: Mapped[str] = mapped_column(String(12), default="DRAFT")
    authorization_ids: Mapped[list] = mapped_column(JSON)
    history: Mapped[list] = mapped_column(JSON, default=list)  # [{"status", "at"}]
    next_step_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
