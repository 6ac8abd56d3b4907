"""Redeem an RX-/AUT- code at Osigu exactly once: start, products, verification, complete or void, resume.

The one workflow behind both front doors, the dispensing widget and the hospital-pharmacy API; it
imports no widget and returns no user strings (errors carry a stable `kind` for each door to word).

Write-ahead: before a state-changing call the step, its body and its Idempotency-Key are committed as
`pending`; after Osigu answers, the answer is recorded and `pending` cleared in one commit. Whatever
dies in between (a kill -9, a timeout), the next call on the redemption, or `resume_unfinished`, sends
the recorded call again with the same key, and Osigu replays its first answer instead of acting twice.
The key is the redemption id + a call sequence + the step + a digest of the body, so a retry of the
same call reuses it and a new call (complete again after verification) gets its own.

Choices, and why:
- One row per redemption with its lines as JSON: lines are always read and replaced whole, and the
  dispensation at Osigu is the record of truth; the row only has to carry it across a crash.
- The owner is generic (`owner_kind`, `owner_id`: a widget flow, a pharmacy queue entry), so each door
  finds its redemption without this module knowing the door. `open_key` (NULL once finished) is unique per
  tenant, so a double click on start opens one dispensation, not two.
- Every function takes the redemption and finds the tenant's Osigu client from its host app, so
  `resume_unfinished` needs nothing but the row.
- Statuses are Osigu's (STARTED, PENDING_VERIFICATION, DISPENSED, VOIDED) plus NEW (Osigu has not
  answered start yet), PRODUCTS_SET (what is handed over is recorded) and FAILED (start was refused).
  A refusal saying the dispensation moved on (completed, voided, timed out) is followed by a GET, and
  the row records what Osigu says: a second complete is never an error, only the first completion.
- The dispensation is bound (`bff.ownership`) to the widget session that started it, or to its host app
  when no session did, so the proxy and Osigu's webhooks follow it to its host app. A `read` (a
  dispensation opened only to read a code, and voided at once) is bound to nobody: the host app never
  asked for it, so it hears nothing of it.
- Osigu's `dispensing.completed`/`dispensing.cancelled` webhooks move an open row with no call in flight to
  DISPENSED or VOIDED (the idle timeout too), and `claim.created` fills its claim: a row in flight is left
  to Osigu's answer, which the next call or `refresh` records.
- Osigu has no "send OTP" call: complete on an unverified dispensation (re)sends it, so `send_otp`
  completes again after checking the beneficiary is not verified yet. `validate_otp` and `poll` complete
  as soon as Osigu says verified, so neither door repeats that step.
"""

import hashlib
import json
import logging
import re
import uuid
from datetime import date, datetime

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import JSON, DateTime, Index, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import host_apps, ownership, webhooks
from .db import WidgetSession, aware, db, utcnow
from .upstream import IN_PROGRESS, UpstreamError, path

log = logging.getLogger(__name__)

DISPENSATIONS = "/dispensing/v1/dispensations"
NEW, STARTED, PRODUCTS_SET = "NEW", "STARTED", "PRODUCTS_SET"
PENDING_VERIFICATION, DISPENSED, VOIDED, FAILED = "PENDING_VERIFICATION", "DISPENSED", "VOIDED", "FAILED"
OPEN_STATUSES = (NEW, STARTED, PRODUCTS_SET, PENDING_VERIFICATION)
OWNER_KINDS = ("widget", "pharmacy", "read")
CODE_PATTERN = re.compile(r"^(RX|AUT)-[A-Z0-9-]{1,26}$")
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")  # its size is Osigu's to limit (BIOMETRIC_TOO_LARGE)

