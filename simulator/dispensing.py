"""Dispensing (seed 000): start, inspect, swap products, verify, complete or void a code."""

from datetime import timedelta

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from . import authorizations, claims, errors, prescriptions, verification, webhooks
from .bodies import json_body
from .db import aware, db, isoformat, new_id, utcnow
from .idempotency import idempotent
from .models import CatalogProduct, Dispensation, DispensationLine, Prescription
from .models.dispensing import DISPENSED, OPEN_STATUSES, PENDING_VERIFICATION, STARTED, VOIDED
from .models.ehr import CANCELLED, REDEEMED
from .oauth import current_provider, require_oauth
from .provider_products import require_registered

bp = Blueprint("dispensing", __name__, url_prefix="/dispensing/v1/dispensations")


class StartDispensation(BaseModel):
    # Codes are read aloud and typed at the counter: surrounding spaces are forgiven, a blank code is not.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=30, pattern=r"\S")
    provider_branch_id: str | None = Field(default=None, max_length=60)


class ProductChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prescribed_product_code: str
    product_code: str
    quantity: int = Field(ge=0, le=1000)


class UpdateProducts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[ProductChange] = Field(min_length=1, max_length=50)


class VoidDispensation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=200)


def expire_stale():
    """Void open dispensations idle longer than the timeout, freeing their codes."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["DISPENSATION_TIMEOUT_SECONDS"])
    stale = db.session.scalars(
        db.select(Dispensation).where(Dispensation.status.in_(OPEN_STATUSES), Dispensation.updated_at < cutoff)
    ).all()
    for dispensation in stale:
        _void(dispensation, "TIMEOUT")
    if stale:
        db.session.commit()
    return len(stale)


def _void(dispensation, reason):
    dispensation.status = VOIDED
    dispensation.voided_at = dispensation.updated_at = utcnow()
    dispensation.void_reason = reason
    webhooks.emit("dispensing.cancelled", dispensation.provider, _event_data(dispensation))


def _event_data(dispensation):
    return {
        "dispensation_id": dispensation.id,
        "code": dispensation.code,
        "code_type": dispensation.code_type,
        "status": dispensation.status,
        "void_reason": dispensation.void_reason,
        "products": [{"product_code": line.product_code, "quantity": line.quantity} for line in dispensation.lines],
    }


def own_dispensation(dispensation_id):
    """Load one of the provider's dispensations (after settling timeouts), or 404."""
    expire_stale()
    dispensation = db.session.get(Dispensation, dispensation_id)
    if dispensation is None or dispensation.provider_id != current_provider().id:
        raise errors.not_found(errors.DISPENSATION_NOT_FOUND, "Dispensation")
    verification.refresh(dispensation)
    return dispensation


def _person(dispensation):
    """Who receives the products: the prescription's patient or the authorization's beneficiary."""
    person = dispensation.contact
    if dispensation.prescription:
        return {"patient": {"patient_id": person.id, "first_name": person.first_name, "last_name": person.last_name},
                "beneficiary": None}
    return {"patient": None, "beneficiary": {"beneficiary_id": person.id, "first_name": person.first_name,
                                             "last_name": person.last_name,
                                             "sponsor_slug": dispensation.authorization.sponsor.slug}}


def dispensation_json(dispensation):
    """Serialise a dispensation with its products and verification summary."""
    timeout = timedelta(seconds=current_app.config["DISPENSATION_TIMEOUT_SECONDS"])
    is_open = dispensation.status in OPEN_STATUSES
    return {
        "dispensation_id": dispensation.id,
        "code": dispensation.code,
        "code_type": dispensation.code_type,
        "status": dispensation.status,
        "provider_branch_id": dispensation.provider_branch_id,
        **_person(dispensation),
        "products": [
            {
                "prescribed_product_code": line.prescribed_product_code,
                "prescribed_product_name": line.prescribed_product.name,
                "prescribed_quantity": line.prescribed_quantity,
                "product_code": line.product_code,
                "name": line.product.name,
                "quantity": line.quantity,
                "posology": line.posology,
                "substitution_allowed": line.substitution_allowed,
                "substituted": line.product_code != line.prescribed_product_code,
            }
            for line in dispensation.lines
        ],
        "verification": {
            "required": bool(dispensation.methods),
            "methods": dispensation.methods,
            "status": verification.overall_status(dispensation),
        },
        "created_at": isoformat(dispensation.created_at),
        "updated_at": isoformat(dispensation.updated_at),
        "completed_at": isoformat(dispensation.completed_at),
        "voided_at": isoformat(dispensation.voided_at),
        "void_reason": dispensation.void_reason,
        "expires_at": isoformat(aware(dispensation.updated_at) + timeout) if is_open else None,
        "claim_id": claims.claim_id_for(dispensation),
        "substitution_policy": substitution_policy(dispensation),
    }


def prescription_methods(prescription):
    """A prescription with a controlled medicine needs the patient verified before it is handed over."""
    if not any(line.product.controlled for line in prescription.lines):
        return []
    return verification.offered(["OTP", "BIOMETRIC"], prescription.patient)


