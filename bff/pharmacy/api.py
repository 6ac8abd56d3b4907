"""Seed 002's hospital-pharmacy API under /api: camelCase JSON over queue.py, inventory.py and completion.py."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from .. import host_apps, sessions
from ..bodies import parse_json
from ..db import aware, db, utcnow
from ..errors import ApiError
from . import completion, inventory, queue
from .models import PRIORITIES, STATUSES
from .records import iso, record_json, row_json

bp = Blueprint("pharmacy_api", __name__, url_prefix="/api")

PERMISSIONS = ("DISPENSING:READ", "DISPENSING:CREATE", "DISPENSING:UPDATE")
PUBLIC_ENDPOINTS = ("pharmacy_api.openapi_document",)
OPENAPI = Path(__file__).with_name("openapi.yaml")
SORT_FIELDS = ("createdAt", "priority", "waitingTime", "medicineCount")
MAX_LIMIT = 100

# Text without control characters (line breaks aside): PostgreSQL refuses NUL in text and JSON alike.
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=PLAIN)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.:-]+$")]
MAX_QUERY_TEXT = 100
UNKNOWN_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class DispenseItem(Body):
    medicineId: Identifier
    dispensedQuantity: Annotated[int, Field(ge=0, le=1000)]
    batchNumber: Annotated[str, Field(pattern=inventory.BATCH_NUMBER.pattern)] | None = None
    expiryDate: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    substituted: bool = False
    substituteNote: Text | None = None
    productCode: Annotated[str, Field(pattern=inventory.PRODUCT_CODE.pattern)] | None = None  # the substitute

    @field_validator("expiryDate")
    @classmethod
    def _real_date(cls, value):
        if value is not None:
            date.fromisoformat(value)  # a ValueError names the field
        return value

    @model_validator(mode="after")
    def _documented_substitution(self):
        if self.substituted and not self.substituteNote:
            raise ValueError("a substitution needs its substituteNote")
        if self.productCode and not self.substituted:
            raise ValueError("productCode names a substitute: set substituted to true")
        return self


class Dispense(Body):
    medicines: list[DispenseItem] = Field(min_length=1, max_length=50)


class Complete(Body):
    notes: Annotated[str, Field(max_length=2000, pattern=PLAIN)] | None = None
    patientCounseled: bool | None = None


class Unavailable(Body):
    medicineId: Identifier
    reason: Text
    alternativeSuggested: Text | None = None


class Return(Body):
    reason: Text


class Collect(Body):
    collectedBy: ShortText | None = None


class NewEntry(Body):
    code: Annotated[str, Field(pattern=r"^(RX|AUT|rx|aut)-[A-Za-z0-9-]{1,26}$")]
    priority: Literal[PRIORITIES] | None = None
    departmentId: Identifier | None = None
    departmentName: Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN)] | None = None


@bp.errorhandler(queue.QueueError)
def answer_refusal(error):
    """Seed 002's errors: its status and `code` (also as `error_code`, the BFF's one shape), and a message."""
    body = {"code": error.code, "error_code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return body, error.status


@bp.before_request
def authenticate():
    """Every route but the document needs `Authorization: Bearer <dispensing widget session token>`."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise queue.QueueError(401, "UNAUTHORIZED", "Send a dispensing widget session: 'Authorization: Bearer "
                                                    "<token>'.")
    try:
        session = sessions.load_session(token.strip(), "dispensing")
    except ApiError as error:
        if error.status == 401:
            raise queue.QueueError(401, "UNAUTHORIZED", error.message) from None
        raise queue.QueueError(403, "FORBIDDEN", error.message) from None
    host_app = host_apps.by_id(session.host_app_id)
    g.pharmacy_actor = queue.Actor(session.user, host_app.id, queue.tenant_of(host_app))


@bp.before_request
def answer_options():
    """OPTIONS names the methods this API's own routes answer (Flask's would add the catch-all's below)."""
    if request.method != "OPTIONS":
        return None
    allowed = _methods_at(request.path)
    if not allowed:
        raise queue.QueueError(404, "NOT_FOUND", "No such route in the hospital-pharmacy API.")
    return Response(status=204, headers={"Allow": ", ".join([*allowed, "OPTIONS"])})


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"  # patient data
    return response


def permissions(user):
    """What the host app granted its user: user.permissions, else all three for a PHARMACIST and READ otherwise."""
    if user.get("permissions") is not None:
        return set(user["permissions"])
    return set(PERMISSIONS) if is_pharmacist(user) else {"DISPENSING:READ"}


def is_pharmacist(user):
    return str(user.get("role", "")).upper() == "PHARMACIST"


