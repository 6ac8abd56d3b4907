"""Request bodies parsed as JSON in one place: a body that is not JSON, or nests absurdly deep, is a 4xx."""

import json

from flask import request

from .errors import ApiError

# Far deeper than any body the BFF accepts; deeper ones would only exhaust the stack of whatever reads them
# next (the JSON parser itself, pydantic, the JSON column, a template).
MAX_DEPTH = 32


def parse_json(raw):
    """Parse a JSON body: 422 when it is not JSON, 400 when it nests deeper than MAX_DEPTH."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8/16/32
        raise ApiError(422, "BFF-422", "The body is not valid JSON.") from None
    if _deeper_than(value, MAX_DEPTH):
        raise _too_deep()
    return value


def request_json():
    """This request's body, parsed by parse_json."""
    return parse_json(request.get_data())


def _deeper_than(value, limit):
    """Whether arrays and objects nest more than limit levels, found without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _too_deep():
    return ApiError(400, "BFF-JSON-DEPTH", f"The JSON body nests deeper than {MAX_DEPTH} levels.")
