"""Structured JSON logs with a request id; never secrets, query strings, bodies or patient data."""

import json
import logging
import re
import time
import uuid

from flask import g, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "method", "path", "status", "duration_ms", "host_app"):
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__  # the type only: tracebacks can hold request data
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level=logging.INFO):
    """Send the BFF's logs to stderr as JSON lines (serve calls this; tests keep pytest's capture)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.WARNING)


def init_request_logging(app):
    """Give every request an id (the caller's X-Request-Id if sane) and log one line per request."""
    access = logging.getLogger("bff.access")

    @app.before_request
    def start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        access.info("request", extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            # Never the query string (it can carry document numbers), nor one smuggled in as %3F.
            "path": request.path.partition("?")[0],
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        })
        return response