# Osigu's error codes on the dispensing path, as the kinds both doors translate.
ERROR_KINDS = {
    "091-100": "DISPENSATION_NOT_FOUND",
    "091-101": "CODE_UNKNOWN",
    "061-120": "CODE_UNKNOWN",
    "091-102": "CODE_ALREADY_REDEEMED",
    "091-103": "CODE_BEING_DISPENSED",
    "061-121": "CODE_NOT_APPROVED",
    "061-122": "CODE_VOIDED",
    "061-123": "CODE_EXPIRED",
    "091-104": "DISPENSATION_VOIDED",
    "091-105": "ALREADY_DISPENSED",
    "091-106": "QUANTITY_EXCEEDS_PRESCRIBED",
    "091-107": "SUBSTITUTION_NOT_ALLOWED",
    "091-108": "PRODUCTS_LOCKED",
    "091-109": "SUBSTITUTE_NOT_REGISTERED",
    "091-110": "NOTHING_TO_DISPENSE",
    "091-111": "VERIFICATION_REQUIRED",
    "091-120": "OTP_INVALID",
    "091-121": "OTP_EXPIRED",
    "091-122": "OTP_ATTEMPTS_EXCEEDED",
    "091-123": "VERIFICATION_NOT_PENDING",
    "091-130": "BIOMETRIC_TOO_LARGE",
    "091-131": "BIOMETRIC_INVALID",
    "091-132": "METHOD_NOT_OFFERED",
}
# Refusals that mean the dispensation moved on (completed, voided, timed out): read its real state first.
STATE_CONFLICTS = frozenset({"091-104", "091-105", "091-108", "091-123"})


class RedemptionError(Exception):
    """A redemption step that did not happen; `kind` is stable, `details` carries Osigu's specifics."""

    def __init__(self, kind, details=None, retryable=False, upstream_code=None):
        super().__init__(kind)
        self.kind, self.details, self.retryable, self.upstream_code = kind, details, retryable, upstream_code


class Redemption(db.Model):
    """One code redeemed (or being redeemed) at Osigu for one owner, with the call it has in flight."""

    __tablename__ = "bff_redemption"
    __table_args__ = (UniqueConstraint("host_app_id", "open_key"),
                      Index("ix_bff_redemption_owner", "host_app_id", "owner_kind", "owner_id"))
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100))
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))  # the widget session the dispensation is bound to
    code: Mapped[str] = mapped_column(String(30))
    code_type: Mapped[str | None] = mapped_column(String(20))
    dispensation_id: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(24), default=NEW, index=True)
    # [{prescribed_product_code, prescribed_quantity, product_code, quantity, substitution_allowed, lot, expiry}]
    lines: Mapped[list] = mapped_column(JSON, default=list)
    verification: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # Osigu's latest challenge summary
    claim_id: Mapped[str | None] = mapped_column(String(100))
    void_reason: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(String(40))
    open_key: Mapped[str | None] = mapped_column(String(200))  # owner + code while open; NULL frees the pair
    call_seq: Mapped[int] = mapped_column(default=0)
    # The state-changing call in flight: {step, method, path, body, key, lots}; NULL when none is.
    pending: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    products_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # Osigu's time
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Line(BaseModel):
    """What is handed over for one line of the code: the product, how many, from which lot."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    product_code: str = Field(pattern=r"^[A-Za-z0-9-]{1,30}$")
    quantity: int = Field(ge=0, le=1000)
    lot: str | None = Field(default=None, min_length=1, max_length=40)
    expiry: date | None = None
    substituted_for: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,30}$")


def init_app(app):
    """Follow Osigu's dispensing webhooks; finish or report, at start-up, what a previous process left in the middle."""
    webhooks.subscribe(app, "dispensing.completed", _follow_dispensation)
    webhooks.subscribe(app, "dispensing.cancelled", _follow_dispensation)
    webhooks.subscribe(app, "claim.created", _follow_claim)
    if app.config["REDEMPTION_RESUME_ON_START"]:
        resume_unfinished(app)


def for_owner(host_app_id, owner):
    """The owner's latest redemption, or None."""
    owner_kind, owner_id = owner
    return db.session.scalar(
        db.select(Redemption).filter_by(host_app_id=host_app_id, owner_kind=owner_kind, owner_id=owner_id)
        .order_by(Redemption.created_at.desc()).limit(1))


