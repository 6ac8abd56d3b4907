"""Step 3, the medications: only the provider's registered MEDICATION products, each with a posology."""

import re
from decimal import Decimal
from typing import Annotated, Literal

from flask import g, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bff.contexts import MAX_LINES, MAX_QUANTITY, PRODUCT_CODE
from bff.provider_products import registered_products
from bff.upstream import UpstreamError
from widgets import search
from widgets.forms import validate
from widgets.search import RESULTS_SHOWN
from widgets.session import host_app, upstream

from . import bp, favourites, posology
from .draft import flow

MAX_DOSE = 1000
MAX_DAYS = 365


def _typed_number(value):
    """A number typed in a form is read in the session's language; empty means not given."""
    if not isinstance(value, str):
        return value
    return posology.parse_number(value) if value.strip() else None


TypedNumber = BeforeValidator(_typed_number)


class Line(BaseModel):
    """One medication line as the doctor fills it in (numbers as their language writes them)."""

    model_config = ConfigDict(str_strip_whitespace=True)
    product_code: str = Field(pattern=PRODUCT_CODE)
    quantity: Annotated[Annotated[int, Field(ge=1, le=MAX_QUANTITY)] | None, TypedNumber] = None
    dose: Annotated[Decimal, TypedNumber, Field(gt=0, le=MAX_DOSE, decimal_places=3)]
    unit: Literal[posology.UNITS]
    every_hours: Annotated[int, TypedNumber]
    duration_days: Annotated[int, TypedNumber, Field(ge=1, le=MAX_DAYS)]
    substitution_allowed: bool = False

    @field_validator("every_hours")
    @classmethod
    def _offered(cls, value):
        if value not in posology.EVERY_HOURS:
            raise ValueError("not one of the intervals offered")
        return value


def field_messages():
    """What to fix in each field, stating the real limits in the doctor's own number format."""
    return {
        "product_code": _("Choose the medication again from the search results."),
        "quantity": _("Enter a whole number from 1 to %(max)s.", max=format_decimal(MAX_QUANTITY)),
        "dose": _("Enter a dose above 0 and at most %(max)s, with up to 3 decimals (for example %(example)s).",
                  max=format_decimal(MAX_DOSE), example=format_decimal(Decimal("0.5"))),
        "unit": _("Choose one of the units offered for this medication."),
        "every_hours": _("Choose how often, from the list."),
        "duration_days": _("Enter a whole number of days from 1 to %(max)s.", max=format_decimal(MAX_DAYS)),
    }


def registered(query):
    """The provider's registered medications matching query (from the tenant's cached list); raises UpstreamError."""
    return registered_products(host_app(), "MEDICATION", g.widget_session.locale).search(query, RESULTS_SHOWN)


def matches(query):
    """The registered medications matching query, and the catalogue's others (to explain, not offer)."""
    found = registered(query)
    return found, not_registered(query, {item["product_code"] for item in found})


def not_registered(query, registered_codes):
    """Catalogue medications matching query that the provider has not registered (to explain, not offer)."""
    catalogue = upstream().get_json("/medical-catalogs/v1/medications", query=query, page_size=RESULTS_SHOWN)["data"]
    return [item for item in catalogue if item["product_code"] not in registered_codes]


def product(code):
    """The registered product with this code, or None (also for a code of the wrong shape)."""
    if not re.fullmatch(PRODUCT_CODE, code or ""):
        return None
    return registered_products(host_app(), "MEDICATION", g.widget_session.locale).find(code)


@flow.renders("medications")
def render_medications(status=200, alert=None, line_product=None, **context):
    """Render the medications step (with the line form open when a product is being added)."""
    units = posology.units_for_form(posology.form_of(line_product)) if line_product else posology.UNITS
    counts_units = posology.counts_units(posology.form_of(line_product)) if line_product else True
    return flow.render_step("medications", status, alert, line_product=line_product, units=units,
                            ordered=ordered_products(), counts_units=counts_units, every_hours=posology.EVERY_HOURS,
                            describe=posology.describe, favourites=favourites.mine(),
                            quantity_text=posology.quantity_text, unit_name=posology.unit_name,
                            interval_text=posology.interval_text, max_lines=MAX_LINES, **context)


@bp.get("/medications/search")
def search_medications():
    """Search the provider's registered medications; say which matches are not registered."""
    query = search.typed_query()
    (results, unregistered), alert = search.as_you_type(lambda: matches(query), flow.alert,
                                                        ready=len(query) >= search.MIN_QUERY, empty=([], []))
    chosen = {line["product_code"] for line in flow.draft().lines}
    favourite = favourites.mine()
    return render_template("prescription/_medication_results.html", results=favourites.first(results, favourite),
                           favourites=favourite, unregistered=unregistered, query=query, chosen=chosen, alert=alert,
                           full=len(chosen) >= MAX_LINES)


