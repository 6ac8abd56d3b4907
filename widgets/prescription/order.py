"""The order the host app already holds (context `diagnoses` and `medications`): preselected, then editable."""

from decimal import Decimal

from flask import g

from bff.upstream import UpstreamError
from widgets import search

from . import patient, posology  # noqa: F401  (patient first: its start hook finds the host's patient before ours)
from .draft import first_unfinished, flow
from .medications import label, plain_number, product


@flow.on_start
def order_from_host(current):
    """A new draft takes the host's diagnoses and complete medication lines; with the host's patient known it opens
    on what is still missing (the medications while an ordered one needs its posology, else often the review)."""
    context = g.widget_session.context
    if current.diagnoses or current.lines or not (context.get("diagnoses") or context.get("medications")):
        return
    try:
        current.diagnoses = [found for found in map(diagnosis, context.get("diagnoses", [])) if found]
        current.lines = [found for found in map(line, context.get("medications", [])) if found]
    except UpstreamError:
        current.diagnoses, current.lines = [], []  # Osigu unreachable: the doctor picks them as usual
        return
    if current.patient:
        incomplete = len(current.lines) < len(context.get("medications", [])) and current.diagnoses
        current.step = "medications" if incomplete else first_unfinished(current)


def diagnosis(code):
    """The ICD-10 diagnosis with this code as Osigu names it, or None when its catalogue lacks it."""
    return next(({"diagnosis_code": item["diagnosis_code"], "description": item.get("description", "")}
                 for item in search.diagnoses(code) if item["diagnosis_code"] == code), None)


def line(ordered):
    """A draft line for a medication the host ordered with its posology (the quantity computed when missing);
    None when it lacks a posology, the provider has not registered it, or its quantity cannot be computed."""
    given = ordered.get("posology")
    chosen = product(ordered["product_code"]) if given else None
    if chosen is None or given["unit"] not in posology.units_for_form(posology.form_of(chosen)):
        return None
    quantity = ordered.get("quantity")
    if quantity is None:
        needed = posology.quantity_needed(chosen, Decimal(str(given["dose"])), given["unit"], given["every_hours"],
                                          given["duration_days"])
        if needed is None:
            return None
        quantity = needed[1]
    return {"product_code": chosen["product_code"], "name": label(chosen), "quantity": quantity,
            "dose": plain_number(Decimal(str(given["dose"]))), "unit": given["unit"],
            "every_hours": given["every_hours"], "duration_days": given["duration_days"],
            "substitution_allowed": False,
            "counts": "units" if posology.counts_units(posology.form_of(chosen)) else "packs"}

