"""ePrescription prescriptions: v1, v1.1 (patient-data consent) and v2 (Spain, signed hash)."""

import secrets
from typing import Literal

from flask import Blueprint, current_app, request, send_file, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import diagnoses, errors, languages, messages, signing, webhooks
from .bodies import json_body
from .db import db, isoformat, new_id, utcnow
from .idempotency import idempotent
from .models import Dispensation, Patient, Prescription, PrescriptionLine
from .models.dispensing import OPEN_STATUSES
from .models.ehr import CANCELLED, REDEEMED
from .oauth import current_provider, require_oauth
from .prescription_pdf import issued_on, render_pdf
from .provider_products import require_registered

bp = Blueprint("prescriptions", __name__)


class DiagnosisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    diagnosis_code: str = Field(min_length=1, max_length=10)


class MedicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    product_code: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0, le=1000)
    posology: str = Field(min_length=1, max_length=500)
    duration_days: int | None = Field(default=None, gt=0, le=365)
    substitution_allowed: bool = True


class PrescriptionV1(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient_id: str = Field(min_length=1, max_length=40)
    doctor_id: str | None = Field(default=None, max_length=60)
    provider_branch_id: str | None = Field(default=None, max_length=60)
    diagnoses: list[DiagnosisIn] = Field(min_length=1, max_length=10)
    medications: list[MedicationIn] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _each_medication_once(self):
        codes = [m.product_code for m in self.medications]
        if len(codes) != len(set(codes)):
            raise ValueError("each product_code may appear once; put the total in its quantity")
        return self


class PrescriptionV11(PrescriptionV1):
    patient_data_consent: bool | None = None


class SignedHash(BaseModel):
    model_config = ConfigDict(extra="forbid")
    algorithm: Literal["ECDSA-P256-SHA256"]
    hash: str = Field(min_length=1, max_length=200)
    signature: str = Field(min_length=1, max_length=400)


class PrescriptionV2(PrescriptionV1):
    national_repository_id: str = Field(min_length=1, max_length=80)
    signed_hash: SignedHash


# The resend e-mail, in the language the prescription was issued in.
EMAIL = {
    "en": {"subject": "Your prescription {code}",
           "body": "Hello {name}, your prescription {code} from {provider} ({issued}) is ready. "
                   "Show this code at the pharmacy, or download it: {link}"},
    "es": {"subject": "Su receta {code}",
           "body": "Hola, {name}: su receta {code} de {provider} ({issued}) está lista. "
                   "Muestre este código en la farmacia o descárguela: {link}"},
    "pt": {"subject": "A sua receita {code}",
           "body": "Olá, {name}: a sua receita {code} de {provider} ({issued}) está pronta. "
                   "Mostre este código na farmácia ou descarregue-a: {link}"},
}


class CancelPrescription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=200)


class Resend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["EMAIL"]
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)


def _check_references(body, provider):
    """Refuse a patient, diagnosis or medication the prescription may not name."""
    if db.session.get(Patient, body.patient_id) is None:
        raise errors.ApiError(422, errors.PATIENT_NOT_FOUND, "The patient does not exist; create them first.",
                              [{"field": "patient_id", "issue": "unknown patient"}])
    diagnoses.require_known([d.diagnosis_code for d in body.diagnoses])
    registered = require_registered(provider, [m.product_code for m in body.medications],
                                    errors.MEDICATION_NOT_REGISTERED, "medications")
    not_medications = [code for code, product in registered.items() if product.product_type != "MEDICATION"]
    if not_medications:
        raise errors.ApiError(422, errors.VALIDATION, "Only medications can be prescribed.",
                              [{"field": "medications", "issue": f"{code} is not a medication"}
                               for code in not_medications])


def _check_certification(body, provider):
    """Refuse a v2 prescription whose repository id, hash or signature does not hold."""
    if not provider.national_repository_id or not provider.signing_public_key:
        raise errors.ApiError(422, errors.PROVIDER_NOT_CERTIFIED,
                              "This provider is not certified with Spain's national e-prescription repository.")
    if body.national_repository_id != provider.national_repository_id:
        raise errors.ApiError(422, errors.PROVIDER_NOT_CERTIFIED,
                              "national_repository_id is not the one issued to this provider.")
    digest = signing.canonical_digest(body.model_dump())
    if body.signed_hash.hash != signing.b64url(digest):
        raise errors.ApiError(422, errors.SIGNED_HASH_MISMATCH,
                              "signed_hash.hash does not match the prescription's immutable fields.")
    if not signing.signature_is_valid(provider.signing_public_key, digest, body.signed_hash.signature):
        raise errors.ApiError(422, errors.SIGNATURE_INVALID,
                              "signed_hash.signature is not a valid signature by this provider's certified key.")


