"""The hospital pharmacy's queue: entries, seed 002's status transitions, the pharmacist's lock, the audit.

Both doors call this module: the JSON API (api.py) and the dispensing widget's worklist, in process.
Each change takes the entry's lock first (an UPDATE of its version: a row lock on PostgreSQL, the
write lock on SQLite, taken before anything is read), then checks the transition against the status
it reads, so two pharmacists starting the same entry at once find one winner and one ALREADY_STARTED.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from .. import fhir_outcomes, host_apps, outbox
from ..db import aware, db, utcnow
from . import inventory
from .models import CANCELLED, COLLECTED, DISPENSED, DISPENSING, PENDING, AuditEvent, QueueEntry

# Seed 002's status transitions, and what triggers each.
TRANSITIONS = {
    (PENDING, DISPENSING): "start",
    (PENDING, CANCELLED): "cancel",
    (DISPENSING, PENDING): "return",
    (DISPENSING, DISPENSED): "complete",
    (DISPENSED, COLLECTED): "collect",
}
# A medicine's own statuses.
ITEM_PENDING, ITEM_PARTIAL, ITEM_DISPENSED, ITEM_UNAVAILABLE = "PENDING", "PARTIALLY_DISPENSED", "DISPENSED", \
    "UNAVAILABLE"
UNAVAILABLE_CALLBACK = "widget.dispensing.medicine_unavailable"
COMPLETED_CALLBACK = "widget.dispensing.completed"
ENTRY_REF = re.compile(r"[A-Za-z0-9_-]{1,40}")
PRIORITY_RANK = {"STAT": 0, "URGENT": 1, "ROUTINE": 2}


class QueueError(Exception):
    """A refused request, with the seed's status and code."""

    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class Actor:
    """Who acts: the user a host app vouched for, the host app, and the tenant (Osigu client) it acts for."""

    user: dict
    host_app_id: str
    tenant: str

    def who(self):
        return {key: self.user.get(key) for key in ("id", "name", "role")}


def new_id():
    """A queue entry's id: the {prescriptionId} of every path."""
    return f"dq_{uuid.uuid4().hex[:24]}"


def new_medicine(product_code, name, quantity, dosage=None, substitution_allowed=True):
    """A medicine line of a new entry (substitutionAllowed: whether the prescriber lets the pharmacy substitute)."""
    return {"id": f"med_{uuid.uuid4().hex[:16]}", "productCode": product_code, "name": name, "dosage": dosage,
            "prescribedQuantity": quantity, "dispensedQuantity": 0, "status": ITEM_PENDING, "batches": [],
            "dispensedProductCode": None, "substituted": False, "substituteNote": None,
            "unavailableReason": None, "alternativeSuggested": None, "substitutionAllowed": substitution_allowed}


def add(*, tenant, host_app_id, source, code, code_type, upstream_id, priority, department, patient, doctor,
        medicines, created_at=None, actor=None, entry_id=None):
    """Put a prescription in the tenant's queue (PENDING) in the caller's transaction; once per code."""
    existing = by_code(tenant, code)
    if existing is not None:
        return existing
    entry = QueueEntry(id=entry_id or new_id(), tenant=tenant, host_app_id=host_app_id, source=source,
                       code=code, code_type=code_type, upstream_id=upstream_id, status=PENDING,
                       priority=priority or "ROUTINE", department=department, patient=patient, doctor=doctor,
                       medicines=medicines, created_at=created_at or utcnow(), queued_at=utcnow())
    db.session.add(entry)
    _audit(entry, "queued", None, PENDING, actor, host_app_id, {"source": source, "priority": entry.priority})
    return entry


def join_issued(session, prescription, patient, lines):
    """Queue a prescription the prescription widget just issued, when its context names a priority or department.

    Called by the widget in its issuing transaction (the widget commits); lines are the draft's.
    """
    context = session.context or {}
    if not (context.get("priority") or context.get("department")):
        return None
    host_app = host_apps.by_id(session.host_app_id)
    return add(
        tenant=tenant_of(host_app), host_app_id=host_app.id, source="widget", code=prescription["prescription_code"],
        code_type="PRESCRIPTION", upstream_id=prescription["prescription_id"], priority=context.get("priority"),
        department=context.get("department"),
        patient={"id": patient["patient_id"], "firstName": patient.get("first_name"),
                 "lastName": patient.get("last_name")},
        doctor={"id": session.user.get("id"), "name": session.user.get("name")},
        medicines=[new_medicine(line["product_code"], line.get("name") or line["product_code"], line["quantity"],
                                line.get("dosage"), line.get("substitution_allowed", True)) for line in lines],
        created_at=_parsed(prescription.get("created_at")), actor=Actor(session.user, host_app.id, tenant_of(host_app)))