def start(host_app_id, owner, code, session_id=None):
    """Open a dispensation of code at Osigu for owner (once, however often this is called) and load its lines.

    owner is ("widget", flow id) or ("pharmacy", queue entry id); session_id names the widget session the
    dispensation is bound to, so that the proxy and Osigu's webhooks follow it to its host app.
    """
    owner_kind, owner_id = owner
    if owner_kind not in OWNER_KINDS or not 0 < len(owner_id) <= 64:
        raise ValueError(f"owner must be one of {OWNER_KINDS} with an id of 1 to 64 characters")
    code = _checked_code(code)
    open_key = f"{owner_kind}:{owner_id}:{code}"
    redemption = _open_one(host_app_id, open_key)
    if redemption is None:
        redemption = Redemption(id=f"rdm_{uuid.uuid4().hex}", host_app_id=host_app_id, owner_kind=owner_kind,
                                owner_id=owner_id, session_id=session_id, code=code, open_key=open_key)
        _intend(redemption, "start", "POST", DISPENSATIONS, {"code": code})
        db.session.add(redemption)
        try:
            db.session.commit()
        except IntegrityError:  # a concurrent double click inserted it first: carry on with that one
            db.session.rollback()
            return start(host_app_id, owner, code, session_id)
    _settle(redemption)
    return redemption


def set_products(redemption, lines):
    """Record what is really handed over; tell Osigu only when it differs from what it holds (PUT .../products)."""
    _settle(redemption)
    _require(redemption, STARTED, PRODUCTS_SET)
    wanted = _wanted_lines(redemption, lines)
    changes = [{"prescribed_product_code": prescribed, "product_code": line.product_code, "quantity": line.quantity}
               for prescribed, line in wanted.items()
               if (line.product_code, line.quantity) != _current(redemption, prescribed)]
    lots = {prescribed: {"lot": line.lot, "expiry": line.expiry and line.expiry.isoformat()}
            for prescribed, line in wanted.items()}
    if changes:
        _call(redemption, "products", "PUT", path(DISPENSATIONS + "/{}/products", redemption.dispensation_id),
              {"products": changes}, lots)
    else:
        redemption.lines = [line | lots[line["prescribed_product_code"]] for line in redemption.lines]
        _products_set(redemption)
        _commit(redemption)
    return redemption


def complete(redemption):
    """Commit the dispensation once: DISPENSED (with the claim for an authorization), or PENDING_VERIFICATION."""
    _settle(redemption)
    if redemption.status == DISPENSED:
        return redemption  # a double click, a retry, a second tab: the first completion stands
    _require(redemption, STARTED, PRODUCTS_SET, PENDING_VERIFICATION)
    _call(redemption, "complete", "POST", path(DISPENSATIONS + "/{}/complete", redemption.dispensation_id), {})
    return redemption


def void(redemption, reason=None):
    """Abort the dispensation, freeing the code; voiding twice is harmless, a completed one cannot be voided."""
    _settle(redemption)
    if redemption.status in (VOIDED, FAILED):
        return redemption
    _require(redemption, STARTED, PRODUCTS_SET, PENDING_VERIFICATION)
    body = {"reason": reason} if reason else {}
    _call(redemption, "void", "POST", path(DISPENSATIONS + "/{}/void", redemption.dispensation_id), body)
    return redemption


def verification(redemption):
    """Osigu's verification status of the dispensation (methods, OTP attempts left, biometric result)."""
    _require(redemption, STARTED, PRODUCTS_SET, PENDING_VERIFICATION, DISPENSED)
    status = _read(redemption, path(DISPENSATIONS + "/{}/verification-status", redemption.dispensation_id))
    redemption.verification = status
    _commit(redemption)
    return status


def send_otp(redemption):
    """Have Osigu text (or e-mail) the beneficiary a code; it does so on complete while unverified."""
    if verification(redemption)["status"] == "VERIFIED":
        raise RedemptionError("ALREADY_VERIFIED")
    return complete(redemption)


