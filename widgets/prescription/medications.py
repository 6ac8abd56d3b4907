"""Step 3, the medications: only the provider's registered MEDICATION products, each with a posology."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bff.provider_products import registered_products
from bff.upstream import UpstreamError

from . import bp, posology
from .flow import draft, field_errors, host_app, render_step, renders, show, step_view, upstream, upstream_alert

MAX_LINES = 20  # what Osigu accepts on one prescription
RESULTS_SHOWN = 8
FIELD_ERRORS = {
    "quantity": _l("Enter how many units to dispense, from 1 to 1000."),
    "dose": _l("Enter a dose greater than 0 (for example 1 or 0.5)."),
    "unit": _l("Choose a unit."),
    "every_hours": _l("Choose how often."),
    "duration_days": _l("Enter the number of days, from 1 to 365."),
}


class Line(BaseModel):
    """One medication line as the doctor fills it in."""

    model_config = ConfigDict(str_strip_whitespace=True)
    product_code: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0, le=1000)
    dose: float = Field(gt=0, le=1000)
    unit: str = Field(pattern="^(" + "|".join(posology.UNITS) + ")$")
    every_hours: int = Field(ge=1, le=72)
    duration_days: int = Field(gt=0, le=365)
    substitution_allowed: bool = False


def registered(query):
    """The provider's registered medications matching query (from the tenant's cached list); raises UpstreamError."""
    return registered_products(host_app(), "MEDICATION").search(query, RESULTS_SHOWN)


def not_registered(query, registered_codes):
    """Catalogue medications matching query that the provider has not registered (to explain, not offer)."""
    catalogue = upstream().get_json("/medical-catalogs/v1/medications", query=query, page_size=RESULTS_SHOWN)["data"]
    return [item for item in catalogue if item["product_code"] not in registered_codes]


def product(code):
    """The registered product with this code, or None."""
    return registered_products(host_app(), "MEDICATION").find(code)


@renders("medications")
def render_medications(status=200, alert=None, **context):
    """Render the medications step (with the line form open when a product is being added)."""
    return render_step("medications", status, alert, units=posology.UNITS, every_hours=posology.EVERY_HOURS,
                       describe=posology.describe, unit_name=posology.unit_name,
                       interval_text=posology.interval_text, max_lines=MAX_LINES, **context)


@bp.get("/medications")
@step_view
def medications_step():
    """Show the medications step."""
    return show("medications")


@bp.get("/medications/search")
@step_view
def search_medications():
    """Search the provider's registered medications; say which matches are not registered."""
    query = request.args.get("q", "").strip()
    results, unregistered, alert = [], [], None
    if len(query) >= 2:
        try:
            results = registered(query)
            unregistered = not_registered(query, {item["product_code"] for item in results})
        except UpstreamError as error:
            alert = upstream_alert(error)
    chosen = {line["product_code"] for line in draft().lines}
    return render_template("prescription/_medication_results.html", results=results, unregistered=unregistered,
                           query=query, chosen=chosen, alert=alert, full=len(chosen) >= MAX_LINES)


@bp.get("/medications/line")
@step_view
def line_form():
    """Open the posology form for the product the doctor picked."""
    try:
        chosen = product(request.args.get("product_code", ""))
    except UpstreamError as error:
        alert = upstream_alert(error)
        return render_medications(422, alert)
    if chosen is None:
        return show("medications")
    values = {"dose": 1, "unit": posology.unit_for_form(chosen.get("form")), "every_hours": 8}
    return render_medications(line_product=chosen, values=values, errors={})


@bp.post("/medications/add")
@step_view
def add_line():
    """Add a medication line, or show what to fix in it."""
    values = request.form.to_dict()
    try:
        line = Line.model_validate(values | {"substitution_allowed": "substitution_allowed" in values})
        chosen = product(line.product_code)
    except ValidationError as error:
        errors = field_errors(error, FIELD_ERRORS)
        line_product = _product_or_none(values.get("product_code", ""))
        return render_medications(422, line_product=line_product, values=values, errors=errors)
    except UpstreamError as error:
        alert = upstream_alert(error)
        return render_medications(422, alert)
    current = draft()
    if chosen is not None and len(current.lines) < MAX_LINES:
        entry = line.model_dump() | {"name": label(chosen), "dose": _plain_number(line.dose)}
        # Osigu takes each product once: a second line for it replaces the first.
        current.lines = [item for item in current.lines if item["product_code"] != line.product_code] + [entry]
    return show("medications")


@bp.post("/medications/remove")
@step_view
def remove_line():
    """Remove a medication line."""
    current = draft()
    code = request.form.get("product_code")
    current.lines = [line for line in current.lines if line["product_code"] != code]
    return show("medications")


def label(item):
    """Name a product so two presentations of one medicine can be told apart."""
    return f"{item['name']}, {item['presentation']}" if item.get("presentation") else item["name"]


def _product_or_none(code):
    try:
        return product(code)
    except UpstreamError:
        return None


def _plain_number(value):
    """Keep 1.0 as 1, so the posology reads "1 tablet", not "1.0 tablet"."""
    return int(value) if float(value).is_integer() else value