def tenant_of(host_app):
    """The tenant a host app acts for: the Osigu client whose credentials it uses."""
    return host_apps.osigu_credentials(host_app, current_app.config)[0]


def by_code(tenant, code):
    return db.session.scalar(db.select(QueueEntry).filter_by(tenant=tenant, code=code))


def find(tenant, entry_id):
    """The tenant's entry by its id (or, as a convenience, by its display prescriptionId), or NOT_FOUND."""
    if not ENTRY_REF.fullmatch(entry_id):  # no id or code looks otherwise: not worth a query
        raise QueueError(404, "NOT_FOUND", "No prescription with this id in your pharmacy's queue.")
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or entry.tenant != tenant:
        entry = by_code(tenant, entry_id)
    if entry is None:
        raise QueueError(404, "NOT_FOUND", "No prescription with this id in your pharmacy's queue.")
    return entry


def locked(tenant, entry_id):
    """The entry, locked until the caller's transaction ends (see the module docstring)."""
    entry = find(tenant, entry_id)
    db.session.execute(db.update(QueueEntry).where(QueueEntry.id == entry.id)
                       .values(version=QueueEntry.version + 1))
    return db.session.get(QueueEntry, entry.id, populate_existing=True)


def start(actor, entry_id):
    """PENDING → DISPENSING: lock the entry to this pharmacist."""
    entry = locked(actor.tenant, entry_id)
    if entry.status == CANCELLED:
        raise _rollback(QueueError(400, "PRESCRIPTION_CANCELLED", "The prescription was cancelled by its prescriber."))
    if entry.status != PENDING:
        holder = entry.assigned_to or {}
        raise _rollback(QueueError(400, "ALREADY_STARTED", "Dispensing of this prescription is already in progress.",
                                   {"status": entry.status, "assignedTo": holder or None}))
    entry.assigned_to, entry.started_at = actor.who(), utcnow()
    _move(entry, DISPENSING, "started", actor)
    db.session.commit()
    return entry


def dispense(actor, entry_id, items):
    """Record units handed over (cumulative per medicine, partial allowed), taking them off the shelves."""
    entry = _changeable(actor, entry_id)
    medicines = [dict(medicine) for medicine in entry.medicines]
    by_id = {medicine["id"]: medicine for medicine in medicines}
    try:
        for item in items:
            _dispense_one(actor, entry, by_id, item)
    except inventory.StockError as error:
        raise _rollback(QueueError(400, error.code, _STOCK_MESSAGES[error.code], error.details)) from None
    except QueueError as error:
        raise _rollback(error) from None
    entry.medicines = medicines
    _audit(entry, "dispensed", entry.status, entry.status, actor, actor.host_app_id, {"medicines": items})
    _touch(entry)
    db.session.commit()
    return entry


_STOCK_MESSAGES = {"INSUFFICIENT_STOCK": "Not enough units of this product in stock.",
                   "EXPIRED_BATCH": "This batch has expired; it cannot be dispensed."}


def _dispense_one(actor, entry, by_id, item):
    medicine = by_id.get(item["medicineId"])
    if medicine is None:
        raise QueueError(404, "NOT_FOUND", "No medicine with this id on the prescription.",
                         {"medicineId": item["medicineId"]})
    if medicine["status"] == ITEM_UNAVAILABLE:
        raise QueueError(400, "INVALID_REQUEST", "This medicine was marked unavailable.",
                         {"medicineId": medicine["id"]})
    quantity = item["dispensedQuantity"]
    if medicine["dispensedQuantity"] + quantity > medicine["prescribedQuantity"]:
        raise QueueError(400, "QUANTITY_EXCEEDS_PRESCRIBED", "Cannot dispense more than prescribed.", {
            "medicineId": medicine["id"], "prescribedQuantity": medicine["prescribedQuantity"],
            "alreadyDispensed": medicine["dispensedQuantity"]})
    product_code = item.get("productCode") or medicine["dispensedProductCode"] or medicine["productCode"]
    if item.get("substituted") and product_code == medicine["productCode"]:
        raise QueueError(400, "INVALID_REQUEST", "A substitution names the product handed over instead (productCode).",
                         {"medicineId": medicine["id"]})
    if medicine["dispensedProductCode"] and product_code != medicine["dispensedProductCode"]:
        raise QueueError(400, "INVALID_REQUEST", "This medicine was already dispensed as another product.",
                         {"medicineId": medicine["id"], "productCode": medicine["dispensedProductCode"]})
    if item.get("expiryDate") and item.get("batchNumber") is None:
        raise QueueError(400, "INVALID_REQUEST", "An expiry date goes with its batchNumber.")
    taken = inventory.take(actor.tenant, product_code, quantity, item.get("batchNumber")) if quantity else []
    if item.get("expiryDate") and taken and taken[0]["expiryDate"] != item["expiryDate"]:
        raise QueueError(400, "INVALID_REQUEST", "The expiry date is not the one on record for this batch.",
                         {"batchNumber": item["batchNumber"], "expiryDate": taken[0]["expiryDate"]})
    medicine["batches"] = medicine["batches"] + taken
    medicine["dispensedQuantity"] += quantity
    medicine["dispensedProductCode"] = product_code if medicine["dispensedQuantity"] else None
    if product_code != medicine["productCode"]:
        medicine["substituted"], medicine["substituteNote"] = True, item.get("substituteNote")
    if medicine["dispensedQuantity"]:
        full = medicine["dispensedQuantity"] == medicine["prescribedQuantity"]
        medicine["status"] = ITEM_DISPENSED if full else ITEM_PARTIAL


