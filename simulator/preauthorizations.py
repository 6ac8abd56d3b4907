"""Pre-authorizations, two-phase (seed 001): initiate, attach indications and documents in any order, complete."""

import hashlib

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import diagnoses, errors, verification
from .authorizations import authorization_json, current_authorizations, issue_authorizations
from .bodies import json_body
from .db import db, isoformat, new_id, utcnow
from .idempotency import idempotent
from .models import Beneficiary, CatalogProduct, Preauthorization, SupportDocument
from .oauth import current_provider, require_oauth
from .prescriptions import DiagnosisIn
from .provider_products import require_registered
from .sponsors import ACCEPTED_CONTENT_TYPES, DOCUMENT_LABELS

bp = Blueprint("preauthorizations", __name__, url_prefix="/arc/v1/preauthorizations")
DRAFT, PENDING_VERIFICATION, COMPLETED = "DRAFT", verification.PENDING_VERIFICATION, "COMPLETED"


class ProductRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_code: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0, le=1000)


class Initiate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beneficiary_id: str = Field(min_length=1, max_length=40)
    products: list[ProductRequest] = Field(min_length=1, max_length=30)
    provider_branch_id: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _each_product_once(self):
        codes = [p.product_code for p in self.products]
        if len(codes) != len(set(codes)):
            raise ValueError("each product_code may appear once; put the total in its quantity")
        return self


class Indications(BaseModel):
    model_config = ConfigDict(extra="forbid")
    diagnoses: list[DiagnosisIn] = Field(min_length=1, max_length=10)
    notes: str | None = Field(default=None, max_length=2000)


def required_documents(preauthorization):
    """List (product type, document type) pairs the sponsor demands for the requested products."""
    demanded = preauthorization.sponsor.config["support_documents"]
    types = dict.fromkeys(db.session.get(CatalogProduct, p["product_code"]).product_type
                          for p in preauthorization.products)
    return [(product_type, kind) for product_type in types for kind in demanded.get(product_type, [])]


def preauthorization_json(preauthorization):
    """Serialise a request with its products, indications, documents and current authorizations."""
    provided = {document.document_type for document in preauthorization.documents}
    products = []
    for item in preauthorization.products:
        product = db.session.get(CatalogProduct, item["product_code"])
        products.append(item | {"name": product.name, "product_type": product.product_type})
    beneficiary = preauthorization.beneficiary
    return {
        "preauthorization_id": preauthorization.id,
        "status": preauthorization.status,
        "attempt": preauthorization.attempt,
        "sponsor_slug": preauthorization.sponsor.slug,
        "beneficiary": {"beneficiary_id": beneficiary.id, "first_name": beneficiary.first_name,
                        "last_name": beneficiary.last_name},
        "provider_branch_id": preauthorization.provider_branch_id,
        "products": products,
        "indications": {
            "diagnoses": [diagnoses.describe(code) for code in preauthorization.diagnoses],
            "notes": preauthorization.notes,
        },
        "documents": [document_json(document) for document in preauthorization.documents],
        "required_documents": [
            {"product_type": product_type, "document_type": kind, "label": DOCUMENT_LABELS[kind],
             "provided": kind in provided}
            for product_type, kind in required_documents(preauthorization)
        ],
        "verification": {"required": bool(preauthorization.methods), "methods": preauthorization.methods,
                         "status": verification.overall_status(preauthorization)},
        "authorizations": [authorization_json(a) for a in current_authorizations(preauthorization)],
        "created_at": isoformat(preauthorization.created_at),
        "updated_at": isoformat(preauthorization.updated_at),
        "completed_at": isoformat(preauthorization.completed_at),
    }


def document_json(document):
    """Serialise an attached support document (its bytes stay on the server)."""
    return {"document_id": document.id, "document_type": document.document_type, "filename": document.filename,
            "content_type": document.content_type, "size": document.size, "sha256": document.sha256,
            "uploaded_at": isoformat(document.created_at)}


def own_preauthorization(preauthorization_id):
    """Load one of the provider's requests (with time-decided verification settled), or 404."""
    preauthorization = db.session.get(Preauthorization, preauthorization_id)
    if preauthorization is None or preauthorization.provider_id != current_provider().id:
        raise errors.not_found(errors.PREAUTHORIZATION_NOT_FOUND, "Pre-authorization")
    verification.refresh(preauthorization)
    return preauthorization