def validate_otp(redemption, otp):
    """Check the beneficiary's code; once verified, complete. Returns the verification status."""
    _require(redemption, PENDING_VERIFICATION)
    if not re.fullmatch(r"\d{6}", otp or ""):
        raise RedemptionError("OTP_INVALID", {"reason": "FORMAT"})
    status = _verify(redemption, "otp", {"otp": otp})
    return _complete_if_verified(redemption, status)


def submit_biometric(redemption, modality, reading):
    """Send a Base64 reading (never logged) for Osigu to match; then poll. Returns the verification status."""
    _require(redemption, PENDING_VERIFICATION)
    if modality not in ("FINGERPRINT", "FACE"):
        raise RedemptionError("BIOMETRIC_INVALID", {"reason": "MODALITY"})
    if not isinstance(reading, str) or not BASE64.fullmatch(reading):
        raise RedemptionError("BIOMETRIC_INVALID", {"reason": "ENCODING"})
    return _verify(redemption, "biometric", {"modality": modality, "reading": reading})


def poll(redemption):
    """Read where verification stands; once verified, complete. Returns the verification status."""
    return _complete_if_verified(redemption, verification(redemption))


def refresh(redemption):
    """Finish the call in flight, or else re-read the dispensation: Osigu may have voided it for idleness."""
    if redemption.pending:
        _settle(redemption)
    elif redemption.dispensation_id and redemption.status in OPEN_STATUSES:
        _reconcile(redemption)
    return redemption


def resume_unfinished(app):
    """Finish the calls a crash left in flight and re-read every open dispensation; report each one.

    A call in flight is sent again with its own key (Osigu replays what it already did); an open
    dispensation with nothing in flight is reconciled with Osigu's state (completed or voided meanwhile)
    and otherwise left for its user. Nothing is completed that the user had not asked to complete.
    While Osigu cannot be reached it stops (start-up must not wait on every row); the rest is done by
    the next call on each redemption, or the next resume.
    """
    report = []
    with app.app_context():
        unfinished = db.session.scalars(
            db.select(Redemption).where(Redemption.status.in_(OPEN_STATUSES)).order_by(Redemption.created_at)).all()
        for redemption in unfinished:
            in_flight = redemption.pending and redemption.pending["step"]
            try:
                refresh(redemption)
                error = None
            except RedemptionError as failure:
                error = failure.kind
            log.info("redemption %s resumed (%s in flight): %s %s", redemption.id, in_flight, redemption.status,
                     error or "")
            report.append({"redemption_id": redemption.id, "resumed": in_flight, "status": redemption.status,
                           "error": error})
            if error == "UPSTREAM_UNAVAILABLE":
                log.warning("Osigu unreachable: %d redemption(s) left to resume later", len(unfinished) - len(report))
                break
    return report


def outcome(redemption):
    """The dispensing widget's `success` data (DESIGN.md): ids and codes only."""
    return {
        "dispensation_id": redemption.dispensation_id,
        "code": redemption.code,
        "code_type": redemption.code_type,
        "status": redemption.status,
        "claim_id": redemption.claim_id,
        "completed_at": _isoformat(redemption.completed_at),
        "lines": [_outcome_line(line) for line in redemption.lines if line["quantity"]],
    }


def _outcome_line(line):
    out = {"product_code": line["product_code"], "quantity": line["quantity"]}
    if line.get("lot"):
        out["lot"] = line["lot"]
    if line.get("expiry"):
        out["expiry"] = line["expiry"]
    if line["product_code"] != line["prescribed_product_code"]:
        out["substituted_for"] = line["prescribed_product_code"]
    return out


def _checked_code(code):
    code = (code or "").strip().upper()
    if len(code) > 30 or not CODE_PATTERN.fullmatch(code):
        raise RedemptionError("INVALID_CODE")
    return code