@bp.get("/medications/line")
def line_form():
    """Open the posology form for the product the doctor picked."""
    try:
        chosen = product(request.args.get("product_code", ""))
    except UpstreamError as error:
        return flow.refuse(render_medications, error)
    if chosen is None:
        return flow.show("medications")
    values = {"dose": format_decimal(1), "unit": posology.unit_for_form(posology.form_of(chosen)),
              "every_hours": 8} | ordered_values(chosen["product_code"])
    return render_medications(line_product=chosen, values=values, errors={})


@bp.post("/medications/add")
def add_line():
    """Add a medication line, or show what to fix in it; a quantity the posology does not explain is confirmed."""
    values = request.form.to_dict()
    line, errors = validate(Line, values | {"substitution_allowed": "substitution_allowed" in values},
                            field_messages())
    if errors:
        line_product = _product_or_none(values.get("product_code", ""))
        if line_product is None:
            return flow.show("medications")
        return render_medications(422, line_product=line_product, values=values, errors=errors)
    try:
        chosen = product(line.product_code)
    except UpstreamError as error:
        return flow.refuse(render_medications, error)
    current = flow.draft()
    if chosen is None or len(current.lines) >= MAX_LINES and line.product_code not in _codes(current):
        return flow.show("medications")
    needed = posology.quantity_needed(chosen, line.dose, line.unit, line.every_hours, line.duration_days)
    errors = {}
    if line.unit not in posology.units_for_form(posology.form_of(chosen)):
        errors["unit"] = field_messages()["unit"]
    if line.quantity is None and needed is None:
        errors["quantity"] = field_messages()["quantity"]
    if errors:
        return render_medications(422, line_product=chosen, values=values, errors=errors)
    quantity = needed[1] if line.quantity is None else line.quantity  # whole packs, when counted by the unit
    if needed and not needed[0] <= quantity <= needed[1] and values.get("quantity_confirmed") != str(quantity):
        # A warning, not a refusal: the doctor may mean it (a loading dose, a spare pack); one more click adds it.
        return render_medications(line_product=chosen, values=values | {"quantity_confirmed": str(quantity)},
                                  errors={}, quantity_warning=quantity_warning(chosen, needed[0], quantity))
    entry = line.model_dump() | {"name": label(chosen), "dose": plain_number(line.dose), "quantity": quantity,
                                 "counts": "units" if posology.counts_units(posology.form_of(chosen)) else "packs"}
    # Osigu takes each product once: a second line for it replaces the first.
    current.lines = [item for item in current.lines if item["product_code"] != line.product_code] + [entry]
    return flow.show("medications")


def ordered():
    """The medications the host app ordered (context `medications`) that are not on the prescription yet."""
    on_it = {line["product_code"] for line in flow.draft().lines}
    return [item for item in g.widget_session.context.get("medications", []) if item["product_code"] not in on_it]


def ordered_products():
    """The registered products of the host's order still to add (its posology to complete); none if Osigu fails."""
    try:
        return [found for found in (product(item["product_code"]) for item in ordered()) if found]
    except UpstreamError:
        return []


def ordered_values(code):
    """The line form's values for a medication the host ordered: its posology and quantity, as the doctor reads them."""
    found = next((item for item in ordered() if item["product_code"] == code), {})
    given = found.get("posology") or {}
    values = {"dose": format_decimal(given["dose"])} if given else {}
    values |= {key: given[key] for key in ("unit", "every_hours", "duration_days") if key in given}
    return values | ({"quantity": found["quantity"]} if found.get("quantity") else {})


def quantity_warning(chosen, needed, quantity):
    """Say how much the posology needs against what was typed, counted as the product is."""
    if posology.counts_units(posology.form_of(chosen)):
        return _("The posology needs %(needed)s units and the quantity is %(quantity)s. Check it, or add the line "
                 "as it is.", needed=format_decimal(needed), quantity=format_decimal(quantity))
    return _("The posology needs %(needed)s packs and the quantity is %(quantity)s. Check it, or add the line as "
             "it is.", needed=format_decimal(needed), quantity=format_decimal(quantity))


@bp.post("/medications/remove")
def remove_line():
    """Remove a medication line."""
    current = flow.draft()
    code = request.form.get("product_code")
    current.lines = [line for line in current.lines if line["product_code"] != code]
    return flow.show("medications")


def label(item):
    """Name a product so two presentations of one medicine can be told apart."""
    return f"{item['name']}, {item['presentation']}" if item.get("presentation") else item["name"]


def _codes(current):
    return {item["product_code"] for item in current.lines}


def _product_or_none(code):
    try:
        return product(code)
    except UpstreamError:
        return None


def plain_number(value):
    """Keep 1.0 as 1, so the posology reads "1 tablet", not "1.0 tablet"."""
    return int(value) if value == int(value) else float(value)
