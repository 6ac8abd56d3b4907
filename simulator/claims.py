"""Claims: filed by Osigu when an authorization is dispensed, or directly by the provider."""

from datetime import date
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import diagnoses, errors, params, webhooks
from .bodies import json_body
from .db import db, isoformat, new_id, utcnow
from .idempotency import idempotent
from .models import Authorization, Beneficiary, CatalogProduct, Claim
from .oauth import current_provider, require_oauth
from .pagination import paginate
from .prescriptions import DiagnosisIn
from .provider_products import require_registered

bp = Blueprint("claims", __name__, url_prefix="/arc/v1/claims")

CLAIM_TYPES = ("OUTPATIENT", "PROCEDURE", "PHARMACY", "LAB", "IMAGING")
CLAIM_SOURCES = ("DISPENSING", "DIRECT")
# Claims are filed and stay SUBMITTED: the simulator models no sponsor-side claim processing.
CLAIM_STATUSES = ("SUBMITTED",)
CLAIM_TYPE_BY_PRODUCT = {"MEDICATION": "PHARMACY", "LAB": "LAB", "IMAGING": "IMAGING", "PROCEDURE": "PROCEDURE"}


class ClaimLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_code: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0, le=1000)
    unit_price: float | None = Field(default=None, ge=0)


class NewClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beneficiary_id: str = Field(min_length=1, max_length=40)
    claim_type: Literal["OUTPATIENT", "PROCEDURE", "PHARMACY", "LAB", "IMAGING"]
    service_date: date
    diagnoses: list[DiagnosisIn] = Field(min_length=1, max_length=10)
    lines: list[ClaimLineIn] = Field(min_length=1, max_length=50)
    authorization_code: str | None = Field(default=None, max_length=30)
    provider_branch_id: str | None = Field(default=None, max_length=60)

    @field_validator("service_date")
    @classmethod
    def _not_in_the_future(cls, value):
        if value > date.today():
            raise ValueError("service_date cannot be in the future")
        return value


def claim_json(claim):
    """Serialise a claim with its lines and where it came from."""
    return {
        "claim_id": claim.id,
        "claim_type": claim.claim_type,
        "source": claim.source,
        "status": claim.status,
        "sponsor_slug": claim.sponsor.slug,
        "beneficiary_id": claim.beneficiary_id,
        "provider_branch_id": claim.provider_branch_id,
        "authorization_code": claim.authorization.code if claim.authorization else None,
        "dispensation_id": claim.dispensation_id,
        "service_date": claim.service_date.isoformat(),
        "diagnoses": [diagnoses.describe(code) for code in claim.diagnoses],
        "lines": claim.lines,
        "total": round(sum(line["quantity"] * line["unit_price"] for line in claim.lines), 2)
        if all(line.get("unit_price") is not None for line in claim.lines) else None,
        "created_at": isoformat(claim.created_at),
    }


def _file(claim):
    db.session.add(claim)
    webhooks.emit("claim.created", claim.provider, {
        "claim_id": claim.id, "claim_type": claim.claim_type, "source": claim.source,
        "authorization_code": claim.authorization.code if claim.authorization else None,
        "dispensation_id": claim.dispensation_id,
    })
    return claim


def claim_from_dispensation(dispensation):
    """File the claim for a dispensed authorization on the provider's behalf; the caller commits."""
    authorization = dispensation.authorization
    lines = [{"product_code": line.product_code, "quantity": line.quantity, "unit_price": None}
             for line in dispensation.lines if line.quantity]
    product_type = db.session.get(CatalogProduct, lines[0]["product_code"]).product_type
    return _file(Claim(
        id=new_id("clm"), provider=dispensation.provider, provider_branch_id=dispensation.provider_branch_id,
        sponsor=authorization.sponsor, beneficiary=authorization.beneficiary,
        claim_type=CLAIM_TYPE_BY_PRODUCT[product_type], source="DISPENSING", authorization=authorization,
        dispensation_id=dispensation.id, service_date=utcnow().date(),
        diagnoses=list(authorization.preauthorization.diagnoses), lines=lines, created_at=utcnow(),
    ))