def _open_one(host_app_id, open_key):
    return db.session.scalar(db.select(Redemption).filter_by(host_app_id=host_app_id, open_key=open_key))


def _wanted_lines(redemption, lines):
    """Validate lines and key them by the prescribed product they hand over; lines left out hand over nothing."""
    try:
        parsed = [Line.model_validate(line) for line in lines]
    except ValidationError as error:
        raise RedemptionError("INVALID_LINES", [{"field": ".".join(str(p) for p in item["loc"]), "issue": item["type"]}
                                                for item in error.errors(include_url=False)]) from None
    loaded = {line["prescribed_product_code"]: line for line in redemption.lines}
    wanted = {}
    for line in parsed:
        prescribed = (line.substituted_for or line.product_code).upper()
        line.product_code = line.product_code.upper()
        if prescribed not in loaded:
            raise RedemptionError("NOT_ON_CODE", {"product_code": prescribed})
        if prescribed in wanted:
            raise RedemptionError("INVALID_LINES", [{"field": "product_code", "issue": "duplicate"}])
        if line.expiry and line.expiry < date.today():
            raise RedemptionError("EXPIRED_LOT", {"product_code": line.product_code, "lot": line.lot})
        wanted[prescribed] = line
    for prescribed in loaded.keys() - wanted.keys():
        wanted[prescribed] = Line(product_code=prescribed, quantity=0)
    return wanted


def _current(redemption, prescribed):
    line = next(line for line in redemption.lines if line["prescribed_product_code"] == prescribed)
    return line["product_code"], line["quantity"]


def _products_set(redemption):
    redemption.status, redemption.products_set_at = PRODUCTS_SET, utcnow()


def _require(redemption, *statuses):
    """Refuse a step the redemption's state does not allow, saying why in a kind."""
    if redemption.status in statuses:
        return
    if redemption.status == VOIDED:
        raise RedemptionError("TIMEOUT_VOIDED" if redemption.void_reason == "TIMEOUT" else "DISPENSATION_VOIDED")
    if redemption.status == DISPENSED:
        raise RedemptionError("ALREADY_DISPENSED")
    raise RedemptionError("INVALID_STATE", {"status": redemption.status})


def _intend(redemption, step, method, url, body, lots=None):
    """Name the next state-changing call and its idempotency key; the caller commits before sending it."""
    redemption.call_seq = (redemption.call_seq or 0) + 1
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    redemption.pending = {"step": step, "method": method, "path": url, "body": body, "lots": lots,
                          "key": f"{redemption.id}-{redemption.call_seq}-{step}-{digest}"}


def _call(redemption, step, method, url, body, lots=None):
    """Write the call ahead, then send it and record Osigu's answer."""
    _intend(redemption, step, method, url, body, lots)
    _commit(redemption)
    _settle(redemption)


def _settle(redemption):
    """Send the call in flight (again, with its own key) and record its answer; nothing to do when none is."""
    pending = redemption.pending
    if pending is None:
        return
    upstream = _upstream(redemption)
    try:
        response = upstream.request(pending["method"], pending["path"], json=pending["body"],
                                    idempotency_key=pending["key"])
    except UpstreamError as error:
        if _outcome_unknown(error):
            # Osigu may or may not have acted: keep the call in flight, to be sent again with the same key.
            redemption.last_error = "UPSTREAM_UNAVAILABLE"
            _commit(redemption)
            raise RedemptionError("UPSTREAM_UNAVAILABLE", retryable=True, upstream_code=error.error_code) from error
        redemption.pending = None
        if redemption.dispensation_id is None:
            redemption.status, redemption.open_key = FAILED, None
        _refused(redemption, error, pending["step"])
        return
    hook = current_app.config["REDEMPTION_AFTER_UPSTREAM_CALL"]
    if hook:
        hook(pending["step"], redemption)
    answer = response.json()
    redemption.pending, redemption.last_error = None, None
    _record(redemption, answer, pending.get("lots"))
    if pending["step"] == "products" and redemption.status == STARTED:
        _products_set(redemption)
    _commit(redemption)
    _bind(redemption)


