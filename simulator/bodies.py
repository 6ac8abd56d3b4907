"""Read a request's JSON body: into a pydantic model, or as a plain object for dynamic forms."""

from flask import request

from .errors import VALIDATION, ApiError


def json_body(model):
    """Validate the request's JSON body against model; errors become 422s with field names."""
    return model.model_validate(request.get_json(silent=True) or {})


def raw_json_object():
    """Return the JSON body as a dict, or raise a 422 when it is not a JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(422, VALIDATION, "The request body must be a JSON object.",
                       [{"field": "body", "issue": "not an object"}])
    return body
