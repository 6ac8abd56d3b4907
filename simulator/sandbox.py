"""Sandbox-only tools: the outbox of sent messages, the webhook log and settings, certification, reset."""

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, current_app, render_template, request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import storage, webhooks
from .bodies import json_body
from .db import db, isoformat, utcnow
from .models import SandboxMessage, WebhookDelivery, WebhookEndpoint
from .oauth import current_provider, require_oauth
from .pagination import paginate

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: str | None = Field(default=None, pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")


class Certification(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_key_pem: str = Field(max_length=4000)

    @field_validator("public_key_pem")
    @classmethod
    def _p256_public_key(cls, value):
        try:
            key = serialization.load_pem_public_key(value.encode())
        except ValueError:
            raise ValueError("not a PEM public key") from None
        if getattr(getattr(key, "curve", None), "name", None) != "secp256r1":
            raise ValueError("the key must be an ECDSA P-256 public key")
        return value


def message_json(message):
    """Serialise one sent message."""
    return {
        "message_id": message.id,
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "kind": message.kind,
        "reference": message.reference,
        "otp_code": message.otp_code,
        "link": message.link,
        "created_at": isoformat(message.created_at),
    }


def _messages_select():
    select = db.select(SandboxMessage).order_by(SandboxMessage.created_at.desc(), SandboxMessage.id.desc())
    for field in ("recipient", "kind", "reference"):
        if value := request.args.get(field):
            select = select.where(getattr(SandboxMessage, field) == value)
    return select


@bp.get("/v1/messages")
def list_messages():
    """List the SMS and e-mails the sandbox sent, newest first, filtered by recipient, kind or reference."""
    return paginate(_messages_select(), message_json)


@bp.get("/outbox")
def outbox_page():
    """Show the sent messages to a person finishing an OTP flow or opening a prescription e-mail."""
    rows = db.session.scalars(_messages_select().limit(100)).all()
    return render_template("sandbox/outbox.html", messages=[message_json(m) for m in rows])


@bp.get("/v1/webhook-deliveries")
def list_webhook_deliveries():
    """List webhook deliveries, newest first, with their attempts and status."""
    select = db.select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc())
    if event_type := request.args.get("type"):
        select = select.where(WebhookDelivery.event_type == event_type)
    return paginate(select, webhooks.delivery_json)


@bp.put("/v1/webhook-endpoint")
@require_oauth()
def set_webhook_endpoint():
    """Send the token's provider's webhooks to url, signed with secret (made for you when absent)."""
    body = json_body(WebhookSettings)
    provider = current_provider()
    endpoint = db.session.scalar(db.select(WebhookEndpoint).filter_by(provider_id=provider.id))
    if endpoint is None:
        endpoint = WebhookEndpoint(provider_id=provider.id)
        db.session.add(endpoint)
    endpoint.url, endpoint.secret = body.url, body.secret or webhooks.new_secret()
    db.session.commit()
    return {"url": endpoint.url, "secret": endpoint.secret}


@bp.put("/v1/certification")
@require_oauth()
def certify():
    """Certify the token's provider for v2 prescriptions with its own signing key."""
    body = json_body(Certification)
    provider = current_provider()
    provider.signing_public_key = body.public_key_pem
    provider.national_repository_id = provider.national_repository_id or f"ES-RNR-{provider.id:07d}"
    db.session.commit()
    return {"national_repository_id": provider.national_repository_id, "certified_at": isoformat(utcnow())}


@bp.post("/v1/reset")
def reset():
    """Drop every change and reseed, for a clean demo or test run."""
    storage.reset(current_app)
    return {"status": "reset"}