def _outcome_unknown(error):
    """Whether Osigu may have acted without saying so: unreachable, failing, or still busy with the same key."""
    return error.retryable or error.status >= 500 or error.error_code == IN_PROGRESS[1]


def _refused(redemption, error, step):
    """Osigu refused a call: learn its real state when the refusal says it moved on, then raise the kind."""
    code = error.error_code
    kind = ERROR_KINDS.get(code, "UPSTREAM_REFUSED")
    if code == "091-103" and not (error.details or {}).get("dispensation_id"):
        kind = "CODE_BEING_DISPENSED_ELSEWHERE"
    if code in STATE_CONFLICTS and redemption.dispensation_id:
        _reconcile(redemption)
        if redemption.status == DISPENSED and step == "complete":
            return  # completed before (another tab, a lost answer): that completion is this one's result
        if redemption.status in (VOIDED, DISPENSED):
            kind = "TIMEOUT_VOIDED" if redemption.void_reason == "TIMEOUT" else (
                "DISPENSATION_VOIDED" if redemption.status == VOIDED else "ALREADY_DISPENSED")
    redemption.last_error = kind
    _commit(redemption)
    details = error.details  # a dict, or a list of field problems (091-109 names the unregistered products)
    if isinstance(details, dict):
        details = {key: value for key, value in details.items() if key != "dispensation_id"}
    details = details or None
    raise RedemptionError(kind, details, upstream_code=code) from error


def _reconcile(redemption):
    """Make the row say what Osigu says about the dispensation (GET /dispensing/v1/dispensations/{id})."""
    _record(redemption, _read(redemption, path(DISPENSATIONS + "/{}", redemption.dispensation_id)))
    _commit(redemption)
    _bind(redemption)


def _read(redemption, url):
    try:
        return _upstream(redemption).get_json(url)
    except UpstreamError as error:
        if _outcome_unknown(error):
            raise RedemptionError("UPSTREAM_UNAVAILABLE", retryable=True, upstream_code=error.error_code) from error
        raise RedemptionError(ERROR_KINDS.get(error.error_code, "UPSTREAM_REFUSED"), error.details,
                              upstream_code=error.error_code) from error


def _verify(redemption, action, body):
    """POST a verification answer (OTP or biometric reading); not write-ahead: it redeems nothing."""
    url = path(DISPENSATIONS + "/{}/" + action, redemption.dispensation_id)
    try:
        status = _upstream(redemption).request("POST", url, json=body).json()
    except UpstreamError as error:
        if _outcome_unknown(error):
            raise RedemptionError("UPSTREAM_UNAVAILABLE", retryable=True, upstream_code=error.error_code) from error
        _refused(redemption, error, action)
    redemption.verification = status
    _commit(redemption)
    return status


def _complete_if_verified(redemption, status):
    if status["status"] == "VERIFIED" and redemption.status == PENDING_VERIFICATION:
        complete(redemption)
    return status


def _record(redemption, answer, lots=None):
    """Copy Osigu's dispensation (its answer to any dispensing call) onto the row, keeping our lots."""
    now = utcnow()
    kept = {line["prescribed_product_code"]: line for line in redemption.lines}
    lots = lots or {}
    redemption.dispensation_id = answer["dispensation_id"]
    redemption.code, redemption.code_type = answer["code"], answer["code_type"]
    redemption.lines = [{
        "prescribed_product_code": product["prescribed_product_code"],
        "prescribed_quantity": product["prescribed_quantity"],
        "product_code": product["product_code"],
        "quantity": product["quantity"],
        "substitution_allowed": product["substitution_allowed"],
        **_lot_of(lots, kept, product["prescribed_product_code"]),
    } for product in answer["products"]]
    redemption.verification = answer.get("verification")
    redemption.claim_id = answer.get("claim_id")
    redemption.started_at = redemption.started_at or now
    status = answer["status"]
    if status == STARTED:
        redemption.status = PRODUCTS_SET if redemption.status == PRODUCTS_SET else STARTED
    elif status == PENDING_VERIFICATION:
        if redemption.status != PENDING_VERIFICATION:
            redemption.verification_requested_at = now
        redemption.status = PENDING_VERIFICATION
    elif status == DISPENSED:
        redemption.status, redemption.open_key = DISPENSED, None
        redemption.completed_at = datetime.fromisoformat(answer["completed_at"].replace("Z", "+00:00"))
    elif status == VOIDED:
        redemption.status, redemption.open_key = VOIDED, None
        redemption.void_reason = answer.get("void_reason")
        redemption.voided_at = redemption.voided_at or now


