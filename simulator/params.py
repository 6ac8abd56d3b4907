"""Read query parameters strictly: each given once, whole numbers within bounds, values from a fixed set."""

import re
from datetime import date

from flask import request

from . import errors


def _refuse(name, message, raw):
    raise errors.ApiError(422, errors.VALIDATION, message, [{"field": name, "issue": f"got {raw!r}"}])


def single(name):
    """Return the parameter's one value, or None; a repeated parameter is a 422, not a silent pick."""
    values = request.args.getlist(name)
    if len(values) > 1:
        _refuse(name, f"'{name}' must be given once.", values)
    return values[0] if values else None


def whole_number(name, default, maximum):
    """Read a whole number from 1 to maximum; digits only, so '1_000', ' 1' or '١' are refused."""
    raw = single(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= maximum:
        _refuse(name, f"'{name}' must be a whole number from 1 to {maximum}.", raw)
    return int(raw)


def one_of(name, allowed):
    """Read a filter that takes one of a fixed set of values, or None when absent."""
    raw = single(name)
    if raw is not None and raw not in allowed:
        _refuse(name, f"'{name}' must be one of {', '.join(allowed)}.", raw)
    return raw


def matching(name, pattern):
    """Read a parameter that must match a regular expression in full, or None when absent."""
    raw = single(name)
    if raw is not None and not re.fullmatch(pattern, raw):
        _refuse(name, f"'{name}' is not valid here.", raw)
    return raw


def iso_date(name):
    """Read a YYYY-MM-DD date, or None when absent."""
    raw = matching(name, r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        _refuse(name, f"'{name}' must be a date, YYYY-MM-DD.", raw)