def _new_code():
    """Make a prescription code pharmacies can type: RX-<year>-<six digits>."""
    while True:
        code = f"RX-{utcnow().year}-{secrets.randbelow(900000) + 100000}"
        if db.session.scalar(db.select(Prescription.id).filter_by(code=code)) is None:
            return code


def _create(body, version):
    provider = current_provider()
    _check_references(body, provider)
    if version == "v2":
        _check_certification(body, provider)
    prescription = Prescription(
        id=new_id("rx"),
        code=_new_code(),
        version=version,
        provider_id=provider.id,
        patient_id=body.patient_id,
        doctor_id=body.doctor_id,
        provider_branch_id=body.provider_branch_id,
        diagnoses=[d.diagnosis_code for d in body.diagnoses],
        patient_data_consent=getattr(body, "patient_data_consent", None),
        national_repository_id=getattr(body, "national_repository_id", None),
        signed_hash=body.signed_hash.model_dump() if version == "v2" else None,
        locale=languages.requested(),
        created_at=utcnow(),
        lines=[
            PrescriptionLine(line_no=n, **m.model_dump())
            for n, m in enumerate(body.medications, start=1)
        ],
    )
    db.session.add(prescription)
    db.session.flush()  # applies the column defaults (status) before the event describes the prescription
    webhooks.emit("prescription.issued", provider, event_data(prescription))
    db.session.commit()
    return {
        "prescription_id": prescription.id,
        "prescription_code": prescription.code,
        "status": prescription.status,
        "created_at": isoformat(prescription.created_at),
    }, 201


def event_data(prescription):
    """What a prescription.* webhook says about the prescription."""
    return {"prescription_id": prescription.id, "prescription_code": prescription.code, "status": prescription.status}


@bp.post("/ehr/v1/prescriptions")
@require_oauth("ehr:write")
@idempotent
def create_v1():
    """Issue a v1 prescription."""
    return _create(json_body(PrescriptionV1), "v1")


@bp.post("/ehr/v1.1/prescriptions")
@require_oauth("ehr:write")
@idempotent
def create_v11():
    """Issue a v1.1 prescription, which needs explicit patient-data consent."""
    body = json_body(PrescriptionV11)
    if body.patient_data_consent is not True:
        raise errors.ApiError(422, errors.CONSENT_REQUIRED, "v1.1 needs patient_data_consent: true.",
                              [{"field": "patient_data_consent", "issue": "must be true"}])
    return _create(body, "v1.1")


@bp.post("/ehr/v2/prescriptions")
@require_oauth("ehr:write")
@idempotent
def create_v2():
    """Issue a v2 prescription certified against Spain's national repository."""
    return _create(json_body(PrescriptionV2), "v2")


def own_prescription(prescription_id, for_update=False):
    """Load a prescription the token's provider issued (locked when for_update), or 404."""
    prescription = db.session.get(Prescription, prescription_id, with_for_update=for_update)
    if prescription is None or prescription.provider_id != current_provider().id:
        raise errors.not_found(errors.PRESCRIPTION_NOT_FOUND, "Prescription")
    return prescription


def _pdf_links():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="prescription-pdf")


def download_url(prescription):
    """Make a signed, expiring link to the prescription's PDF that needs no token to open."""
    token = _pdf_links().dumps(prescription.id)
    return url_for("prescriptions.download_pdf", prescription_id=prescription.id, signature=token, _external=True)


def prescription_json(prescription, language="en"):
    """Serialise a prescription with its lines and its PDF link, names and titles in language."""
    ttl = current_app.config["PDF_LINK_TTL_SECONDS"]
    return {
        "prescription_id": prescription.id,
        "prescription_code": prescription.code,
        "version": prescription.version,
        "status": prescription.status,
        "created_at": isoformat(prescription.created_at),
        "redeemed_at": isoformat(prescription.redeemed_at),
        "cancelled_at": isoformat(prescription.cancelled_at),
        "cancellation_reason": prescription.cancellation_reason,
        "patient_id": prescription.patient_id,
        "doctor_id": prescription.doctor_id,
        "provider_branch_id": prescription.provider_branch_id,
        "diagnoses": [diagnoses.describe(code, language) for code in prescription.diagnoses],
        "medications": [
            {
                "product_code": line.product_code,
                "name": line.product.display_name(language),
                "quantity": line.quantity,
                "posology": line.posology,
                "duration_days": line.duration_days,
                "substitution_allowed": line.substitution_allowed,
            }
            for line in prescription.lines
        ],
        "patient_data_consent": prescription.patient_data_consent,
        "national_repository_id": prescription.national_repository_id,
        "locale": prescription.locale,
        "download_url": download_url(prescription),
        "download_url_expires_in": ttl,
    }


