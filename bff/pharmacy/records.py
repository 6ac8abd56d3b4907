"""Queue entries as seed 002's camelCase JSON: the list rows and the whole dispensing record.

Shared by the API and, in process, the dispensing widget's worklist.
"""

from ..db import aware
from . import completion, inventory, queue


def iso(moment):
    """An ISO 8601 UTC time with Z, or None."""
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
