"""One error shape for everything the BFF answers: {"error_code", "message", "retryable"?, "details"?}."""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from .upstream import UpstreamError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the BFF reports to its caller."""

    def __init__(self, status, error_code, message, details=None):
        super().__init__(message)
        self.status, self.error_code, self.message, self.details = status, error_code, message, details


def error_response(status, error_code, message, details=None, retryable=None):
    """Render the one error shape."""
    body = {"error_code": error_code, "message": message}
    if retryable is not None:
        body["retryable"] = retryable
    if details is not None:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def upstream_status(error):
    """Map Osigu's status to ours: a refusal of the BFF's own credentials is a bad gateway, not the caller's."""
    return 502 if error.status in (401, 403) else error.status


def register_error_handlers(app):
    """Turn every exception into the one error shape, upstream errors included."""

    @app.errorhandler(ApiError)
    def handle_api_error(error):
        return error_response(error.status, error.error_code, error.message, error.details)

    @app.errorhandler(UpstreamError)
    def handle_upstream_error(error):
        log.warning("upstream error %s %s", error.status, error.error_code)
        response = error_response(upstream_status(error), error.error_code, error.message, error.details,
                                  error.retryable)
        if error.retry_after:
            response.headers["Retry-After"] = error.retry_after
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(error):
        response = error_response(error.code, f"BFF-{error.code}", error.description or error.name)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        log.exception("unhandled error")
        return error_response(500, "BFF-500", "Something went wrong on our side. Try again.", retryable=True)