def _redeemable(code):
    """Recognise the code's type, load what it entitles, and make sure it can be dispensed now."""
    code = code.upper()
    if code.startswith("AUT-"):
        source = authorizations.by_code(code)
        authorizations.require_dispensable(source)
    else:
        # Locked so a prescriber cancelling it at the same moment waits for the outcome.
        source = db.session.scalar(db.select(Prescription).filter_by(code=code).with_for_update())
        if source is None:
            raise errors.ApiError(404, errors.CODE_NOT_FOUND, "No prescription or authorization has this code.")
        if source.status == REDEEMED:
            raise errors.ApiError(409, errors.CODE_ALREADY_REDEEMED, "This code has already been dispensed.")
        if source.status == CANCELLED:
            raise prescriptions.cancelled_error()
    open_one = db.session.scalar(
        db.select(Dispensation).where(Dispensation.code == source.code, Dispensation.status.in_(OPEN_STATUSES))
    )
    if open_one:
        mine = open_one.provider_id == current_provider().id
        raise errors.ApiError(
            409, errors.CODE_IN_DISPENSATION,
            "This code is being dispensed already" + ("; finish or void that dispensation." if mine else " elsewhere."),
            {"dispensation_id": open_one.id} if mine else None,
        )
    return source


def _lines_from(source):
    """Load the products a prescription or an authorization entitles, ready to hand over in full."""
    if isinstance(source, Prescription):
        return [DispensationLine(line_no=line.line_no, prescribed_product_code=line.product_code,
                                 prescribed_quantity=line.quantity, product_code=line.product_code,
                                 quantity=line.quantity, posology=line.posology,
                                 substitution_allowed=line.substitution_allowed)
                for line in source.lines]
    allowed = source.sponsor.config["substitution_policy"] != "NONE"
    return [DispensationLine(line_no=number, prescribed_product_code=line["product_code"],
                             prescribed_quantity=line["quantity"], product_code=line["product_code"],
                             quantity=line["quantity"], substitution_allowed=allowed)
            for number, line in enumerate(source.lines, start=1)]


@bp.post("")
@require_oauth("dispensing:write")
@idempotent
def start():
    """Start a dispensation for a prescription or authorization code, loading its products."""
    body = json_body(StartDispensation)
    expire_stale()
    source = _redeemable(body.code)
    is_prescription = isinstance(source, Prescription)
    if is_prescription:
        methods = prescription_methods(source)
    else:
        methods = verification.offered(source.sponsor.config["verification"]["dispensing"], source.beneficiary)
    now = utcnow()
    dispensation = Dispensation(
        id=new_id("dsp"),
        provider_id=current_provider().id,
        provider_branch_id=body.provider_branch_id,
        code=source.code,
        code_type="PRESCRIPTION" if is_prescription else "AUTHORIZATION",
        prescription=source if is_prescription else None,
        authorization=None if is_prescription else source,
        verification_methods=" ".join(methods),
        created_at=now,
        updated_at=now,
        lines=_lines_from(source),
    )
    db.session.add(dispensation)
    db.session.commit()
    return dispensation_json(dispensation), 201


@bp.get("/<dispensation_id>")
@require_oauth("dispensing:read")
def get(dispensation_id):
    """Return a dispensation's current state."""
    dispensation = own_dispensation(dispensation_id)
    db.session.commit()
    return dispensation_json(dispensation)


def substitution_policy(dispensation):
    """The substitution rule: the sponsor's policy for authorizations, generic substitution otherwise."""
    if dispensation.authorization:
        return dispensation.authorization.sponsor.config["substitution_policy"]
    return "SAME_INN_OTHER_BRAND"


def _substitutable(dispensation, substitute, prescribed):
    """Tell whether substitute may replace prescribed under the dispensation's rule."""
    policy = substitution_policy(dispensation)
    if policy == "SAME_ACTIVE_INGREDIENT_OTHER_PRESENTATION":
        return substitute.has_same_active_ingredient(prescribed)
    return substitute.is_equivalent_to(prescribed)


def _apply_change(dispensation, change, provider):
    line = next((candidate for candidate in dispensation.lines
                 if candidate.prescribed_product_code == change.prescribed_product_code), None)
    if line is None:
        raise errors.ApiError(422, errors.VALIDATION, f"{change.prescribed_product_code} is not on this prescription.")
    if change.quantity > line.prescribed_quantity:
        raise errors.ApiError(
            422, errors.QUANTITY_EXCEEDS_PRESCRIBED,
            f"At most {line.prescribed_quantity} of {change.prescribed_product_code} may be dispensed.",
            {"prescribed_product_code": line.prescribed_product_code, "prescribed_quantity": line.prescribed_quantity},
        )
    if change.product_code != line.prescribed_product_code:
        substitute = db.session.get(CatalogProduct, change.product_code)
        if substitute is None:
            raise errors.ApiError(422, errors.SUBSTITUTION_NOT_ALLOWED,
                                  f"{change.product_code} is not in the catalogue.")
        if not line.substitution_allowed:
            who = "The prescriber" if dispensation.prescription else "The sponsor"
            raise errors.ApiError(422, errors.SUBSTITUTION_NOT_ALLOWED,
                                  f"{who} does not allow substitution for this product.",
                                  {"prescribed_product_code": line.prescribed_product_code, "reason": "NOT_ALLOWED"})
        if not _substitutable(dispensation, substitute, line.prescribed_product):
            raise errors.ApiError(422, errors.SUBSTITUTION_NOT_ALLOWED,
                                  "This product is not an allowed equivalent of the one on the code.",
                                  {"prescribed_product_code": line.prescribed_product_code, "reason": "NOT_EQUIVALENT"})
        require_registered(provider, [substitute.code], errors.SUBSTITUTE_NOT_REGISTERED, "product_code")
    line.product_code = change.product_code
    line.quantity = change.quantity


