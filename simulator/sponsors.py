"""Sponsors (getSponsorConfiguration) and beneficiary search through each sponsor's own form."""

import re
from datetime import date

from flask import Blueprint, current_app

from . import errors
from .bodies import raw_json_object
from .db import db
from .models import Beneficiary, Sponsor
from .oauth import require_oauth

bp = Blueprint("sponsors", __name__, url_prefix="/arc/v1/sponsors")

DOCUMENT_LABELS = {
    "MEDICAL_ORDER": {"es": "Orden médica", "en": "Medical order"},
    "CLINICAL_HISTORY": {"es": "Historia clínica", "en": "Clinical history"},
    "PRESCRIPTION": {"es": "Fórmula médica", "en": "Prescription"},
    "QUOTE": {"es": "Cotización", "en": "Price quote"},
}
ACCEPTED_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


def sponsor_summary(sponsor):
    """Serialise who the sponsor is."""
    return {"sponsor_slug": sponsor.slug, "name": sponsor.name, "kind": sponsor.kind, "country": sponsor.country}


def get_sponsor(slug):
    """Load a sponsor by slug, or 404."""
    sponsor = db.session.scalar(db.select(Sponsor).filter_by(slug=slug))
    if sponsor is None:
        raise errors.not_found(errors.SPONSOR_NOT_FOUND, "Sponsor")
    return sponsor


def covered_types(beneficiary):
    """The product types the beneficiary's plan covers: the sponsor's, less the plan's exclusions."""
    return [t for t in beneficiary.sponsor.config["covered_product_types"] if t not in beneficiary.not_covered]


def beneficiary_json(beneficiary):
    """Serialise a beneficiary with their eligibility."""
    return {
        "beneficiary_id": beneficiary.id,
        "sponsor_slug": beneficiary.sponsor.slug,
        "first_name": beneficiary.first_name,
        "last_name": beneficiary.last_name,
        "document_type": beneficiary.document_type,
        "document_number": beneficiary.document_number,
        "date_of_birth": beneficiary.date_of_birth.isoformat(),
        "plan": beneficiary.plan,
        "eligibility": {"status": beneficiary.status, "covered_product_types": covered_types(beneficiary)},
    }


@bp.get("")
@require_oauth("arc:read")
def list_sponsors():
    """List the sponsors a provider can operate with."""
    sponsors = db.session.scalars(db.select(Sponsor).order_by(Sponsor.name)).all()
    return {"data": [sponsor_summary(s) for s in sponsors]}


@bp.get("/<sponsor_slug>/configuration")
@require_oauth("arc:read")
def configuration(sponsor_slug):
    """Return every rule that varies by sponsor, in a shape a form can be rendered from."""
    sponsor = get_sponsor(sponsor_slug)
    config = sponsor.config
    return {
        "sponsor": sponsor_summary(sponsor),
        "beneficiary_search": {"fields": config["beneficiary_search"]},
        "covered_product_types": config["covered_product_types"],
        "support_documents": {
            product_type: [{"document_type": kind, "label": DOCUMENT_LABELS[kind], "required": True} for kind in kinds]
            for product_type, kinds in config["support_documents"].items()
        },
        "document_rules": {
            "accepted_content_types": list(ACCEPTED_CONTENT_TYPES),
            "max_bytes": current_app.config["SUPPORT_DOCUMENT_MAX_BYTES"],
        },
        "verification": config["verification"],
        # What the sponsor pends for a reviewer, and the products it never covers (coverage at order time reads them).
        "review_categories": config["review_categories"],
        "excluded_products": config["excluded_products"],
        "substitution_policy": config["substitution_policy"],
        "authorization_grouping": config["authorization_grouping"],
        "authorization_validity_days": current_app.config["AUTHORIZATION_VALIDITY_DAYS"],
        "settlements": config["settlements"],
    }


def _search_criteria(sponsor, body):
    """Check the body against the sponsor's form and turn it into column filters."""
    fields = {field["name"]: field for field in sponsor.config["beneficiary_search"]}
    problems = [{"field": name, "issue": f"not part of {sponsor.name}'s search form"}
                for name in body if name not in fields]
    criteria = {}
    for name, field in fields.items():
        value = body.get(name)
        if value in (None, ""):
            problems.append({"field": name, "issue": "required"})
            continue
        if not isinstance(value, str):
            problems.append({"field": name, "issue": "must be a string"})
        elif field["type"] == "date":
            try:
                criteria[name] = date.fromisoformat(value)
            except ValueError:
                problems.append({"field": name, "issue": "must be a date, YYYY-MM-DD"})
        elif field["type"] == "select" and value not in [option["value"] for option in field["options"]]:
            problems.append({"field": name, "issue": "not one of the options"})
        elif "pattern" in field and not re.fullmatch(field["pattern"], value):
            problems.append({"field": name, "issue": f"must match {field['pattern']}"})
        else:
            criteria[name] = value
    if problems:
        raise errors.ApiError(422, errors.SEARCH_FIELDS_INVALID,
                              f"Search {sponsor.name}'s beneficiaries with the fields of its configuration.", problems)
    return criteria


@bp.post("/<sponsor_slug>/beneficiaries/search")
@require_oauth("arc:read")
def search_beneficiary(sponsor_slug):
    """Find one beneficiary with the sponsor's own search fields (POST keeps them out of URLs and logs)."""
    sponsor = get_sponsor(sponsor_slug)
    criteria = _search_criteria(sponsor, raw_json_object())
    beneficiary = db.session.scalar(db.select(Beneficiary).filter_by(sponsor_id=sponsor.id, **criteria))
    if beneficiary is None:
        raise errors.ApiError(404, errors.BENEFICIARY_NOT_FOUND,
                              f"No {sponsor.name} beneficiary matches these details. Check them with the patient.")
    return beneficiary_json(beneficiary)
