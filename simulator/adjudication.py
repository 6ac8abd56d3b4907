"""How a sponsor answers a pre-authorization: products grouped per its rule, each group decided.

Modelled on how payers adjudicate prior authorization in practice (Da Vinci PAS, CoverMyMeds):
coverage and plan exclusions reject at once, services the sponsor reviews by hand pend, the rest
are approved automatically.
"""

from datetime import timedelta

from . import webhooks
from .db import utcnow

APPROVED, PENDING, REJECTED = "APPROVED", "PENDING", "REJECTED"


def group(sponsor, lines):
    """Split request lines into the groups the sponsor issues one authorization each for."""
    grouping = sponsor.config["authorization_grouping"]
    if grouping == "SINGLE":
        return [lines]
    if grouping == "PER_PRODUCT":
        return [[line] for line in lines]
    by_type = {}
    for line in lines:
        by_type.setdefault(line["product_type"], []).append(line)
    return list(by_type.values())


def decide(sponsor, beneficiary, lines):
    """Return (status, reason, detail) for one group: any refused line refuses the group."""
    config = sponsor.config
    for line in lines:
        if line["product_type"] not in config["covered_product_types"]:
            return REJECTED, "NOT_COVERED", f"{sponsor.name} does not cover {line['product_type'].lower()} products."
        if line["product_type"] in beneficiary.not_covered:
            return REJECTED, "NOT_COVERED_BY_PLAN", (
                f"The beneficiary's plan ({beneficiary.plan}) excludes {line['product_type'].lower()} products.")
        if line["product_code"] in config["excluded_products"]:
            return REJECTED, "EXCLUDED_PRODUCT", f"{line['name']} is excluded by {sponsor.name}."
    if any(line.get("category") in config["review_categories"] for line in lines):
        return PENDING, "MEDICAL_REVIEW", f"{sponsor.name} reviews these services; the decision follows."
    return APPROVED, None, None


def record_decision(authorization, status, reason=None, detail=None, validity_days=30):
    """Settle an authorization's status and tell the provider by webhook; the caller commits."""
    now = utcnow()
    authorization.status, authorization.reason, authorization.reason_detail = status, reason, detail
    authorization.decided_at = now
    authorization.decide_at = None
    if status == APPROVED:
        authorization.expires_at = now + timedelta(days=validity_days)
    preauthorization = authorization.preauthorization
    webhooks.emit("authorization.decided", preauthorization.provider, {
        "authorization_id": authorization.id,
        "authorization_code": authorization.code,
        "preauthorization_id": preauthorization.id,
        "status": status,
        "reason": reason,
    })