@bp.get("/ehr/v1/prescriptions/<prescription_id>")
@require_oauth("ehr:read")
def get_prescription(prescription_id):
    """Return a prescription, with a download URL to its PDF."""
    return prescription_json(own_prescription(prescription_id), languages.requested())


@bp.get("/ehr/v1/prescriptions/<prescription_id>/pdf")
def download_pdf(prescription_id):
    """Serve the PDF to whoever holds a valid, unexpired link."""
    try:
        signed_id = _pdf_links().loads(request.args.get("signature", ""),
                                       max_age=current_app.config["PDF_LINK_TTL_SECONDS"])
    except SignatureExpired:
        raise errors.ApiError(410, errors.PRESCRIPTION_NOT_FOUND,
                              "This download link has expired; ask for a new one.") from None
    except BadSignature:
        raise errors.ApiError(403, errors.FORBIDDEN, "This download link is not valid.") from None
    prescription = db.session.get(Prescription, prescription_id)
    if prescription is None or signed_id != prescription_id:
        raise errors.ApiError(403, errors.FORBIDDEN, "This download link is not valid.")
    language = request.args.get("lang") if request.args.get("lang") in languages.LANGUAGES else prescription.locale
    return send_file(render_pdf(prescription, language), mimetype="application/pdf",
                     download_name=f"{prescription.code}.pdf", max_age=0)


@bp.post("/ehr/v1/prescriptions/<prescription_id>/resend")
@require_oauth("ehr:write")
@idempotent
def resend(prescription_id):
    """E-mail the prescription's PDF link to the patient (or to the address given)."""
    prescription = own_prescription(prescription_id)
    body = json_body(Resend)
    if prescription.status == CANCELLED:
        raise cancelled_error()
    email = body.email or prescription.patient.email
    if not email:
        raise errors.ApiError(422, errors.PATIENT_HAS_NO_EMAIL,
                              "The patient has no e-mail address on file; pass one as 'email'.")
    link = download_url(prescription)
    words = EMAIL[prescription.locale]
    message = messages.send(
        "EMAIL", email, words["subject"].format(code=prescription.code),
        words["body"].format(name=prescription.patient.first_name, code=prescription.code, link=link,
                             provider=prescription.provider.name,
                             issued=issued_on(prescription.created_at, prescription.locale)),
        kind="PRESCRIPTION", reference=prescription.id, link=link,
    )
    db.session.commit()
    return {"channel": body.channel, "sent_to": messages.mask(email), "sent_at": isoformat(message.created_at)}, 202


def cancelled_error():
    """Build the refusal to act on a prescription its prescriber cancelled."""
    return errors.ApiError(409, errors.PRESCRIPTION_CANCELLED, "This prescription was cancelled by its prescriber.")


def _require_cancellable(prescription):
    """Refuse to cancel what a pharmacy has dispensed, is dispensing, or what is cancelled already."""
    if prescription.status == CANCELLED:
        raise cancelled_error()
    if prescription.status == REDEEMED:
        raise errors.ApiError(409, errors.PRESCRIPTION_ALREADY_DISPENSED,
                              "This prescription has been dispensed; it can no longer be cancelled.")
    being_dispensed = db.session.scalar(db.select(Dispensation.id).where(
        Dispensation.prescription_id == prescription.id, Dispensation.status.in_(OPEN_STATUSES)))
    if being_dispensed:
        # Which pharmacy holds it is not the prescriber's business: no dispensation id here.
        raise errors.ApiError(409, errors.PRESCRIPTION_IN_DISPENSATION,
                              "A pharmacy is dispensing this prescription; it cannot be cancelled now.")


@bp.post("/ehr/v1/prescriptions/<prescription_id>/cancel")
@require_oauth("ehr:write")
@idempotent
def cancel(prescription_id):
    """Cancel a prescription no pharmacy has dispensed or is dispensing, so it can no longer be."""
    body = json_body(CancelPrescription)
    # Locked so a pharmacy starting to dispense it at the same moment waits for the outcome.
    prescription = own_prescription(prescription_id, for_update=True)
    _require_cancellable(prescription)
    prescription.status, prescription.cancelled_at = CANCELLED, utcnow()
    prescription.cancellation_reason = body.reason or None
    webhooks.emit("prescription.cancelled", prescription.provider,
                  event_data(prescription) | {"reason": prescription.cancellation_reason})
    db.session.commit()
    return prescription_json(prescription, languages.requested())
