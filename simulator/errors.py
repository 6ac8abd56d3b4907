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
UNSUPPORTED_MEDIA_TYPE = "000-415"
INJECTED_FAULT = "000-503"
RATE_LIMITED = "000-429"
INTERNAL = "000-500"

PRODUCT_NOT_IN_CATALOG = "071-101"
PRODUCT_ALREADY_REGISTERED = "071-102"
PRODUCT_NOT_REGISTERED = "071-103"

SPONSOR_NOT_FOUND = "061-100"
BENEFICIARY_NOT_FOUND = "061-101"
BENEFICIARY_NOT_ELIGIBLE = "061-102"
SEARCH_FIELDS_INVALID = "061-103"
PREAUTHORIZATION_NOT_FOUND = "061-110"
PREAUTHORIZATION_NOT_EDITABLE = "061-111"
INDICATIONS_MISSING = "061-112"
DOCUMENTS_MISSING = "061-113"
DOCUMENT_TYPE_NOT_ACCEPTED = "061-114"
DOCUMENT_TOO_LARGE = "061-115"
PRODUCT_NOT_REGISTERED_FOR_ARC = "061-116"
NOTHING_TO_REOPEN = "061-118"
AUTHORIZATION_NOT_FOUND = "061-120"
AUTHORIZATION_NOT_APPROVED = "061-121"
AUTHORIZATION_VOIDED = "061-122"
AUTHORIZATION_EXPIRED = "061-123"
AUTHORIZATION_NOT_VOIDABLE = "061-124"
CLAIM_NOT_FOUND = "061-130"
CLAIM_LINE_NOT_REGISTERED = "061-131"
CLAIM_AUTHORIZATION_INVALID = "061-132"
SETTLEMENT_NOT_FOUND = "061-140"
AUTHORIZATION_NOT_SETTLEABLE = "061-141"
SETTLEMENT_NOT_EDITABLE = "061-142"
SPONSOR_WITHOUT_SETTLEMENTS = "061-143"

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
PRESCRIPTION_ALREADY_DISPENSED = "081-122"
PRESCRIPTION_IN_DISPENSATION = "081-123"
PRESCRIPTION_CANCELLED = "081-124"

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
    415: UNSUPPORTED_MEDIA_TYPE,
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
