"""Settlement batches (radicación), the Dominican Republic flow: redeemed authorizations sent as a package."""

from datetime import timedelta

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from . import errors, params, webhooks
from .bodies import json_body
from .db import aware, db, isoformat, new_id, utcnow
from .idempotency import idempotent
from .models import Authorization, Settlement
from .oauth import current_provider, require_oauth
from .pagination import paginate
from .sponsors import get_sponsor

bp = Blueprint("settlements", __name__, url_prefix="/v3/settlements")

# Where the sponsor takes a submitted batch, one step at a time.
NEXT_STATUS = {"SUBMITTED": "IN_REVIEW", "IN_REVIEW": "APPROVED", "APPROVED": "PAID"}
STATUSES = ("DRAFT", "SUBMITTED", "IN_REVIEW", "APPROVED", "REJECTED", "PAID")


class NewSettlement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sponsor_slug: str = Field(min_length=1, max_length=60)
    authorization_codes: list[str] = Field(min_length=1, max_length=500)


def settlement_json(settlement):
    """Serialise a batch with its authorizations and status history."""
    codes = db.session.scalars(db.select(Authorization.code).where(
        Authorization.id.in_(settlement.authorization_ids)).order_by(Authorization.code)).all()
    return {
        "settlement_id": settlement.id,
        "sponsor_slug": settlement.sponsor.slug,
        "status": settlement.status,
        "authorization_codes": codes,
        "authorization_count": len(codes),
        "history": settlement.history,
        "created_at": isoformat(settlement.created_at),
        "submitted_at": isoformat(settlement.submitted_at),
    }


def _batched_elsewhere(authorization_ids):
    """The ids already in another provider batch that the sponsor has not rejected."""
    batches = db.session.scalars(db.select(Settlement).where(Settlement.status != "REJECTED")).all()
    return {auth_id for batch in batches for auth_id in batch.authorization_ids} & set(authorization_ids)


def move(settlement, status):
    """Record a status change and tell the provider; the caller commits."""
    now = utcnow()
    settlement.status = status
    settlement.history = [*settlement.history, {"status": status, "at": isoformat(now)}]
    next_step = NEXT_STATUS.get(status)
    step = timedelta(seconds=current_app.config["SETTLEMENT_STEP_SECONDS"])
    settlement.next_step_at = now + step if next_step else None
    webhooks.emit("settlement.status_changed", settlement.provider,
                  {"settlement_id": settlement.id, "status": status})


def advance_due():
    """Move submitted batches along the sponsor's process when their step time has come."""
    due = db.session.scalars(db.select(Settlement).where(
        Settlement.next_step_at.is_not(None), Settlement.next_step_at <= utcnow())).all()
    for settlement in due:
        move(settlement, NEXT_STATUS[settlement.status])
    if due:
        db.session.commit()
    return len(due)


def own_settlement(settlement_id):
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None or settlement.provider_id != current_provider().id:
        raise errors.not_found(errors.SETTLEMENT_NOT_FOUND, "Settlement")
    return settlement


@bp.post("")
@require_oauth("claims:write")
@idempotent
def create():
    """Group redeemed authorizations of one sponsor into a draft batch."""
    body = json_body(NewSettlement)
    provider = current_provider()
    sponsor = get_sponsor(body.sponsor_slug)
    if not sponsor.config["settlements"]:
        raise errors.ApiError(422, errors.SPONSOR_WITHOUT_SETTLEMENTS,
                              f"{sponsor.name} does not take settlement batches; its claims need nothing more.")
    codes = [code.strip().upper() for code in body.authorization_codes]
    found = {a.code: a for a in db.session.scalars(db.select(Authorization).where(Authorization.code.in_(codes)))}
    problems = []
    for code in codes:
        authorization = found.get(code)
        if authorization is None or authorization.preauthorization.provider_id != provider.id:
            problems.append({"authorization_code": code, "issue": "not one of your authorizations"})
        elif authorization.sponsor.id != sponsor.id:
            problems.append({"authorization_code": code, "issue": f"belongs to {authorization.sponsor.name}"})
        elif authorization.status != "REDEEMED":
            problems.append({"authorization_code": code, "issue": f"is {authorization.status.lower()}, not redeemed"})
    ids = [found[code].id for code in codes if code in found]
    problems += [{"authorization_code": found_code, "issue": "already in another batch"}
                 for found_code, auth in found.items() if auth.id in _batched_elsewhere(ids)]
    if problems:
        raise errors.ApiError(422, errors.AUTHORIZATION_NOT_SETTLEABLE,
                              "Some authorizations cannot go into this batch.", problems)
    settlement = Settlement(id=new_id("stl"), provider=provider, sponsor=sponsor, authorization_ids=sorted(set(ids)),
                            history=[{"status": "DRAFT", "at": isoformat(utcnow())}], created_at=utcnow())
    db.session.add(settlement)
    db.session.commit()
    return settlement_json(settlement), 201


@bp.post("/<settlement_id>/submit")
@require_oauth("claims:write")
@idempotent
def submit(settlement_id):
    """Send a draft batch to the sponsor; it then moves to IN_REVIEW, APPROVED and PAID."""
    settlement = own_settlement(settlement_id)
    if settlement.status != "DRAFT":
        raise errors.ApiError(409, errors.SETTLEMENT_NOT_EDITABLE, f"This batch is already {settlement.status}.")
    settlement.submitted_at = utcnow()
    move(settlement, "SUBMITTED")
    db.session.commit()
    return settlement_json(settlement)


@bp.get("")
@require_oauth("claims:read")
def list_settlements():
    """List the provider's batches, optionally by status."""
    select = db.select(Settlement).where(Settlement.provider_id == current_provider().id)
    if status := params.one_of("status", STATUSES):
        select = select.where(Settlement.status == status)
    return paginate(select.order_by(Settlement.created_at.desc()), settlement_json)


@bp.get("/<settlement_id>")
@require_oauth("claims:read")
def get(settlement_id):
    """Follow a batch's status."""
    advance_due()
    settlement = own_settlement(settlement_id)
    return settlement_json(settlement) | {"next_step_at": isoformat(aware(settlement.next_step_at))}
