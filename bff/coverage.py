"""Coverage at order time: what a sponsor's rules say about products before they are ordered.

Read from the sponsor's configuration (GET /arc/v1/sponsors/{slug}/configuration) and the catalogue,
per product: not covered (a type the sponsor does not cover, or an excluded product), else covered,
with a pre-authorization to be reviewed (a category the sponsor pends for a reviewer) and/or documents
to send with it (the sponsor's support documents for the product's type). Osigu issues an
authorization for every insured product; one the sponsor neither reviews nor asks documents for is
approved the moment it is requested, which is what Da Vinci CRD calls "no-auth". A covered
equivalent of a product that is not covered is the same INN, strength and form, not excluded.

Each answer is stored under a coverage assertion id (its trace number), so a pre-authorization opened
from it can name it and its outcome carry it back. The CDS Hooks service and POST /v1/coverage-check
both answer from here.
"""

from datetime import date

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from ulid import ULID

from . import host_apps
from .db import db, utcnow
from .upstream import UpstreamError, path

MAX_EQUIVALENTS = 3
DOCUMENT_KINDS = {"QUOTE": "admin"}  # CRD doc-needed: a quote is administrative, every other document clinical


class CoverageAssertion(db.Model):
    """One coverage answer given to a host app: its products, the sponsor and what was said of each."""

    __tablename__ = "bff_coverage_assertion"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100), index=True)
    sponsor_slug: Mapped[str] = mapped_column(String(50))
    answer: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


def check(host_app, sponsor_slug, orders):
    """Answer for orders [{product_code, quantity}] at sponsor_slug, store the answer, and return it.

    Raises UpstreamError when Osigu does not know the sponsor or cannot be reached.
    """
    client = host_apps.upstream_for(host_app)
    rules = client.get_json(path("/arc/v1/sponsors/{}/configuration", sponsor_slug))
    answers = [_answer(client, rules, order) for order in orders]
    assertion = CoverageAssertion(id=f"cov_{ULID()}", host_app_id=host_app.id, sponsor_slug=sponsor_slug,
                                  answer={"orders": answers})
    db.session.add(assertion)
    db.session.commit()
    return {"coverage_assertion_id": assertion.id, "date": date.today().isoformat(),
            "sponsor": {"sponsor_slug": rules["sponsor"]["sponsor_slug"], "name": rules["sponsor"]["name"]},
            "sign_off": rules["verification"]["preauthorization"], "orders": answers}


def keep_orders(assertion_id, resources):
    """Keep the EHR's draft orders an assertion answered for (FHIR resources with their ids)."""
    assertion = db.session.get(CoverageAssertion, assertion_id)
    assertion.answer = assertion.answer | {"draft_orders": resources}  # a new dict: JSON columns track assignment
    db.session.commit()


def kept_orders(host_app_id, assertion_id):
    """The draft orders kept with this host app's assertion ([] for another app's or an unknown one)."""
    assertion = db.session.get(CoverageAssertion, assertion_id) if assertion_id else None
    if assertion is None or assertion.host_app_id != host_app_id:
        return []
    return assertion.answer.get("draft_orders", [])


def _answer(client, rules, order):
    code = order["product_code"]
    product = _product(client, code)
    answer = {"product_code": code, "quantity": order.get("quantity", 1)}
    if product is None:
        return answer | {"status": "unknown"}
    answer["name"] = product["name"]
    if product["product_type"] not in rules["covered_product_types"] or code in rules["excluded_products"]:
        return answer | {"status": "not-covered", "covered": "not-covered",
                         "equivalents": _equivalents(client, rules, product)}
    documents = [item["document_type"] for item in rules["support_documents"].get(product["product_type"], [])]
    reviewed = product.get("category") in rules["review_categories"]
    answer |= {"covered": "covered", "pa_needed": "auth-needed" if reviewed or documents else "no-auth",
               "reviewed": reviewed, "documents": documents,
               "doc_needed": sorted({DOCUMENT_KINDS.get(kind, "clinical") for kind in documents})}
    status = "documents-needed" if documents else "pre-authorization-needed" if reviewed else "covered"
    return answer | {"status": status}


def _product(client, code):
    """The catalogue's product with this code, or None."""
    found = client.get_json("/arc/v1/products", query=code, page_size=20)["data"]
    return next((item for item in found if item["product_code"] == code), None)


def _equivalents(client, rules, product):
    """Covered products with the same INN, strength and form (medications only), at most MAX_EQUIVALENTS."""
    if not product.get("inn") or product["product_type"] not in rules["covered_product_types"]:
        return []
    try:
        found = client.get_json("/arc/v1/products", product_type=product["product_type"], query=product["inn"],
                                page_size=100)["data"]
    except UpstreamError:
        return []  # the answer stands without a suggestion
    same = [item for item in found if item["product_code"] != product["product_code"]
            and item["product_code"] not in rules["excluded_products"]
            and (item.get("inn"), item.get("strength"), item.get("form_code")) ==
            (product["inn"], product.get("strength"), product.get("form_code"))]
    return [{"product_code": item["product_code"], "name": item["name"]} for item in same[:MAX_EQUIVALENTS]]