def claim_id_for(dispensation):
    """Return the id of the claim a dispensation produced, if any."""
    if dispensation.authorization_id is None:
        return None
    return db.session.scalar(db.select(Claim.id).filter_by(dispensation_id=dispensation.id))


def _check_claim_authorization(code, provider, beneficiary):
    authorization = db.session.scalar(db.select(Authorization).filter_by(code=code.strip().upper()))
    if (authorization is None or authorization.preauthorization.provider_id != provider.id
            or authorization.beneficiary.id != beneficiary.id):
        raise errors.ApiError(422, errors.CLAIM_AUTHORIZATION_INVALID,
                              "The authorization is not one of yours for this beneficiary.")
    if authorization.status != "APPROVED":
        raise errors.ApiError(422, errors.CLAIM_AUTHORIZATION_INVALID,
                              f"The authorization is {authorization.status.lower()}, not approved.")
    return authorization


@bp.post("")
@require_oauth("claims:write")
@idempotent
def file_claim():
    """File a claim directly (outpatient encounters, procedures, or any provider that prefers it)."""
    body = json_body(NewClaim)
    provider = current_provider()
    beneficiary = db.session.get(Beneficiary, body.beneficiary_id)
    if beneficiary is None:
        raise errors.ApiError(422, errors.BENEFICIARY_NOT_FOUND, "Unknown beneficiary.")
    if beneficiary.status != "ACTIVE":
        raise errors.ApiError(422, errors.BENEFICIARY_NOT_ELIGIBLE, "The beneficiary's coverage is not active.")
    diagnoses.require_known([d.diagnosis_code for d in body.diagnoses])
    require_registered(provider, [line.product_code for line in body.lines], errors.CLAIM_LINE_NOT_REGISTERED, "lines")
    authorization = None
    if body.authorization_code:
        authorization = _check_claim_authorization(body.authorization_code, provider, beneficiary)
        authorization.status, authorization.redeemed_at = "REDEEMED", utcnow()
    claim = _file(Claim(
        id=new_id("clm"), provider=provider, provider_branch_id=body.provider_branch_id,
        sponsor=beneficiary.sponsor, beneficiary=beneficiary, claim_type=body.claim_type, source="DIRECT",
        authorization=authorization, service_date=body.service_date,
        diagnoses=[d.diagnosis_code for d in body.diagnoses], lines=[line.model_dump() for line in body.lines],
        created_at=utcnow(),
    ))
    db.session.commit()
    return claim_json(claim), 201


@bp.get("")
@require_oauth("claims:read")
def list_claims():
    """List the provider's claims, filtered by type, source, status, beneficiary or service dates."""
    select = db.select(Claim).where(Claim.provider_id == current_provider().id)
    filters = {"claim_type": CLAIM_TYPES, "source": CLAIM_SOURCES, "status": CLAIM_STATUSES}
    for field, allowed in filters.items():
        if value := params.one_of(field, allowed):
            select = select.where(getattr(Claim, field) == value)
    if beneficiary_id := params.single("beneficiary_id"):
        select = select.where(Claim.beneficiary_id == beneficiary_id)
    bounds = (("service_date_from", Claim.service_date.__ge__), ("service_date_to", Claim.service_date.__le__))
    for field, compare in bounds:
        if (value := params.iso_date(field)) is not None:
            select = select.where(compare(value))
    return paginate(select.order_by(Claim.created_at.desc()), claim_json)


@bp.get("/<claim_id>")
@require_oauth("claims:read")
def get_claim(claim_id):
    """Return one of the provider's claims."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.provider_id != current_provider().id:
        raise errors.not_found(errors.CLAIM_NOT_FOUND, "Claim")
    return claim_json(claim)
