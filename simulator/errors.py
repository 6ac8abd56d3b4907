"""One error shape for the whole simulator: {"error_code", "message", "details"?}."""

import logging

from flask import jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Error codes follow the seeds' "FFF-NNN" form (071-102 is the seed's own): the family, then the case.
BAD_REQUEST = "000-400"
UNAUTHORIZED = "000-401"
FORBIDDEN = "000-403"
NOT_FOUND = "000-404"
METHOD_NOT_ALLOWED = "000-405"
IDEMPOTENCY_IN_PROGRESS = "000-409"
PAYLOAD_TOO_LARGE = "000-413"
VALIDATION = "000-422"
IDEMPOTENCY_KEY_REUSED = "000-423"
RATE_LIMITED = "000-429"
INTERNAL = "000-500"

PRODUCT_NOT_IN_CATALOG = "071-101"
PRODUCT_ALREADY_REGISTERED = "071-102"
PRODUCT_NOT_REGISTERED = "071-103"

PATIENT_NOT_FOUND = "081-101"
PATIENT_ALREADY_EXISTS = "081-102"
CONSENT_REQUIRED = "081-110"
MEDICATION_NOT_REGISTERED = "081-111"
DIAGNOSIS_UNKNOWN = "081-112"
SIGNED_HASH_MISMATCH = "081-113"
SIGNATURE_INVALID = "081-114"
PROVIDER_NOT_CERTIFIED = "081-115"
PRESCRIPTION_NOT_FOUND = "081-120"
PATIENT_HAS_NO_EMAIL = "081-121"

DISPENSATION_NOT_FOUND = "091-100"
CODE_NOT_FOUND = "091-101"
CODE_ALREADY_REDEEMED = "091-102"
CODE_IN_DISPENSATION = "091-103"
INVALID_STATE = "091-104"
ALREADY_DISPENSED = "091-105"
QUANTITY_EXCEEDS_PRESCRIBED = "091-106"
SUBSTITUTION_NOT_ALLOWED = "091-107"
PRODUCTS_LOCKED = "091-108"
SUBSTITUTE_NOT_REGISTERED = "091-109"
NOTHING_TO_DISPENSE = "091-110"
VERIFICATION_REQUIRED = "091-111"
OTP_INVALID = "091-120"
OTP_EXPIRED = "091-121"
OTP_ATTEMPTS_EXCEEDED = "091-122"
VERIFICATION_NOT_PENDING = "091-123"
BIOMETRIC_TOO_LARGE = "091-130"
BIOMETRIC_INVALID = "091-131"
METHOD_NOT_OFFERED = "091-132"


class ApiError(Exception):
    """An error the API reports to its caller in the one error shape."""

    def __init__(self, status, error_code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_response(self):
        """Render the error as a JSON response."""
        body = {"error_code": self.error_code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        response = jsonify(body)
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


def not_found(error_code, what):
    """Build the 404 for an object that does not exist or belongs to someone else."""
    return ApiError(404, error_code, f"{what} not found.")


def validation_details(error: ValidationError):
    """Turn pydantic's errors into [{field, issue}] a person can read."""
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "issue": item["msg"]}
        for item in error.errors(include_url=False)
    ]


_HTTP_CODES = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: PAYLOAD_TOO_LARGE,
    429: RATE_LIMITED,
}


def register_error_handlers(app):
    """Make every error, ours or Werkzeug's, leave in the one error shape."""

    @app.errorhandler(ApiError)
    def handle_api_error(error):
        return error.to_response()

    @app.errorhandler(ValidationError)
    def handle_validation_error(error):
        return ApiError(422, VALIDATION, "The request body is not valid.", validation_details(error)).to_response()

    @app.errorhandler(HTTPException)
    def handle_http_exception(error):
        code = _HTTP_CODES.get(error.code, f"000-{error.code}")
        api_error = ApiError(error.code, code, error.description or error.name)
        response = api_error.to_response()
        # Keep headers Werkzeug or Flask-Limiter attached (Allow, Retry-After).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        log.exception("unhandled error")
        return ApiError(500, INTERNAL, "Something went wrong on our side. Try again.").to_response()
