"""Read a request's JSON body: into a pydantic model, or as a plain object for dynamic forms."""

import json

from flask import request

from .errors import VALIDATION, ApiError


def _number(text):
    """Read a JSON number with a fraction or exponent; 3.0 is the integer 3, as JSON Schema counts it."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _json_or_empty():
    """The body parsed as JSON when it says it is JSON, else an empty object (the model names what is missing)."""
    if not request.is_json:
        return {}
    try:
        return json.loads(request.get_data(), parse_float=_number)
    except ValueError:
        return {}


def json_body(model):
    """Validate the request's JSON body against model, strictly; errors become 422s with field names.

    Strict as JSON Schema is: "5" is not an integer nor "true" a boolean, so the OpenAPI document's
    types are the whole truth (dates still arrive as ISO strings, which strict JSON mode accepts).
    """
    return model.model_validate_json(json.dumps(_json_or_empty() or {}), strict=True)


def raw_json_object():
    """Return the JSON body as a dict, or raise a 422 when it is not a JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, VALIDATION, "The request body must be a JSON object.",
                       [{"field": "body", "issue": "not an object"}])
    return body