def require(permission, pharmacist=False):
    """The acting user, once they hold permission (and the PHARMACIST role when asked); else 403 FORBIDDEN."""
    actor = g.pharmacy_actor
    if f"DISPENSING:{permission}" not in permissions(actor.user):
        raise queue.QueueError(403, "FORBIDDEN", f"This needs the DISPENSING:{permission} permission.")
    if pharmacist and not is_pharmacist(actor.user):
        raise queue.QueueError(403, "FORBIDDEN", "Only a PHARMACIST may start dispensing.")
    return actor


def body(model):
    """The JSON body checked against model; 400 INVALID_REQUEST naming each field that is wrong."""
    try:
        return model.model_validate(parse_json(request.get_data() or b"{}"))
    except ApiError as error:
        raise queue.QueueError(400, "INVALID_REQUEST", error.message) from None
    except ValidationError as error:
        raise queue.QueueError(400, "INVALID_REQUEST", "Missing or invalid fields.", [
            {"field": ".".join(str(part) for part in item["loc"]) or "body", "issue": item["msg"]}
            for item in error.errors(include_url=False)]) from None


def paging():
    page, limit = _int_arg("page", 1), _int_arg("limit", 20)
    if limit > MAX_LIMIT:
        raise _bad_query("limit", f"at most {MAX_LIMIT}")
    return page, limit


