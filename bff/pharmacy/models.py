"""The hospital pharmacy's tables: queue entries (one dispensing record each), their audit trail, stock lots."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import db, utcnow

PENDING, DISPENSING, DISPENSED, COLLECTED, CANCELLED = "PENDING", "DISPENSING", "DISPENSED", "COLLECTED", "CANCELLED"
STATUSES = (PENDING, DISPENSING, DISPENSED, COLLECTED, CANCELLED)
PRIORITIES = ("ROUTINE", "URGENT", "STAT")


class QueueEntry(db.Model):
    """A prescription waiting for (or through) the pharmacy of one tenant, and its dispensing record.

    Medicines are JSON: they are always read and written whole, under the entry's lock (see queue.locked).
    """

    __tablename__ = "bff_pharmacy_entry"
    __table_args__ = (UniqueConstraint("tenant", "code"), Index("ix_bff_pharmacy_entry_queue", "tenant", "status"))
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))  # the Osigu client id the host apps act with
    host_app_id: Mapped[str] = mapped_column(String(100))  # who queued it: told when a medicine is unavailable
    source: Mapped[str] = mapped_column(String(10))  # "widget" (issued by the prescription widget) or "api"
    code: Mapped[str] = mapped_column(String(30))  # the RX-/AUT- code: the seed's display prescriptionId
    code_type: Mapped[str] = mapped_column(String(20))
    upstream_id: Mapped[str | None] = mapped_column(String(100), index=True)  # Osigu's prescription_id, if known
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    priority: Mapped[str] = mapped_column(String(10), default="ROUTINE")
    department: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # {"id", "name"}
    patient: Mapped[dict] = mapped_column(JSON)  # {"id", "firstName", "lastName"}
    doctor: Mapped[dict] = mapped_column(JSON)  # {"id", "name"}, either may be None for codes issued elsewhere
    medicines: Mapped[list] = mapped_column(JSON)
    assigned_to: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # {"id", "name", "role"}
    completed_by: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # Written before the redemption at Osigu starts, so a restart knows the pharmacist asked to complete.
    completion: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # {notes, patientCounseled, hostAppId}
    notes: Mapped[str | None] = mapped_column(Text)
    patient_counseled: Mapped[bool | None] = mapped_column(Boolean)
    collected_by: Mapped[str | None] = mapped_column(String(200))
    prescription_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(default=0)  # bumped to take the entry's lock
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # waiting since
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AuditEvent(db.Model):
    """One change to a queue entry: who (the session's user, from which host app), when, what."""

    __tablename__ = "bff_pharmacy_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    user: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # None: Osigu (a webhook) or the BFF
    host_app_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class Lot(db.Model):
    """Units of one product from one batch on a tenant's shelves."""

    __tablename__ = "bff_pharmacy_lot"
    __table_args__ = (UniqueConstraint("tenant", "product_code", "batch_number"),
                      Index("ix_bff_pharmacy_lot_product", "tenant", "product_code", "expiry_date"))
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    product_code: Mapped[str] = mapped_column(String(30))
    batch_number: Mapped[str] = mapped_column(String(40))
    expiry_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