def mark_unavailable(actor, entry_id, medicine_id, reason, alternative):
    """Record a medicine as out of stock (with an alternative, if any) and tell the prescriber's host app."""
    entry = _changeable(actor, entry_id)
    medicines = [dict(medicine) for medicine in entry.medicines]
    medicine = next((item for item in medicines if item["id"] == medicine_id), None)
    if medicine is None:
        raise _rollback(QueueError(404, "NOT_FOUND", "No medicine with this id on the prescription.",
                                   {"medicineId": medicine_id}))
    if medicine["dispensedQuantity"]:
        raise _rollback(QueueError(400, "ALREADY_DISPENSED", "This medicine was already dispensed.",
                                   {"medicineId": medicine_id}))
    medicine.update(status=ITEM_UNAVAILABLE, unavailableReason=reason, alternativeSuggested=alternative)
    entry.medicines = medicines
    _audit(entry, "unavailable", entry.status, entry.status, actor, actor.host_app_id,
           {"medicineId": medicine_id, "reason": reason, "alternativeSuggested": alternative})
    _notify_prescriber(entry, medicine)
    _touch(entry)
    db.session.commit()
    return medicine


def _notify_prescriber(entry, medicine):
    """The prescribing doctor hears of it through their host app's callback (committed with the change)."""
    host_app = host_apps.by_id(entry.host_app_id)
    if host_app is None or not host_app.callback_url:
        return
    outbox.enqueue(host_app.id, UNAVAILABLE_CALLBACK, {
        "entry_id": entry.id, "prescription_id": entry.upstream_id, "prescription_code": entry.code,
        "doctor_id": entry.doctor.get("id"), "medicine_id": medicine["id"], "product_code": medicine["productCode"],
        "reason": medicine["unavailableReason"], "alternative_suggested": medicine["alternativeSuggested"],
    }, key=f"{entry.id}:{medicine['id']}:{len(entry.medicines)}:{medicine['unavailableReason']}")


def send_back(actor, entry_id, reason):
    """DISPENSING → PENDING, only before anything was dispensed; the lock is released."""
    entry = _held(actor, entry_id)
    if any(medicine["dispensedQuantity"] for medicine in entry.medicines):
        raise _rollback(QueueError(400, "PARTIALLY_DISPENSED", "Cannot return after partial dispensing."))
    entry.assigned_to, entry.started_at, entry.returned_at, entry.queued_at = None, None, utcnow(), utcnow()
    _move(entry, PENDING, "returned", actor, {"reason": reason})
    db.session.commit()
    return entry


def request_completion(actor, entry_id, notes, counseled):
    """Check the entry may be completed and write down that the pharmacist asked to (before Osigu is called)."""
    entry = _held(actor, entry_id)
    waiting = [medicine["id"] for medicine in entry.medicines if medicine["status"] == ITEM_PENDING]
    if waiting:
        raise _rollback(QueueError(400, "INCOMPLETE_DISPENSING", "Not all medicines are dispensed or marked "
                                   "unavailable.", {"pendingMedicineIds": waiting}))
    if entry.prescription_cancelled:
        raise _rollback(QueueError(400, "PRESCRIPTION_CANCELLED", "The prescription was cancelled by its prescriber."))
    entry.completion = {"notes": notes, "patientCounseled": counseled, "user": actor.who(),
                        "hostAppId": actor.host_app_id}
    _touch(entry)
    db.session.commit()
    return entry