def pagination(page, limit, total):
    return {"page": page, "limit": limit, "total": total, "totalPages": (total + limit - 1) // limit}


def _int_arg(name, default):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise _bad_query(name, "a whole number from 1")
    return int(raw)


def text_arg(name):
    """A free-text filter: short, and without control characters (PostgreSQL refuses NUL)."""
    value = request.args.get(name)
    if value is not None and (len(value) > MAX_QUERY_TEXT or not re.fullmatch(PLAIN, value)):
        raise _bad_query(name, f"at most {MAX_QUERY_TEXT} characters, without control characters")
    return value


def choice_arg(name, choices, default=None):
    value = request.args.get(name, default)
    if value is not None and value not in choices:  # a case the caller did not mean: URGENT for urgent
        value = next((choice for choice in choices if choice.lower() == value.lower()), value)
    if value is not None and value not in choices:
        raise _bad_query(name, f"one of {', '.join(choices)}")
    return value


def moment_arg(name, end=False):
    """A date (the whole day) or an ISO 8601 date-time in the query; None when absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime(day.year, day.month, day.day) + (timedelta(days=1) if end else timedelta())
            return aware(moment)
        return aware(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        raise _bad_query(name, "a date (2026-11-29) or a date-time (2026-11-29T10:00:00Z)") from None


def _bad_query(name, what):
    return queue.QueueError(400, "INVALID_REQUEST", f"{name} must be {what}.", [{"field": name, "issue": what}])


@bp.get("/dispensing/pending")
def pending():
    """The tenant's queue: pending prescriptions, one page, with the summary figures."""
    actor = require("READ")
    page, limit = paging()
    now = utcnow()
    entries, total, summary = queue.pending_page(
        actor.tenant, page, limit, priority=choice_arg("priority", PRIORITIES),
        department_id=text_arg("departmentId"), sort_by=choice_arg("sortBy", SORT_FIELDS, "createdAt"),
        sort_order=choice_arg("sortOrder", ("asc", "desc"), "asc"))
    return {"data": [row_json(entry, now) for entry in entries], "pagination": pagination(page, limit, total),
            "summary": summary}


@bp.post("/dispensing/pending")
def add_code():
    """Queue a code issued elsewhere: the BFF reads its prescription from Osigu."""
    actor = require("CREATE")
    new = body(NewEntry)
    code = new.code.upper()
    existing = queue.by_code(actor.tenant, code)
    if existing is not None:
        return record_json(existing), 200
    entry_id = queue.new_id()
    read = completion.read_code(actor.host_app_id, ("read", entry_id), code)
    person = read.get("patient") or read.get("beneficiary") or {}
    department = {"id": new.departmentId, "name": new.departmentName or new.departmentId} if new.departmentId \
        else None
    entry = queue.add(
        tenant=actor.tenant, host_app_id=actor.host_app_id, source="api", code=read["code"],
        code_type=read["code_type"], upstream_id=None, priority=new.priority, department=department,
        patient={"id": person.get("patient_id") or person.get("beneficiary_id"),
                 "firstName": person.get("first_name"), "lastName": person.get("last_name")},
        doctor={"id": None, "name": None},
        medicines=[queue.new_medicine(product["prescribed_product_code"],
                                      product.get("prescribed_product_name") or product["name"],
                                      product["prescribed_quantity"], product.get("posology"),
                                      product.get("substitution_allowed", True))
                   for product in read["products"]],
        actor=actor, entry_id=entry_id)
    try:
        db.session.commit()
    except IntegrityError:  # queued by a concurrent request meanwhile: that entry is the one
        db.session.rollback()
        return record_json(queue.by_code(actor.tenant, read["code"])), 200
    return record_json(entry), 201


@bp.get("/dispensing/history")
def history():
    """The tenant's dispensing records, newest first, filtered."""
    actor = require("READ")
    page, limit = paging()
    entries, total = queue.history_page(
        actor.tenant, page, limit, pharmacist_id=text_arg("pharmacistId"),
        patient_id=text_arg("patientId"), start=moment_arg("startDate"), end=moment_arg("endDate", end=True),
        status=choice_arg("status", STATUSES))
    now = utcnow()
    return {"data": [row_json(entry, now) for entry in entries], "pagination": pagination(page, limit, total)}


@bp.get("/dispensing/<prescription_id>")
def record(prescription_id):
    """One dispensing record, with its audit history."""
    actor = require("READ")
    return record_json(queue.find(actor.tenant, prescription_id))


@bp.post("/dispensing/<prescription_id>/start")
def start(prescription_id):
    """Take the prescription: PENDING → DISPENSING, locked to this pharmacist."""
    actor = require("CREATE", pharmacist=True)
    return record_json(queue.start(actor, prescription_id))


@bp.post("/dispensing/<prescription_id>/dispense")
def dispense(prescription_id):
    """Record what is handed over, line by line; stock is taken from the lots."""
    actor = require("CREATE")
    items = [item.model_dump(exclude_none=True) for item in body(Dispense).medicines]
    entry = queue.dispense(actor, prescription_id, items)
    out = record_json(entry)
    out["totalDispensed"] = sum(1 for medicine in entry.medicines if medicine["dispensedQuantity"])
    out["totalPending"] = sum(1 for medicine in entry.medicines if medicine["status"] == queue.ITEM_PENDING)
    return out


@bp.post("/dispensing/<prescription_id>/unavailable")
def unavailable(prescription_id):
    """Mark a medicine out of stock; the prescribing doctor is told through the host app's callback."""
    actor = require("CREATE")
    marked = body(Unavailable)
    medicine = queue.mark_unavailable(actor, prescription_id, marked.medicineId, marked.reason,
                                      marked.alternativeSuggested)
    return {"medicineId": medicine["id"], "status": medicine["status"], "reason": medicine["unavailableReason"],
            "alternativeSuggested": medicine["alternativeSuggested"]}


@bp.post("/dispensing/<prescription_id>/return")
def send_back(prescription_id):
    """Give the prescription back to the queue (only before anything was dispensed)."""
    actor = require("UPDATE")
    entry = queue.send_back(actor, prescription_id, body(Return).reason)
    return {"id": entry.id, "prescriptionId": entry.code, "status": entry.status,
            "returnedAt": iso(entry.returned_at)}


@bp.post("/dispensing/<prescription_id>/complete")
def complete(prescription_id):
    """Finish: Osigu redeems the code with what was dispensed, then the record is DISPENSED."""
    actor = require("CREATE")
    done = body(Complete)
    return record_json(completion.complete(actor, prescription_id, done.notes, done.patientCounseled))


@bp.post("/dispensing/<prescription_id>/collect")
def collect(prescription_id):
    """The patient (or a nurse) picked it up: DISPENSED → COLLECTED."""
    actor = require("UPDATE")
    return record_json(queue.collect(actor, prescription_id, body(Collect).collectedBy))


@bp.get("/inventory")
def stock():
    """The tenant's lots, by product then expiry."""
    actor = require("READ")
    page, limit = paging()
    product_code = text_arg("productCode")
    lots, total = inventory.page(actor.tenant, page, limit, product_code and product_code.upper())
    today = date.today()
    return {"data": [inventory.lot_json(lot, today) for lot in lots], "pagination": pagination(page, limit, total)}


class AnyPathConverter(PathConverter):
    """A path of any characters, line breaks included (path's does not match those, and the app's 404 would)."""

    regex = "(?s:[^/].*?)"


@bp.route("/<any_path:_unknown>", methods=UNKNOWN_METHODS)
def unknown(_unknown):
    """Anything else under /api is NOT_FOUND, or METHOD_NOT_ALLOWED on a route, in this API's error shape."""
    allowed = _methods_at(request.path)
    if not allowed:
        raise queue.QueueError(404, "NOT_FOUND", "No such route in the hospital-pharmacy API.")
    message = f"{request.path} answers {', '.join(allowed)}."
    return {"code": "METHOD_NOT_ALLOWED", "error_code": "METHOD_NOT_ALLOWED", "message": message}, 405, \
        {"Allow": ", ".join(allowed)}


def _methods_at(path):
    """The methods the API's own routes (not the catch-all above) answer at path."""
    adapter = current_app.url_map.bind("localhost")
    allowed = []
    for method in UNKNOWN_METHODS:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint != "pharmacy_api.unknown":
            allowed.append(method)
    return allowed


@bp.get("/openapi.yaml")
def openapi_document():
    """This API's OpenAPI 3.1 document (public: it holds no data)."""
    return Response(OPENAPI.read_text(encoding="utf-8"), mimetype="application/yaml")
