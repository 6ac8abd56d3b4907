"""Structured posology (dose, unit, frequency, duration) and how it reads in the doctor's language."""

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

UNITS = ("tablet", "capsule", "ml", "drop", "puff", "sachet", "application")
EVERY_HOURS = (4, 6, 8, 12, 24, 48, 72)
# A product's pharmaceutical form suggests the unit a dose is counted in.
FORM_UNITS = (("tablet", "tablet"), ("capsule", "capsule"), ("drop", "drop"), ("inhal", "puff"),
              ("sachet", "sachet"), ("powder", "sachet"), ("cream", "application"), ("ointment", "application"),
              ("gel", "application"), ("suspension", "ml"), ("solution", "ml"), ("syrup", "ml"))


def unit_for_form(form):
    """Suggest the dose unit for a product's form (tablet → tablet, oral suspension → mL)."""
    form = (form or "").lower()
    return next((unit for word, unit in FORM_UNITS if word in form), "tablet")


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
