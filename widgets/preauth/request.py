"""The request's who and what: the sponsor (whose configuration drives the rest), the beneficiary found with the
sponsor's own form, and the provider's registered products the request is for."""

import re
from datetime import date

from flask import g, render_template, request
from flask_babel import gettext as _

from bff import ownership
from bff.contexts import MAX_LINES, MAX_QUANTITY, PRODUCT_CODE
from bff.provider_products import registered_products
from bff.upstream import UpstreamError, path
from widgets import search
from widgets.flow import INVALID, idempotency_key
from widgets.session import host_app, upstream

from . import bp
from .draft import DRAFT, document_summary, flow

SPONSOR_SLUG = r"^[a-z0-9-]{1,50}$"
PRODUCT_TYPES = ("MEDICATION", "LAB", "IMAGING", "PROCEDURE")
MAX_FIELD = 100


def configuration(slug):
    """The sponsor's configuration: what it covers, its search form, documents and sign-off; raises UpstreamError."""
    return upstream().get_json(path("/arc/v1/sponsors/{}/configuration", slug))


@flow.on_start
def request_from_host(current):
    """A new draft takes the sponsor, products and diagnoses the host app named (what Osigu knows of them)."""
    context = g.widget_session.context
    try:
        if context.get("sponsor") and not current.sponsor:
            current.sponsor = configuration(context["sponsor"])
        if context.get("products") and not current.products:
            lines = {given["product_code"]: _line_from_host(given) for given in context["products"]}
            current.products = [line for line in lines.values() if line]
            current.unknown_from_host = [code for code, line in lines.items() if not line]
        if context.get("diagnoses") and not current.diagnoses:
            current.diagnoses = [_diagnosis_from_host(code) for code in context["diagnoses"]]
    except UpstreamError:
        pass  # the user chooses what the host's context could not give


def _line_from_host(given):
    found = registered(given["product_code"])
    return found and _line(found, given["quantity"])


def _diagnosis_from_host(code):
    found = next((item for item in search.diagnoses(code) if item["diagnosis_code"] == code), None)
    return {"diagnosis_code": code, "description": found["description"] if found else ""}


# Step 1: the sponsor.

@flow.renders("sponsor")
def render_sponsor(status=200, alert=None):
    """Render the sponsor step: the choice, and what the chosen sponsor covers, demands and asks."""
    sponsors, listing_alert = [], None
    if not flow.draft().sponsor or not g.widget_session.context.get("sponsor"):
        sponsors, listing_alert = search.as_you_type(lambda: upstream().get_json("/arc/v1/sponsors")["data"],
                                                     flow.alert)
    return flow.render_step("sponsor", status, alert or listing_alert, sponsors=sponsors,
                            from_host=bool(g.widget_session.context.get("sponsor")))


@bp.post("/sponsor")
def choose_sponsor():
    """Use the sponsor the user chose; another sponsor means another form, so what depended on it goes."""
    current, slug = flow.draft(), request.form.get("sponsor_slug", "")
    if g.widget_session.context.get("sponsor") and current.sponsor or not re.fullmatch(SPONSOR_SLUG, slug):
        return flow.show("sponsor")
    try:
        chosen = configuration(slug)
    except UpstreamError as error:
        return flow.refuse(render_sponsor, error)
    if not current.sponsor or current.sponsor["sponsor"]["sponsor_slug"] != slug:
        current.beneficiary, current.products = None, []
    current.sponsor = chosen
    return flow.show("sponsor")


# Step 2: the beneficiary, with exactly the sponsor's search form.

def search_fields():
    """The sponsor's beneficiary search form: [{name, type, required, label, options?, pattern?, placeholder?}]."""
    return flow.draft().sponsor["beneficiary_search"]["fields"]


