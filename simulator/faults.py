"""Fault injection for reliability tests: latency, 5xx, 429 bursts and dropped connections, per path prefix.

Rules come from FAULTS at start-up (`SIM_FAULTS`, `--fault`) and, when ADMIN_ENABLED, from
`PUT /sandbox/v1/faults` at runtime. The first rule whose prefix (and method) matches applies;
a rule with `times` applies to that many requests and is then spent.
"""

import random
import threading
import time

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from . import errors
from .bodies import json_body

bp = Blueprint("faults", __name__, url_prefix="/sandbox/v1/faults")
EXEMPT_PREFIXES = ("/sandbox/", "/healthz", "/openapi.json")
# Marks an injected response, which stands for infrastructure failing, not for the operation's contract.
MARKER = {"Osigu-Simulator-Fault": "injected"}


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path_prefix: str = Field(pattern=r"^/")
    methods: list[str] | None = None
    latency_ms: int = Field(default=0, ge=0, le=30_000)
    error_rate: float = Field(default=0, ge=0, le=1)
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit_rate: float = Field(default=0, ge=0, le=1)
    retry_after: int = Field(default=1, ge=1, le=3600)
    drop_rate: float = Field(default=0, ge=0, le=1)
    times: int | None = Field(default=None, ge=1)


class FaultRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[FaultRule] = Field(max_length=50)


class Faults:
    """The app's current rules, shared by its request threads."""

    def __init__(self, rules):
        self.lock = threading.Lock()
        self.random = random.Random()
        self.rules = [FaultRule.model_validate(rule) for rule in rules]

    def replace(self, rules):
        with self.lock:
            self.rules = list(rules)

    def take(self, method, path):
        """Return the rule that applies to this request, spending one of its `times`."""
        with self.lock:
            for rule in self.rules:
                if path.startswith(rule.path_prefix) and (not rule.methods or method in rule.methods):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times == 0:
                            self.rules.remove(rule)
                    return rule.model_copy()
        return None

    def roll(self, rate):
        return rate > 0 and self.random.random() < rate


def _dropped_connection():
    """Send the status line, headers and one byte, then break off: the client sees a dropped connection."""

    def body():
        yield b"{"
        raise ConnectionAbortedError("fault injection: connection dropped on purpose")

    return Response(body(), status=200, mimetype="application/json", headers={"Content-Length": "4096"} | MARKER)


def inject():
    """Apply the matching fault rule, if any, before the request reaches its view."""
    if request.path.startswith(EXEMPT_PREFIXES):
        return None
    faults = current_app.extensions["simulator.faults"]
    rule = faults.take(request.method, request.path)
    if rule is None:
        return None
    if rule.latency_ms:
        time.sleep(rule.latency_ms / 1000)  # the fault itself: a slow upstream
    if faults.roll(rule.drop_rate):
        # Read the request whole first: a server left with unread body bytes (Werkzeug's) drains them after the
        # response, waiting for more until the client, itself waiting for the rest of the body, gives up.
        request.get_data()
        return _dropped_connection()
    if faults.roll(rule.rate_limit_rate):
        raise errors.ApiError(429, errors.RATE_LIMITED, "Too many requests (injected fault).",
                              headers={"Retry-After": str(rule.retry_after)} | MARKER)
    if faults.roll(rule.error_rate):
        raise errors.ApiError(rule.error_status, errors.INJECTED_FAULT, "The upstream failed (injected fault).",
                              headers=MARKER)
    return None


def init_faults(app):
    """Load the start-up rules and check every request against them."""
    app.extensions["simulator.faults"] = Faults(app.config["FAULTS"])
    app.before_request(inject)


def _require_admin():
    if not current_app.config["ADMIN_ENABLED"]:
        raise errors.ApiError(404, errors.NOT_FOUND,
                              "The admin API is off; start the simulator with --enable-admin (SIM_ADMIN_ENABLED=true).")


def rules_json():
    return {"rules": [rule.model_dump() for rule in current_app.extensions["simulator.faults"].rules]}


@bp.get("")
def list_rules():
    """Show the fault rules in force."""
    _require_admin()
    return rules_json()


@bp.put("")
def replace_rules():
    """Replace every fault rule at once (an empty list turns faults off)."""
    _require_admin()
    body = json_body(FaultRules)
    current_app.extensions["simulator.faults"].replace(body.rules)
    return rules_json()