def _follow_dispensation(data):
    """Record what a dispensing webhook says (completed, or voided: by a user, or by Osigu for idleness).

    Only an open redemption with no call in flight changes: a call in flight is Osigu's answer to
    come, and the next _settle/refresh records it. One conditional UPDATE, so a call written ahead
    meanwhile wins. The simulator's event carries no completion time, so the row takes the time the
    BFF heard of it unless the event says (the claim follows in claim.created).
    """
    dispensation_id, status = data.get("dispensation_id"), data.get("status")
    if not _sane_id(dispensation_id) or status not in (DISPENSED, VOIDED):
        log.warning("dispensing webhook without a usable dispensation_id or status; ignored")
        return
    now = utcnow()
    if status == DISPENSED:
        values = {"completed_at": _moment(data.get("completed_at")) or now}
        if _sane_id(data.get("claim_id")):
            values["claim_id"] = data["claim_id"]
    else:
        reason = data.get("void_reason")
        values = {"void_reason": reason if isinstance(reason, str) and len(reason) <= 20 else None, "voided_at": now}
    followed = db.session.execute(db.update(Redemption).where(
        Redemption.dispensation_id == dispensation_id, Redemption.pending.is_(None),
        Redemption.status.in_(OPEN_STATUSES),
    ).values(status=status, open_key=None, updated_at=now, **values)).rowcount
    if followed:
        log.info("dispensation %s is %s at Osigu; its redemption follows", dispensation_id, status)


def _follow_claim(data):
    """Record the claim Osigu filed for a dispensed authorization (claim.created), where it is not known yet."""
    if _sane_id(data.get("dispensation_id")) and _sane_id(data.get("claim_id")):
        db.session.execute(db.update(Redemption).where(
            Redemption.dispensation_id == data["dispensation_id"], Redemption.claim_id.is_(None),
        ).values(claim_id=data["claim_id"], updated_at=utcnow()))


def _sane_id(value):
    return isinstance(value, str) and 0 < len(value) <= 100


def _moment(value):
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None


def _lot_of(lots, kept, prescribed):
    source = lots.get(prescribed) or kept.get(prescribed) or {}
    return {"lot": source.get("lot"), "expiry": source.get("expiry")}


def _bind(redemption):
    """Bind the dispensation to whoever started it, so the proxy and webhooks follow it (idempotent).

    The widget session that started it when there is one, else its host app (the pharmacy API's door).
    """
    if not redemption.dispensation_id or redemption.owner_kind == "read":
        return
    session = redemption.session_id and db.session.get(WidgetSession, redemption.session_id)
    if session:
        ownership.bind("dispensation", redemption.dispensation_id, session)
    else:
        ownership.bind_to_host_app(redemption.host_app_id, "dispensation", redemption.dispensation_id)
    db.session.commit()


def _upstream(redemption):
    host_app = host_apps.by_id(redemption.host_app_id)
    if host_app is None:
        raise RedemptionError("HOST_APP_GONE")
    return host_apps.upstream_for(host_app)


def _commit(redemption):
    redemption.updated_at = utcnow()
    db.session.commit()


def _isoformat(moment):
    return moment and aware(moment).isoformat().replace("+00:00", "Z")
