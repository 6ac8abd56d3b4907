"""A step's form, checked before it touches the draft, with a message per field in the user's language."""

from pydantic import ValidationError


def field_errors(error, messages):
    """Map a form's ValidationError to {field: the user's message for it}."""
    return {str(item["loc"][0]): messages.get(str(item["loc"][0]), "") for item in error.errors()}


def validate(model, values, messages):
    """Check values against model: (the form, {}) when valid, else (None, {field: message})."""
    try:
        return model.model_validate(values), {}
    except ValidationError as error:
        return None, field_errors(error, messages)
