"""Authorizations: issued per product group, looked up by code, voided, decided later, expiring."""

import secrets
from datetime import timedelta

from flask import Blueprint, current_app

from . import adjudication, errors, params, webhooks
from .db import aware, db, isoformat, new_id, utcnow
from .models import Authorization, CatalogProduct, Preauthorization
from .models.arc import AUTHORIZATION_STATUSES
from .oauth import current_provider, require_oauth
from .pagination import paginate

bp = Blueprint("authorizations", __name__, url_prefix="/arc/v1/authorizations")


def _new_code():
    """Make an authorization code a beneficiary can read out: AUT-<year>-<eight digits>."""
    while True:
        code = f"AUT-{utcnow().year}-{secrets.randbelow(90_000_000) + 10_000_000}"
        if db.session.scalar(db.select(Authorization.id).filter_by(code=code)) is None:
            return code


def request_lines(preauthorization):
    """Describe each requested product with what adjudication needs to know about it."""
    lines = []
    for item in preauthorization.products:
        product = db.session.get(CatalogProduct, item["product_code"])
        lines.append({"product_code": product.code, "name": product.name, "product_type": product.product_type,
                      "category": product.category, "quantity": item["quantity"]})
    return lines


def issue_authorizations(preauthorization):
    """Adjudicate a completed request: one authorization per group, decided now or pending review."""
    sponsor, beneficiary = preauthorization.sponsor, preauthorization.beneficiary
    config = current_app.config
    for number, lines in enumerate(adjudication.group(sponsor, request_lines(preauthorization)), start=1):
        status, reason, detail = adjudication.decide(sponsor, beneficiary, lines)
        authorization = Authorization(
            id=new_id("auth"), code=_new_code(), preauthorization=preauthorization,
            attempt=preauthorization.attempt, group_no=number, status=status,
            lines=[{key: line[key] for key in ("product_code", "product_type", "quantity")} for line in lines],
        )
        db.session.add(authorization)
        if status == adjudication.PENDING:
            authorization.reason, authorization.reason_detail = reason, detail
            authorization.decide_at = utcnow() + timedelta(seconds=config["PREAUTH_REVIEW_SECONDS"])
        else:
            adjudication.record_decision(authorization, status, reason, detail, config["AUTHORIZATION_VALIDITY_DAYS"])


def current_authorizations(preauthorization):
    """The authorizations of the request's latest attempt (earlier rejected attempts stay as history)."""
    return [a for a in preauthorization.authorizations if a.attempt == preauthorization.attempt]


def settle_due():
    """Decide pending authorizations whose review is over, and expire unused approvals."""
    now = utcnow()
    due = db.session.scalars(db.select(Authorization).where(
        Authorization.status == adjudication.PENDING, Authorization.decide_at <= now)).all()
    for authorization in due:
        adjudication.record_decision(authorization, adjudication.APPROVED,
                                     validity_days=current_app.config["AUTHORIZATION_VALIDITY_DAYS"])
    expired = db.session.scalars(db.select(Authorization).where(
        Authorization.status == adjudication.APPROVED, Authorization.expires_at <= now)).all()
    for authorization in expired:
        authorization.status = "EXPIRED"
    if due or expired:
        db.session.commit()
    return len(due) + len(expired)


def authorization_json(authorization):
    """Serialise an authorization with its products."""
    products = []
    for line in authorization.lines:
        product = db.session.get(CatalogProduct, line["product_code"])
        products.append(line | {"name": product.name})
    return {
        "authorization_id": authorization.id,
        "authorization_code": authorization.code,
        "status": authorization.status,
        "reason": authorization.reason,
        "reason_detail": authorization.reason_detail,
        "preauthorization_id": authorization.preauthorization_id,
        "attempt": authorization.attempt,
        "sponsor_slug": authorization.sponsor.slug,
        "beneficiary_id": authorization.beneficiary.id,
        "products": products,
        "created_at": isoformat(authorization.created_at),
        "decided_at": isoformat(authorization.decided_at),
        "expires_at": isoformat(aware(authorization.expires_at)),
        "voided_at": isoformat(authorization.voided_at),
        "redeemed_at": isoformat(authorization.redeemed_at),
    }


def by_code(code):
    """Load an authorization by its code (any provider may: the beneficiary brings the code), or 404."""
    settle_due()
    authorization = db.session.scalar(db.select(Authorization).filter_by(code=code.strip().upper()))
    if authorization is None:
        raise errors.not_found(errors.AUTHORIZATION_NOT_FOUND, "Authorization")
    return authorization


def require_dispensable(authorization):
    """Refuse an authorization that cannot be redeemed now, saying why."""
    refusals = {
        "REDEEMED": (409, errors.CODE_ALREADY_REDEEMED, "This code has already been dispensed."),
        "VOIDED": (409, errors.AUTHORIZATION_VOIDED, "This authorization was voided."),
        "EXPIRED": (409, errors.AUTHORIZATION_EXPIRED, "This authorization has expired; request a new one."),
        "PENDING": (409, errors.AUTHORIZATION_NOT_APPROVED, "The sponsor has not decided this authorization yet."),
        "REJECTED": (409, errors.AUTHORIZATION_NOT_APPROVED, "The sponsor rejected this authorization."),
    }
    if authorization.status in refusals:
        status, code, message = refusals[authorization.status]
        raise errors.ApiError(status, code, message, {"status": authorization.status})


@bp.get("")
@require_oauth("arc:read")
def list_authorizations():
    """List the authorizations issued on the provider's requests."""
    select = (db.select(Authorization).join(Preauthorization)
              .where(Preauthorization.provider_id == current_provider().id)
              .order_by(Authorization.created_at.desc(), Authorization.group_no))
    if status := params.one_of("status", AUTHORIZATION_STATUSES):
        select = select.where(Authorization.status == status)
    if preauthorization_id := params.single("preauthorization_id"):
        select = select.where(Authorization.preauthorization_id == preauthorization_id)
    return paginate(select, authorization_json)


@bp.get("/<code>")
@require_oauth("arc:read")
def get_authorization(code):
    """Look an authorization up by its code."""
    authorization = by_code(code)
    db.session.commit()
    return authorization_json(authorization)


@bp.post("/<code>/void")
@require_oauth("arc:write")
def void_authorization(code):
    """Withdraw an authorization the provider requested, unless it has been redeemed."""
    authorization = by_code(code)
    if authorization.preauthorization.provider_id != current_provider().id:
        raise errors.not_found(errors.AUTHORIZATION_NOT_FOUND, "Authorization")
    if authorization.status in ("REDEEMED", "REJECTED", "EXPIRED"):
        raise errors.ApiError(409, errors.AUTHORIZATION_NOT_VOIDABLE,
                              f"A {authorization.status.lower()} authorization cannot be voided.")
    if authorization.status != "VOIDED":
        authorization.status, authorization.voided_at = "VOIDED", utcnow()
        webhooks.emit("authorization.voided", current_provider(), {
            "authorization_id": authorization.id, "authorization_code": authorization.code, "status": "VOIDED"})
        db.session.commit()
    return authorization_json(authorization)