@flow.renders("beneficiary")
def render_beneficiary(status=200, alert=None, values=None, errors=None, found=None, no_match=False):
    """Render the sponsor's search form (prefilled from the host's context), and a beneficiary who cannot go on."""
    given = g.widget_session.context.get("beneficiary") or {}
    if values is None:
        values = {field["name"]: given.get(field["name"], "") for field in search_fields()}
    return flow.render_step("beneficiary", status, alert, fields=search_fields(), values=values, errors=errors or {},
                            found=found, no_match=no_match)


def field_problem(field, value):
    """What is wrong with one value of the sponsor's form, in the user's language, or None."""
    if not value:
        return _("Fill this in.") if field.get("required") else None
    if field["type"] == "select" and value not in [option["value"] for option in field["options"]]:
        return _("Choose one of the options.")
    if field["type"] == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return _("Enter a date.")
        return None
    if field.get("pattern") and not re.fullmatch(field["pattern"], value):
        if field.get("placeholder"):
            return _("Write it as %(example)s.", example=field["placeholder"])
        return _("This is not written as the sponsor expects.")
    return None


@bp.post("/beneficiary")
def search_beneficiary():
    """Find the beneficiary with the sponsor's form; an eligible single match is selected at once."""
    current = flow.draft()
    if not current.sponsor:
        return flow.show("beneficiary")
    values = {field["name"]: request.form.get(field["name"], "").strip()[:MAX_FIELD] for field in search_fields()}
    fields = {field["name"]: field for field in search_fields()}
    errors = {name: problem for name, field in fields.items() if (problem := field_problem(field, values[name]))}
    if errors:
        return render_beneficiary(INVALID, values=values, errors=errors)
    try:
        found = upstream().request("POST", path("/arc/v1/sponsors/{}/beneficiaries/search",
                                                current.sponsor["sponsor"]["sponsor_slug"]), json=values).parsed
    except UpstreamError as error:
        if error.error_code == "061-101":
            return render_beneficiary(INVALID, values=values, no_match=True)  # the user's to check, not the host's
        if error.error_code == "061-103":
            named = {item.get("field") for item in error.details or [] if isinstance(item, dict)}
            return render_beneficiary(INVALID, values=values, errors={
                name: _("This is not written as the sponsor expects.") for name in named if name in fields})
        return flow.refuse(render_beneficiary, error, values=values)
    summary = {"beneficiary_id": found["beneficiary_id"], "first_name": found["first_name"],
               "last_name": found["last_name"], "plan": found.get("plan"),
               "status": found["eligibility"]["status"],
               "covered_product_types": found["eligibility"]["covered_product_types"]}
    if summary["status"] != "ACTIVE":
        return render_beneficiary(INVALID, values=values, found=summary)
    current.beneficiary = summary
    return flow.show("products")


@bp.post("/beneficiary/change")
def change_beneficiary():
    """Look another beneficiary up."""
    flow.draft().beneficiary = None
    return flow.show("beneficiary")


# Step 3: the products.

def coverage(product):
    """What the sponsor's configuration says of a product: covered (approved at once), reviewed (pended for the
    sponsor's reviewer), excluded (the sponsor rejects it), not_covered or not_covered_by_plan."""
    current = flow.draft()
    sponsor, product_type = current.sponsor, product["product_type"]
    if product_type not in sponsor["covered_product_types"]:
        return "not_covered"
    if current.beneficiary and product_type not in current.beneficiary["covered_product_types"]:
        return "not_covered_by_plan"
    if product["product_code"] in sponsor.get("excluded_products", ()):
        return "excluded"
    if product.get("category") in sponsor.get("review_categories", ()):
        return "reviewed"
    return "covered"


def requestable(product):
    """Whether a product may join the request: one the sponsor covers, reviews or at least decides on."""
    return coverage(product) in ("covered", "reviewed", "excluded")