def finish_completion(entry_id, outcome):
    """DISPENSING → DISPENSED once Osigu redeemed the code (or nothing had to be); idempotent.

    The host app that queued the prescription hears `widget.dispensing.completed` with the dispensing
    outcome (DESIGN.md's, or its FHIR Bundle, plus the entry's id), in the same transaction.
    """
    db.session.execute(db.update(QueueEntry).where(QueueEntry.id == entry_id).values(version=QueueEntry.version + 1))
    entry = db.session.get(QueueEntry, entry_id, populate_existing=True)
    if entry.status != DISPENSING:
        db.session.rollback()
        return entry
    completion = entry.completion
    entry.notes, entry.patient_counseled = completion["notes"], completion["patientCounseled"]
    entry.completed_by, entry.completed_at = completion["user"], utcnow()
    actor = Actor(completion["user"], completion["hostAppId"], entry.tenant)
    _move(entry, DISPENSED, "completed", actor)
    host_app = host_apps.by_id(entry.host_app_id)
    if host_app is not None and host_app.callback_url:
        outcome = outcome | {
            "completed_at": outcome["completed_at"] or entry.completed_at.isoformat().replace("+00:00", "Z")}
        if host_app.outcome_format == "fhir":  # a MedicationDispense per line; a Bundle takes no foreign field
            outcome = {"bundle": fhir_outcomes.bundle("dispensing", outcome)}
        outbox.enqueue(host_app.id, COMPLETED_CALLBACK, outcome | {
            "entry_id": entry.id, "user_id": completion["user"]["id"]}, key=entry.id)
    db.session.commit()
    return entry


def collect(actor, entry_id, collected_by):
    """DISPENSED → COLLECTED: the patient (or a nurse for them) picked it up."""
    entry = locked(actor.tenant, entry_id)
    if entry.status != DISPENSED:
        raise _rollback(_wrong_status(entry))
    entry.collected_at, entry.collected_by = utcnow(), collected_by
    _move(entry, COLLECTED, "collected", actor, {"collectedBy": collected_by})
    db.session.commit()
    return entry


def cancel_by_prescriber(data):
    """PENDING → CANCELLED for Osigu's prescription.cancelled (in the webhook's transaction; it commits).

    An entry already being dispensed keeps its status (the table has no DISPENSING → CANCELLED) and is
    flagged: complete answers PRESCRIPTION_CANCELLED.
    """
    code, upstream_id = data.get("prescription_code"), data.get("prescription_id")
    conditions = [QueueEntry.code == code] if isinstance(code, str) and code else []
    if isinstance(upstream_id, str) and upstream_id:
        conditions.append(QueueEntry.upstream_id == upstream_id)
    if not conditions:
        return
    ids = db.session.scalars(db.select(QueueEntry.id).where(db.or_(*conditions))).all()
    for entry_id in ids:
        db.session.execute(db.update(QueueEntry).where(QueueEntry.id == entry_id)
                           .values(version=QueueEntry.version + 1))
        entry = db.session.get(QueueEntry, entry_id, populate_existing=True)
        details = {"reason": data.get("reason")}
        if entry.status == PENDING:
            entry.cancelled_at = utcnow()
            _move(entry, CANCELLED, "cancelled", None, details)
        elif entry.status == DISPENSING and not entry.prescription_cancelled:
            entry.prescription_cancelled = True
            _audit(entry, "prescription_cancelled", entry.status, entry.status, None, None, details)


def pending_page(tenant, page, limit, priority=None, department_id=None, sort_by="createdAt", sort_order="asc"):
    """The tenant's PENDING entries, one page, and the queue's summary figures (over the same filters)."""
    query = db.select(QueueEntry).where(QueueEntry.tenant == tenant, QueueEntry.status == PENDING)
    if priority:
        query = query.where(QueueEntry.priority == priority)
    if department_id:
        query = query.where(QueueEntry.department["id"].as_string() == department_id)
    entries = db.session.scalars(query).all()  # a ward's queue is short: sorted and counted here
    now = utcnow()
    keys = {"createdAt": lambda entry: aware(entry.created_at),
            "priority": lambda entry: -PRIORITY_RANK[entry.priority],
            "waitingTime": lambda entry: waiting_minutes(entry, now),
            "medicineCount": lambda entry: len(entry.medicines)}
    # Oldest first among equals, whichever way the field is sorted (Python's sort is stable, reversed too).
    entries.sort(key=keys["createdAt"])
    entries.sort(key=keys[sort_by], reverse=sort_order == "desc")
    waits = [waiting_minutes(entry, now) for entry in entries]
    summary = {"totalPending": len(entries),
               "urgent": sum(entry.priority in ("URGENT", "STAT") for entry in entries),
               "averageWaitTime": round(sum(waits) / len(waits), 1) if waits else 0}
    return entries[(page - 1) * limit: page * limit], len(entries), summary