def _require_draft(preauthorization):
    if preauthorization.status != DRAFT:
        raise errors.ApiError(409, errors.PREAUTHORIZATION_NOT_EDITABLE,
                              f"A {preauthorization.status.lower().replace('_', ' ')} request cannot be changed.")


def _touch(preauthorization):
    preauthorization.updated_at = utcnow()


@bp.post("")
@require_oauth("arc:write")
@idempotent
def initiate():
    """Open a request for a beneficiary's products; it returns the id to attach things to."""
    body = json_body(Initiate)
    beneficiary = db.session.get(Beneficiary, body.beneficiary_id)
    if beneficiary is None:
        raise errors.ApiError(422, errors.BENEFICIARY_NOT_FOUND, "Unknown beneficiary; search for them first.")
    if beneficiary.status != "ACTIVE":
        raise errors.ApiError(422, errors.BENEFICIARY_NOT_ELIGIBLE,
                              f"The beneficiary's coverage with {beneficiary.sponsor.name} is "
                              f"{beneficiary.status.lower()}.",
                              {"eligibility_status": beneficiary.status})
    provider = current_provider()
    require_registered(provider, [p.product_code for p in body.products], errors.PRODUCT_NOT_REGISTERED_FOR_ARC,
                       "products")
    now = utcnow()
    preauthorization = Preauthorization(
        id=new_id("par"), provider_id=provider.id, provider_branch_id=body.provider_branch_id,
        sponsor=beneficiary.sponsor, beneficiary=beneficiary, products=[p.model_dump() for p in body.products],
        verification_methods=" ".join(verification.offered(
            beneficiary.sponsor.config["verification"]["preauthorization"], beneficiary)),
        created_at=now, updated_at=now,
    )
    db.session.add(preauthorization)
    db.session.commit()
    return preauthorization_json(preauthorization), 201


@bp.get("/<preauthorization_id>")
@require_oauth("arc:read")
def get(preauthorization_id):
    """Return a request with what is still missing and, once completed, its authorizations."""
    preauthorization = own_preauthorization(preauthorization_id)
    db.session.commit()
    return preauthorization_json(preauthorization)


@bp.put("/<preauthorization_id>/indications")
@require_oauth("arc:write")
def set_indications(preauthorization_id):
    """Attach (or replace) the medical indication: ICD-10 diagnoses and notes."""
    preauthorization = own_preauthorization(preauthorization_id)
    _require_draft(preauthorization)
    body = json_body(Indications)
    diagnoses.require_known([d.diagnosis_code for d in body.diagnoses])
    preauthorization.diagnoses = [d.diagnosis_code for d in body.diagnoses]
    preauthorization.notes = body.notes
    _touch(preauthorization)
    db.session.commit()
    return preauthorization_json(preauthorization)


@bp.post("/<preauthorization_id>/documents")
@require_oauth("arc:write")
def attach_document(preauthorization_id):
    """Attach a support document (multipart: document_type and file)."""
    preauthorization = own_preauthorization(preauthorization_id)
    _require_draft(preauthorization)
    document_type = request.form.get("document_type", "")
    upload = request.files.get("file")
    if document_type not in DOCUMENT_LABELS:
        raise errors.ApiError(422, errors.DOCUMENT_TYPE_NOT_ACCEPTED, "Unknown document_type.",
                              [{"field": "document_type", "issue": f"one of {', '.join(DOCUMENT_LABELS)}"}])
    if upload is None or not upload.filename:
        raise errors.ApiError(422, errors.VALIDATION, "Send the document as the multipart field 'file'.",
                              [{"field": "file", "issue": "required"}])
    if upload.mimetype not in ACCEPTED_CONTENT_TYPES:
        raise errors.ApiError(415, errors.DOCUMENT_TYPE_NOT_ACCEPTED,
                              f"Documents must be {', '.join(ACCEPTED_CONTENT_TYPES)}; got {upload.mimetype}.")
    content = upload.read(current_app.config["SUPPORT_DOCUMENT_MAX_BYTES"] + 1)
    if len(content) > current_app.config["SUPPORT_DOCUMENT_MAX_BYTES"]:
        raise errors.ApiError(413, errors.DOCUMENT_TOO_LARGE,
                              f"A document may be at most {current_app.config['SUPPORT_DOCUMENT_MAX_BYTES']} bytes.")
    if not content:
        raise errors.ApiError(422, errors.VALIDATION, "The file is empty.", [{"field": "file", "issue": "empty"}])
    document = SupportDocument(
        id=new_id("doc"), document_type=document_type, filename=upload.filename[:255],
        content_type=upload.mimetype, size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
    )
    preauthorization.documents.append(document)
    _touch(preauthorization)
    db.session.commit()
    return document_json(document), 201


