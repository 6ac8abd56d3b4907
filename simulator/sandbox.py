"""Sandbox-only tools: outbox, webhook log and settings, certification, sponsor decisions, reset."""

from typing import Literal

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, current_app, render_template
from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import adjudication, errors, params, settlements, storage, webhooks
from .authorizations import authorization_json, by_code
from .bodies import json_body
from .db import db, isoformat, utcnow
from .models import SandboxMessage, Settlement, WebhookDelivery, WebhookEndpoint
from .models.sandbox import MESSAGE_KINDS
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
    if kind := params.one_of("kind", MESSAGE_KINDS):
        select = select.where(SandboxMessage.kind == kind)
    for field in ("recipient", "reference"):
        if value := params.single(field):
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
    if event_type := params.one_of("type", webhooks.EVENT_TYPES):
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


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["APPROVED", "REJECTED"]
    # A reviewer's reason is one of the reasons an authorization carries (AuthorizationStatusReason).
    reason: Literal["NOT_COVERED", "NOT_COVERED_BY_PLAN", "EXCLUDED_PRODUCT", "MEDICAL_REVIEW",
                    "MEDICAL_REVIEW_DENIED"] | None = None


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["IN_REVIEW", "APPROVED", "REJECTED", "PAID"] | None = None


@bp.post("/v1/authorizations/<code>/decision")
def decide_authorization(code):
    """Decide a pending authorization now, as the sponsor's reviewer (otherwise it is approved on a timer)."""
    body = json_body(Decision)
    authorization = by_code(code)
    if authorization.status != adjudication.PENDING:
        raise errors.ApiError(409, errors.AUTHORIZATION_NOT_APPROVED,
                              f"Only a pending authorization can be decided; this one is {authorization.status}.")
    reason = body.reason or ("MEDICAL_REVIEW_DENIED" if body.status == "REJECTED" else None)
    adjudication.record_decision(authorization, body.status, reason,
                                 validity_days=current_app.config["AUTHORIZATION_VALIDITY_DAYS"])
    db.session.commit()
    return authorization_json(authorization)


@bp.post("/v1/settlements/<settlement_id>/advance")
def advance_settlement(settlement_id):
    """Move a submitted batch to its next status now, or to the one given (REJECTED from review)."""
    body = json_body(Advance)
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None:
        raise errors.not_found(errors.SETTLEMENT_NOT_FOUND, "Settlement")
    allowed = {settlements.NEXT_STATUS.get(settlement.status)} - {None}
    if settlement.status in ("SUBMITTED", "IN_REVIEW"):
        allowed.add("REJECTED")
    target = body.status or settlements.NEXT_STATUS.get(settlement.status)
    if target not in allowed:
        raise errors.ApiError(409, errors.SETTLEMENT_NOT_EDITABLE,
                              f"A {settlement.status} batch cannot move to {target or 'a next status'}.")
    settlements.move(settlement, target)
    db.session.commit()
    return settlements.settlement_json(settlement)


@bp.post("/v1/reset")
def reset():
    """Drop every change and reseed, for a clean demo or test run."""
    storage.reset(current_app)
    return {"status": "reset"}
