"""What the sandbox "sent" (SMS, e-mail) and the webhooks it delivers."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow

MESSAGE_KINDS = ("OTP", "PRESCRIPTION")


class SandboxMessage(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # SMS | EMAIL
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30))  # OTP | PRESCRIPTION
    reference: Mapped[str | None] = mapped_column(String(40), index=True)
    otp_code: Mapped[str | None] = mapped_column(String(6))
    link: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)


class WebhookEndpoint(db.Model):
    """Where a provider's webhooks go; the row without provider is the configured default."""

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))


class WebhookDelivery(db.Model):
    """One event bound for one endpoint, retried with backoff until it gets a 2xx."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"))
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")
    # Where it was last sent: the endpoint's URL may change later, the history should not.
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="PENDING", index=True)  # PENDING|DELIVERED|FAILED
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    last_response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