@bp.put("/<dispensation_id>/products")
@require_oauth("dispensing:write")
def update_products(dispensation_id):
    """Change quantities or swap for equivalents while the dispensation is STARTED."""
    dispensation = own_dispensation(dispensation_id)
    body = json_body(UpdateProducts)
    if dispensation.status != STARTED:
        raise errors.ApiError(409, errors.PRODUCTS_LOCKED,
                              f"Products are locked once a dispensation is {dispensation.status}.")
    codes = [change.prescribed_product_code for change in body.products]
    if len(codes) != len(set(codes)):
        raise errors.ApiError(422, errors.VALIDATION, "Each prescribed product may appear once.")
    for change in body.products:
        _apply_change(dispensation, change, current_provider())
    dispensation.updated_at = utcnow()
    db.session.commit()
    return dispensation_json(dispensation)


def _verification_json(dispensation):
    return verification.status_json(dispensation, "dispensing", "dispensation_id")


@bp.get("/<dispensation_id>/verification-status")
@require_oauth("dispensing:read")
def verification_status(dispensation_id):
    """Tell whether OTP or biometric verification is required and where it stands."""
    dispensation = own_dispensation(dispensation_id)
    db.session.commit()
    return _verification_json(dispensation)


@bp.post("/<dispensation_id>/complete")
@require_oauth("dispensing:write")
@idempotent
def complete(dispensation_id):
    """Commit the dispensation, or ask for verification first when it is required."""
    dispensation = own_dispensation(dispensation_id)
    if dispensation.status == DISPENSED:
        raise errors.ApiError(409, errors.ALREADY_DISPENSED, "This dispensation is already complete.")
    if dispensation.status == VOIDED:
        raise errors.ApiError(409, errors.INVALID_STATE, "A voided dispensation cannot be completed; start a new one.")
    if dispensation.authorization:
        authorizations.require_dispensable(dispensation.authorization)
    if not any(line.quantity for line in dispensation.lines):
        raise errors.ApiError(422, errors.NOTHING_TO_DISPENSE, "Every quantity is zero; there is nothing to dispense.")
    if dispensation.methods and not dispensation.verified_at:
        dispensation.status = PENDING_VERIFICATION
        dispensation.updated_at = utcnow()
        verification.send_otp_if_needed(dispensation, "collect your medicines")
        db.session.commit()
        return dispensation_json(dispensation) | {"verification": _verification_json(dispensation)}, 202
    now = utcnow()
    dispensation.status = DISPENSED
    dispensation.completed_at = dispensation.updated_at = now
    webhooks.emit("dispensing.completed", dispensation.provider, _event_data(dispensation))
    if prescription := dispensation.prescription:
        prescription.status, prescription.redeemed_at = REDEEMED, now
        webhooks.emit("prescription.dispensed", prescription.provider, prescriptions.event_data(prescription))
    else:
        # Insured: the authorization is redeemed and Osigu files the claim on the provider's behalf.
        dispensation.authorization.status, dispensation.authorization.redeemed_at = "REDEEMED", now
        claims.claim_from_dispensation(dispensation)
    db.session.commit()
    return dispensation_json(dispensation)


@bp.post("/<dispensation_id>/void")
@require_oauth("dispensing:write")
@idempotent
def void(dispensation_id):
    """Abort the dispensation and free its code; a completed one cannot be voided."""
    dispensation = own_dispensation(dispensation_id)
    json_body(VoidDispensation)
    if dispensation.status == DISPENSED:
        raise errors.ApiError(409, errors.ALREADY_DISPENSED, "A completed dispensation cannot be voided.")
    if dispensation.status != VOIDED:
        _void(dispensation, "PHARMACY")
        db.session.commit()
    return dispensation_json(dispensation)


@bp.post("/<dispensation_id>/otp")
@require_oauth("dispensing:write")
def otp(dispensation_id):
    """Check the OTP the beneficiary received (validateOtp)."""
    return verification.answer_otp(own_dispensation(dispensation_id), "dispensing", "dispensation_id")


@bp.post("/<dispensation_id>/biometric")
@require_oauth("dispensing:write")
def biometric(dispensation_id):
    """Submit a fingerprint or face reading; poll verification-status for the match."""
    return verification.take_biometric(own_dispensation(dispensation_id), "dispensing", "dispensation_id")
