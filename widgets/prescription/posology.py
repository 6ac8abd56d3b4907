"""Structured posology (dose, unit, frequency, duration) and how it reads in the doctor's language."""

import math
import re
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _

from bff import contexts

UNITS, EVERY_HOURS = contexts.DOSE_UNITS, contexts.EVERY_HOURS  # the shapes a host's context is checked against

# A product's pharmaceutical form decides the units a dose can be counted in (the first is suggested);
# the first word found in the form wins, so the specific words come first. Unknown forms allow any unit.
FORM_UNITS = (("eye drops", ("drop",)), ("capsule", ("capsule",)), ("tablet", ("tablet",)),
              ("inhal", ("puff",)), ("spray", ("puff",)), ("patch", ("application",)),
              ("powder for oral", ("sachet", "ml")), ("sachet", ("sachet",)), ("injection", ("ml",)),
              ("infusion", ("ml",)), ("cream", ("application",)), ("ointment", ("application",)),
              ("gel", ("application",)), ("drop", ("drop", "ml")), ("suspension", ("ml", "drop")),
              ("solution", ("ml", "drop")), ("syrup", ("ml",)))
# Tablets and capsules are prescribed one by one; anything else (a syrup, a cream, an inhaler) by the pack.
COUNTED_ONE_BY_ONE = ("tablet", "capsule")
# The pack sizes a presentation states in a dose unit: "box of 20", "bottle of 120 mL", "inhaler of 200 doses".
PACK_SIZE = re.compile(r"\bof (\d+(?:\.\d+)?)\s*(ml|doses)?\b", re.IGNORECASE)
PACK_UNITS = {"ml": "ml", "doses": "puff"}


def form_of(product):
    """A product's form in English, whatever language the catalogue answered in (the rules below read it)."""
    return product.get("form_code") or product.get("form")


def presentation_of(product):
    """A product's presentation in English, whatever language the catalogue answered in."""
    return product.get("presentation_code") or product.get("presentation")


def units_for_form(form):
    """The dose units that fit a product's form (tablet → tablet; oral suspension → mL or drops)."""
    form = (form or "").lower()
    return next((units for word, units in FORM_UNITS if word in form), UNITS)


def unit_for_form(form):
    """Suggest the dose unit for a product's form (tablet → tablet, oral suspension → mL)."""
    return units_for_form(form)[0]


def counts_units(form):
    """Whether a product's quantity counts units (tablets, capsules) rather than packs."""
    return units_for_form(form)[0] in COUNTED_ONE_BY_ONE


def parse_number(text):
    """Read a number as the doctor typed it in the session's language ("0,5" in Spanish); ValueError if not one."""
    try:
        return parse_decimal(str(text).strip(), locale=get_locale(), strict=True)
    except NumberFormatError:
        raise ValueError("not a number in this language") from None


def administrations(every_hours, duration_days):
    """How many doses a posology gives in all (every 48 hours for 10 days: 5)."""
    return math.ceil(duration_days * 24 / every_hours)


def quantity_needed(product, dose, unit, every_hours, duration_days):
    """(the quantity the posology needs, the most that is not too much), in the product's counting; None if unknown."""
    total = Decimal(str(dose)) * administrations(every_hours, duration_days)
    size, size_unit = pack_size(presentation_of(product))
    if counts_units(form_of(product)):
        needed = math.ceil(total)
        return needed, int(math.ceil(needed / size) * size) if size and size_unit is None else needed
    if size and PACK_UNITS.get(size_unit) == unit:
        packs = math.ceil(total / size)
        return packs, packs
    return None


def pack_size(presentation):
    """(how many a pack holds, in what: None for units, "ml" or "doses"), or (None, None) when it does not say."""
    match = PACK_SIZE.search(presentation or "")
    if not match:
        return None, None
    return Decimal(match.group(1)), (match.group(2) or "").lower() or None


def dose_text(dose, unit):
    """Say a dose with its unit, plural and decimal separator as the locale wants ("0,5 comprimidos")."""
    amount = format_decimal(dose)
    count = int(dose) if float(dose).is_integer() else 2  # a fraction takes the plural: "0.5 tablets"
    phrases = {
        "tablet": ngettext("%(amount)s tablet", "%(amount)s tablets", count, amount=amount),
        "capsule": ngettext("%(amount)s capsule", "%(amount)s capsules", count, amount=amount),
        "ml": _("%(amount)s mL", amount=amount),
        "drop": ngettext("%(amount)s drop", "%(amount)s drops", count, amount=amount),
        "puff": ngettext("%(amount)s puff", "%(amount)s puffs", count, amount=amount),
        "sachet": ngettext("%(amount)s sachet", "%(amount)s sachets", count, amount=amount),
        "application": ngettext("%(amount)s application", "%(amount)s applications", count, amount=amount),
    }
    return phrases[unit]


def unit_name(unit):
    """Name a unit for the unit picker."""
    return dose_text(2, unit).split(" ", 1)[1]


def interval_text(hours):
    """Say how often ("every 8 hours", "once a day")."""
    if hours == 24:
        return _("once a day")
    return ngettext("every hour", "every %(num)s hours", hours)


def describe(line):
    """Render a line's posology as a sentence: "1 tablet every 8 hours for 10 days"."""
    days = ngettext("%(num)s day", "%(num)s days", line["duration_days"])
    return _("%(dose)s %(interval)s for %(days)s", dose=dose_text(line["dose"], line["unit"]),
             interval=interval_text(line["every_hours"]), days=days)


def quantity_text(line):
    """Say a line's quantity with what it counts: "Quantity: 30 units", "Quantity: 2 packs"."""
    amount = format_decimal(line["quantity"])
    if line.get("counts") == "packs":
        return ngettext("Quantity: %(amount)s pack", "Quantity: %(amount)s packs", line["quantity"], amount=amount)
    return ngettext("Quantity: %(amount)s unit", "Quantity: %(amount)s units", line["quantity"], amount=amount)