@bp.delete("/<preauthorization_id>/documents/<document_id>")
@require_oauth("arc:write")
def remove_document(preauthorization_id, document_id):
    """Detach a document while the request is still a draft."""
    preauthorization = own_preauthorization(preauthorization_id)
    _require_draft(preauthorization)
    document = next((d for d in preauthorization.documents if d.id == document_id), None)
    if document is None:
        raise errors.not_found(errors.PREAUTHORIZATION_NOT_FOUND, "Document")
    preauthorization.documents.remove(document)
    _touch(preauthorization)
    db.session.commit()
    return "", 204


def _check_complete(preauthorization):
    """Refuse to complete a request that lacks its indication or a required document."""
    if not preauthorization.diagnoses:
        raise errors.ApiError(422, errors.INDICATIONS_MISSING, "Attach the medical indication (diagnoses) first.")
    provided = {document.document_type for document in preauthorization.documents}
    missing = [(product_type, kind) for product_type, kind in required_documents(preauthorization)
               if kind not in provided]
    if missing:
        raise errors.ApiError(
            422, errors.DOCUMENTS_MISSING, f"{preauthorization.sponsor.name} requires more support documents.",
            [{"product_type": product_type, "document_type": kind, "label": DOCUMENT_LABELS[kind]}
             for product_type, kind in missing],
        )


@bp.post("/<preauthorization_id>/complete")
@require_oauth("arc:write")
@idempotent
def complete(preauthorization_id):
    """Submit the request: verify the beneficiary when the sponsor asks, then get the authorizations."""
    preauthorization = own_preauthorization(preauthorization_id)
    if preauthorization.status == COMPLETED:
        raise errors.ApiError(409, errors.PREAUTHORIZATION_NOT_EDITABLE, "This request is already completed.")
    _check_complete(preauthorization)
    if preauthorization.methods and not preauthorization.verified_at:
        preauthorization.status = PENDING_VERIFICATION
        _touch(preauthorization)
        verification.send_otp_if_needed(preauthorization, "authorize your healthcare services")
        db.session.commit()
        return preauthorization_json(preauthorization) | {"verification": _verification_json(preauthorization)}, 202
    preauthorization.status = COMPLETED
    preauthorization.completed_at = utcnow()
    _touch(preauthorization)
    issue_authorizations(preauthorization)
    db.session.commit()
    return preauthorization_json(preauthorization)


@bp.post("/<preauthorization_id>/reopen")
@require_oauth("arc:write")
def reopen(preauthorization_id):
    """Reopen a request the sponsor rejected, to fix and resubmit it; the rejection stays as history."""
    preauthorization = own_preauthorization(preauthorization_id)
    current = current_authorizations(preauthorization)
    if preauthorization.status != COMPLETED or not current or any(a.status != "REJECTED" for a in current):
        raise errors.ApiError(409, errors.NOTHING_TO_REOPEN, "Only a request whose authorizations were all rejected "
                                                             "can be reopened.")
    preauthorization.status = DRAFT
    preauthorization.attempt += 1
    preauthorization.completed_at = preauthorization.verified_at = preauthorization.verified_by = None
    _touch(preauthorization)
    db.session.commit()
    return preauthorization_json(preauthorization)


def _verification_json(preauthorization):
    return verification.status_json(preauthorization, "preauthorizations", "preauthorization_id")


@bp.get("/<preauthorization_id>/verification-status")
@require_oauth("arc:read")
def verification_status(preauthorization_id):
    """Tell whether OTP or biometric verification is required and where it stands."""
    preauthorization = own_preauthorization(preauthorization_id)
    db.session.commit()
    return _verification_json(preauthorization)


@bp.post("/<preauthorization_id>/otp")
@require_oauth("arc:write")
def otp(preauthorization_id):
    """Check the OTP the beneficiary received."""
    return verification.answer_otp(own_preauthorization(preauthorization_id), "preauthorizations",
                                   "preauthorization_id")


@bp.post("/<preauthorization_id>/biometric")
@require_oauth("arc:write")
def biometric(preauthorization_id):
    """Submit a fingerprint or face reading; poll verification-status for the match."""
    return verification.take_biometric(own_preauthorization(preauthorization_id), "preauthorizations",
                                       "preauthorization_id")
