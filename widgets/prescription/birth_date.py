"""Dates of birth typed in the widget's language (day first in Spanish and Portuguese), shown and read back in words.

The browser's own date field follows the browser's locale, not the widget's: 15/03/1982 typed by a Spanish
doctor in an English browser was once saved as 1982-12-03. So the date is a text field whose order is the
session language's, the format is shown beside it, and the date is echoed in words before it is saved.
"""

import re
from datetime import date

from flask import request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import bp

OLDEST = 130  # years: an older date of birth is a typing mistake
DIGITS = re.compile(r"^\s*(\d{1,4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,4})\s*$")


def order():
    """The order the session's language writes a date in: ["d", "m", "y"] (es, pt) or ["m", "d", "y"] (en)."""
    pattern = re.sub(r"'[^']*'", "", get_locale().date_formats["short"].pattern)
    letters = []
    for letter in pattern:
        if letter in "dMy" and letter.lower() not in letters:
            letters.append(letter.lower())
    return letters


def shown_format():
    """The format to show beside the field, in the session's language ("DD/MM/AAAA", "MM/DD/YYYY")."""
    names = {"d": _("DD"), "m": _("MM"), "y": _("YYYY")}
    return "/".join(names[letter] for letter in order())


def parse(text):
    """The date typed, read in the session's order (an ISO 2024-03-15 too); ValueError when it is not a real one."""
    match = DIGITS.match(text or "")
    if not match:
        raise ValueError("not a date")
    first, second, third = match.groups()
    if len(first) == 4:  # ISO: year first, whatever the language
        year, month, day = first, second, third
    else:
        parts = dict(zip(order(), (first, second, third), strict=True))
        year, month, day = parts["y"], parts["m"], parts["d"]
    if len(year) != 4:
        raise ValueError("the year needs four digits")
    return date(int(year), int(month), int(day))  # ValueError for 31/02


def plausible(born):
    """Whether a date of birth is possible: not in the future, not older than OLDEST years."""
    return date.today().year - OLDEST <= born.year and born <= date.today()


def in_words(born):
    """The date in words, in the session's language ("15 de marzo de 1982")."""
    return format_date(born, "long")


def echo(text):
    """The typed date of birth in words ("Born 15 March 1982"), or None when it is not a possible one."""
    try:
        born = parse(text)
    except ValueError:
        return None
    return _("Born %(date)s", date=in_words(born)) if plausible(born) else None


@bp.context_processor
def date_of_birth_format():
    """Every prescription template can show the date format of the session's language."""
    return {"date_format": shown_format()}


@bp.get("/patient/date-of-birth")
def echo_date_of_birth():
    """Read the date of birth back in words as it is typed, or say it is not a possible one yet."""
    typed = request.args.get("date_of_birth", "")
    words = echo(typed)
    if words is None and typed.strip():
        text = _("Not a possible date of birth: write it as %(format)s.", format=shown_format())
        return Markup('<span class="osigu-error">{}</span>').format(text)
    return escape(words or "")