def registered(code_or_query, limit=None):
    """The provider's registered product with this code (limit None), or those matching a query, of every type."""
    lists = [registered_products(host_app(), product_type, g.widget_session.locale) for product_type in PRODUCT_TYPES]
    if limit is None:
        return next((found for products in lists if (found := products.find(code_or_query))), None)
    return [item for products in lists for item in products.search(code_or_query, limit)][:limit]


def _line(product, quantity):
    return {"product_code": product["product_code"], "name": product["name"], "product_type": product["product_type"],
            "category": product.get("category"), "quantity": quantity}


@flow.renders("products")
def render_products(status=200, alert=None, error=None):
    """Render the products step: the lines, each with what the sponsor's configuration says of it."""
    return flow.render_step("products", status, alert, error=error, coverage=coverage, max_lines=MAX_LINES,
                            max_quantity=MAX_QUANTITY, requestable=requestable)


@bp.get("/products/search")
def search_products():
    """Search the provider's registered products as the user types, each marked covered or not."""
    query = search.typed_query()
    results, alert = search.as_you_type(lambda: registered(query, search.RESULTS_SHOWN), flow.alert,
                                        ready=len(query) >= search.MIN_QUERY and bool(flow.draft().beneficiary))
    chosen = {line["product_code"] for line in flow.draft().products}
    return render_template("preauth/_product_results.html", results=results, query=query, chosen=chosen,
                           alert=alert, coverage=coverage, requestable=requestable, full=len(chosen) >= MAX_LINES)


@bp.post("/products/add")
def add_product():
    """Add a product (or change its quantity), if it is registered and covered."""
    current, code = flow.draft(), request.form.get("product_code", "")
    if not current.beneficiary:
        return flow.show("products")
    quantity = request.form.get("quantity", "1").strip()
    if not quantity.isdigit() or not 1 <= int(quantity) <= MAX_QUANTITY:
        return render_products(INVALID, error=_("Enter a whole number from 1 to %(max)s.", max=MAX_QUANTITY))
    try:
        found = registered(code) if re.fullmatch(PRODUCT_CODE, code) else None
    except UpstreamError as error:
        return flow.refuse(render_products, error)
    known = {line["product_code"] for line in current.products}
    if found is None or not requestable(found):
        return render_products(INVALID, error=_("Choose a covered product from the search results."))
    if code not in known and len(known) >= MAX_LINES:
        return render_products(INVALID, error=_("A request takes at most %(max)s products.", max=MAX_LINES))
    current.products = [line for line in current.products if line["product_code"] != code] + [
        _line(found, int(quantity))]
    return flow.show("products")


@bp.post("/products/remove")
def remove_product():
    """Remove a product from the request."""
    current = flow.draft()
    current.products = [line for line in current.products if line["product_code"] != request.form.get("product_code")]
    return flow.show("products")


@bp.post("/products/continue")
def confirm_products():
    """Open the request at Osigu for this beneficiary and these products (once: a retry replays it), and own it."""
    current = flow.draft()
    if not current.beneficiary or not current.products:
        return flow.show("products")
    if current.initiated_for == current.request_key():
        return flow.show("indications")
    if not all(requestable(line) for line in current.products):
        return render_products(INVALID, error=_("Remove the products the sponsor does not cover."))
    body = {"beneficiary_id": current.beneficiary["beneficiary_id"],
            "products": [{"product_code": line["product_code"], "quantity": line["quantity"]}
                         for line in current.products]}
    try:
        created = upstream().request("POST", "/arc/v1/preauthorizations", json=body,
                                     idempotency_key=idempotency_key("initiate", body)).parsed
    except UpstreamError as error:
        return flow.refuse(render_products, error)
    # Bound now, committed by show(): a pended decision may reach the BFF long before the request completes.
    ownership.bind("preauthorization", created["preauthorization_id"])
    current.preauthorization_id, current.initiated_for = created["preauthorization_id"], current.request_key()
    current.upstream_status, current.attempt = DRAFT, created["attempt"]
    current.documents = [document_summary(item) for item in created["documents"]]
    return flow.show("indications")