def departments(tenant):
    """The departments the tenant's pending entries come from ({"id", "name"}, by name), for a worklist's filter."""
    found = db.session.scalars(db.select(QueueEntry.department).where(
        QueueEntry.tenant == tenant, QueueEntry.status == PENDING, QueueEntry.department.is_not(None))).all()
    unique = {department["id"]: department for department in found if department.get("id")}
    return sorted(unique.values(), key=lambda department: department.get("name") or department["id"])


def history_page(tenant, page, limit, pharmacist_id=None, patient_id=None, start=None, end=None, status=None):
    """The tenant's entries (newest first) that match every filter given, one page, and the total."""
    query = db.select(QueueEntry).where(QueueEntry.tenant == tenant)
    if status:
        query = query.where(QueueEntry.status == status)
    if start:
        query = query.where(QueueEntry.created_at >= start)
    if end:
        query = query.where(QueueEntry.created_at < end)
    if pharmacist_id:
        query = query.where(db.or_(QueueEntry.assigned_to["id"].as_string() == pharmacist_id,
                                   QueueEntry.completed_by["id"].as_string() == pharmacist_id))
    if patient_id:
        query = query.where(QueueEntry.patient["id"].as_string() == patient_id)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    entries = db.session.scalars(query.order_by(QueueEntry.created_at.desc(), QueueEntry.id)
                                 .offset((page - 1) * limit).limit(limit)).all()
    return entries, total


def audit_trail(entry_id):
    return db.session.scalars(db.select(AuditEvent).filter_by(entry_id=entry_id).order_by(AuditEvent.id)).all()


def waiting_minutes(entry, now=None):
    """Whole minutes the entry has waited in the queue (since it was queued, or returned to it)."""
    return max(0, int(((now or utcnow()) - aware(entry.queued_at)).total_seconds() // 60))


def _changeable(actor, entry_id):
    """_held, while no completion is under way: what Osigu is redeeming must not change under it."""
    entry = _held(actor, entry_id)
    if entry.completion is not None:
        raise _rollback(QueueError(400, "INVALID_STATUS", "Completion was asked: Osigu is redeeming what was "
                                   "dispensed. Complete again to finish it.", {"status": entry.status}))
    return entry


def withdraw_completion(entry_id):
    """Forget a completion Osigu refused for good, so that it is not resumed and the lines may be changed."""
    db.session.execute(db.update(QueueEntry).where(QueueEntry.id == entry_id, QueueEntry.status == DISPENSING)
                       .values(completion=None, version=QueueEntry.version + 1))
    db.session.commit()


def _held(actor, entry_id):
    """The entry, locked, being dispensed by this very pharmacist; else NOT_ASSIGNED or the status's error."""
    entry = locked(actor.tenant, entry_id)
    if entry.status != DISPENSING:
        raise _rollback(_wrong_status(entry))
    if (entry.assigned_to or {}).get("id") != actor.user.get("id"):
        raise _rollback(QueueError(403, "NOT_ASSIGNED", "This prescription is assigned to a different pharmacist.",
                                   {"assignedTo": entry.assigned_to}))
    return entry


def _wrong_status(entry):
    if entry.status == CANCELLED:
        return QueueError(400, "PRESCRIPTION_CANCELLED", "The prescription was cancelled by its prescriber.")
    if entry.status == PENDING:
        return QueueError(403, "NOT_ASSIGNED", "Start dispensing this prescription first: nobody holds it.",
                          {"status": entry.status})
    return QueueError(400, "INVALID_STATUS", f"Not allowed while the prescription is {entry.status}.",
                      {"status": entry.status})


def _move(entry, to_status, action, actor, details=None):
    if (entry.status, to_status) not in TRANSITIONS:
        raise ValueError(f"{entry.status} → {to_status} is not one of seed 002's transitions")
    _audit(entry, action, entry.status, to_status, actor, actor and actor.host_app_id, details)
    entry.status = to_status
    _touch(entry)


def _audit(entry, action, from_status, to_status, actor, host_app_id, details=None):
    db.session.add(AuditEvent(entry_id=entry.id, action=action, from_status=from_status, to_status=to_status,
                              user=actor and actor.who(), host_app_id=host_app_id, details=details))


def _touch(entry):
    entry.updated_at = utcnow()


def _rollback(error):
    """Release the entry's lock (and undo anything taken) before the refusal is answered."""
    db.session.rollback()
    return error


def _parsed(moment):
    return datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None

