"""Read a request's JSON body into a pydantic model; a missing or broken body reads as {}."""

from flask import request


def json_body(model):
    """Validate the request's JSON body against model; errors become 422s with field names."""
    return model.model_validate(request.get_json(silent=True) or {})
