"""ePrescription patients: look up by document number, create with validation."""

import re
from datetime import date
from typing import Literal, get_args

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import errors, params
from .bodies import json_body
from .db import db, isoformat, new_id
from .models import Patient
from .oauth import require_oauth
from .pagination import paginate

bp = Blueprint("patients", __name__, url_prefix="/ehr/v1/patients")

# Identity documents used across Osigu's markets (Colombia, Spain, Mexico, Dominican Republic, ...).
DocumentType = Literal["CC", "CE", "TI", "RC", "PA", "DNI", "NIE", "CURP", "CI", "RNC", "NIT"]
DOCUMENT_TYPES = get_args(DocumentType)


class NewPatient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    document_type: DocumentType
    document_number: str = Field(pattern=r"^[A-Za-z0-9-]{3,30}$")
    date_of_birth: date
    sex: Literal["F", "M", "X"] | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value):
        today = date.today()
        if value > today:
            raise ValueError("date_of_birth cannot be in the future")
        if value.year < today.year - 130:
            raise ValueError("date_of_birth is more than 130 years ago")
        return value


def patient_json(patient):
    """Serialise a patient as the EHR endpoints return it."""
    return {
        "patient_id": patient.id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "document_type": patient.document_type,
        "document_number": patient.document_number,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "email": patient.email,
        "phone": patient.phone,
        "created_at": isoformat(patient.created_at),
    }


def _same_person(patient, body):
    """Tell whether a create request describes the patient already on file."""
    return (patient.first_name, patient.last_name, patient.date_of_birth) == (
        body.first_name, body.last_name, body.date_of_birth,
    )


@bp.get("")
@require_oauth("ehr:read")
def find_patients():
    """Look patients up by document number (and type, when two countries share a number)."""
    number = params.single("document_number") or ""
    if not re.fullmatch(r"[A-Za-z0-9-]{3,30}", number):
        raise errors.ApiError(
            422, errors.VALIDATION, "Give the patient's document_number to look them up.",
            [{"field": "document_number", "issue": "required, 3 to 30 letters, digits or dashes"}],
        )
    select = db.select(Patient).where(db.func.upper(Patient.document_number) == number.upper())
    if document_type := params.one_of("document_type", DOCUMENT_TYPES):
        select = select.where(Patient.document_type == document_type)
    return paginate(select.order_by(Patient.id), patient_json)


@bp.get("/<patient_id>")
@require_oauth("ehr:read")
def get_patient(patient_id):
    """Return one patient."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise errors.not_found(errors.PATIENT_NOT_FOUND, "Patient")
    return patient_json(patient)


@bp.post("")
@require_oauth("ehr:write")
def create_patient():
    """Create a patient; an identical one already on file is returned (200), a different one conflicts."""
    body = json_body(NewPatient)
    existing = db.session.scalar(
        db.select(Patient).filter_by(document_type=body.document_type, document_number=body.document_number)
    )
    if existing and _same_person(existing, body):
        return patient_json(existing), 200
    if existing:
        raise errors.ApiError(
            409, errors.PATIENT_ALREADY_EXISTS, "A patient with this document already exists.",
            {"patient_id": existing.id},
        )
    patient = Patient(id=new_id("pat"), **body.model_dump())
    db.session.add(patient)
    db.session.commit()
    return patient_json(patient), 201
