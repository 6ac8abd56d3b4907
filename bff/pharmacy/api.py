"""Seed 002's hospital-pharmacy API under /api: camelCase JSON over queue.py, inventory.py and completion.py."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.exc import IntegrityError

from .. import host_apps, sessions
from ..bodies import parse_json
from ..db import aware, db, utcnow
from ..errors import ApiError
from . import completion, inventory, queue
from .models import PRIORITIES, STATUSES

bp = Blueprint("pharmacy_api", __name__, url_prefix="/api")

PERMISSIONS = ("DISPENSING:READ", "DISPENSING:CREATE", "DISPENSING:UPDATE")
PUBLIC_ENDPOINTS = ("pharmacy_api.openapi_document",)
OPENAPI = Path(__file__).with_name("openapi.yaml")
SORT_FIELDS = ("createdAt", "priority", "waitingTime", "medicineCount")
MAX_LIMIT = 100

Text = Annotated[str, Field(min_length=1, max_length=500)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class DispenseItem(Body):
    medicineId: Annotated[str, Field(min_length=1, max_length=40)]
    dispensedQuantity: Annotated[int, Field(ge=0, le=1000)]
    batchNumber: Annotated[str, Field(pattern=inventory.BATCH_NUMBER.pattern)] | None = None
    expiryDate: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    substituted: bool = False
    substituteNote: Text | None = None
    productCode: Annotated[str, Field(pattern=inventory.PRODUCT_CODE.pattern)] | None = None  # the substitute

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
    notes: Annotated[str, Field(max_length=2000)] | None = None
    patientCounseled: bool | None = None


class Unavailable(Body):
    medicineId: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Text
    alternativeSuggested: Text | None = None


class Return(Body):
    reason: Text


class Collect(Body):
    collectedBy: ShortText | None = None


class NewEntry(Body):
    code: Annotated[str, Field(min_length=1, max_length=30)]
    priority: Literal[PRIORITIES] | None = None
    departmentId: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    departmentName: Annotated[str, Field(min_length=1, max_length=100)] | None = None


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


def _choice(name, choices, default=None):
    value = request.args.get(name, default)
    if value is not None and value not in choices:
        raise _bad_query(name, f"one of {', '.join(choices)}")
    return value


def _moment(name, end=False):
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


def iso(moment):
    return moment and aware(moment).isoformat().replace("+00:00", "Z")


def _patient(entry):
    patient = entry.patient
    name = " ".join(part for part in (patient.get("firstName"), patient.get("lastName")) if part) or None
    return {"id": patient.get("id"), "name": name, "firstName": patient.get("firstName"),
            "lastName": patient.get("lastName")}


def medicine_json(tenant, medicine):
    """A medicine with its stock now and, while units are still to hand over, the lots to take them from."""
    out = {key: medicine[key] for key in (
        "id", "productCode", "name", "dosage", "prescribedQuantity", "dispensedQuantity", "status", "substituted",
        "substituteNote", "unavailableReason", "alternativeSuggested", "batches")}
    product_code = medicine["dispensedProductCode"] or medicine["productCode"]
    latest = medicine["batches"][-1] if medicine["batches"] else {}
    out |= {"dispensedProductCode": medicine["dispensedProductCode"], "batchNumber": latest.get("batchNumber"),
            "expiryDate": latest.get("expiryDate"), "availableStock": inventory.available(tenant, product_code)}
    still = medicine["prescribedQuantity"] - medicine["dispensedQuantity"]
    out["suggestedBatches"] = (inventory.suggest(tenant, product_code, still)
                               if still and medicine["status"] != queue.ITEM_UNAVAILABLE else [])
    return out


def row_json(entry, now=None):
    """An entry as the pending list and the history show it."""
    return {
        "id": entry.id, "prescriptionId": entry.code, "status": entry.status, "patient": _patient(entry),
        "doctor": entry.doctor, "medicineCount": len(entry.medicines), "priority": entry.priority,
        "department": entry.department, "createdAt": iso(entry.created_at),
        "waitingTime": queue.waiting_minutes(entry, now), "assignedTo": entry.assigned_to,
        "startedAt": iso(entry.started_at), "completedAt": iso(entry.completed_at),
    }


def record_json(entry):
    """The whole dispensing record: prescription, patient, medicines, who holds it, times, notes, history."""
    redemption = completion.redemption_of(entry)
    return {
        "id": entry.id, "prescriptionId": entry.code, "status": entry.status,
        "prescription": {"id": entry.upstream_id, "code": entry.code, "codeType": entry.code_type,
                         "source": entry.source, "priority": entry.priority, "department": entry.department,
                         "doctor": entry.doctor, "createdAt": iso(entry.created_at),
                         "cancelledByPrescriber": entry.prescription_cancelled},
        "patient": _patient(entry),
        "medicines": [medicine_json(entry.tenant, medicine) for medicine in entry.medicines],
        "priority": entry.priority, "assignedTo": entry.assigned_to, "completedBy": entry.completed_by,
        "createdAt": iso(entry.created_at), "waitingTime": queue.waiting_minutes(entry),
        "startedAt": iso(entry.started_at), "returnedAt": iso(entry.returned_at),
        "completedAt": iso(entry.completed_at), "collectedAt": iso(entry.collected_at),
        "collectedBy": entry.collected_by, "cancelledAt": iso(entry.cancelled_at),
        "notes": entry.notes, "patientCounseled": entry.patient_counseled,
        "redemption": redemption,
        "history": [{"at": iso(event.at), "action": event.action, "fromStatus": event.from_status,
                     "toStatus": event.to_status, "user": event.user, "hostAppId": event.host_app_id,
                     "details": event.details} for event in queue.audit_trail(entry.id)],
    }


@bp.get("/dispensing/pending")
def pending():
    """The tenant's queue: pending prescriptions, one page, with the summary figures."""
    actor = require("READ")
    page, limit = paging()
    now = utcnow()
    entries, total, summary = queue.pending_page(
        actor.tenant, page, limit, priority=_choice("priority", PRIORITIES),
        department_id=request.args.get("departmentId"), sort_by=_choice("sortBy", SORT_FIELDS, "createdAt"),
        sort_order=_choice("sortOrder", ("asc", "desc"), "asc"))
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
    read = completion.read_code(actor.host_app_id, ("pharmacy", entry_id), code)
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
        actor.tenant, page, limit, pharmacist_id=request.args.get("pharmacistId"),
        patient_id=request.args.get("patientId"), start=_moment("startDate"), end=_moment("endDate", end=True),
        status=_choice("status", STATUSES))
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
    product_code = request.args.get("productCode")
    lots, total = inventory.page(actor.tenant, page, limit, product_code and product_code.upper())
    today = date.today()
    return {"data": [inventory.lot_json(lot, today) for lot in lots], "pagination": pagination(page, limit, total)}


@bp.get("/openapi.yaml")
def openapi_document():
    """This API's OpenAPI 3.1 document (public: it holds no data)."""
    return Response(OPENAPI.read_text(encoding="utf-8"), mimetype="application/yaml")
