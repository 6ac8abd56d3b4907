"""What a host app may tell a widget in a session's `context`: one model per widget, checked at creation.

A context is stored and later read by every step, so it is refused whole (422 naming the field) when it
has an unknown key, a wrong type or a value of the wrong shape, rather than failing the steps later.
The shapes here are also the ones the widget forms check their own fields against.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Shapes of the values a widget passes on to Osigu (ids land in upstream paths: no slash, dot or percent).
UPSTREAM_ID = r"^[A-Za-z0-9_-]{1,64}$"
ICD10_CODE = r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"
PRODUCT_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$"
DOCUMENT_NUMBER = r"^[A-Za-z0-9-]{3,30}$"
# Every identity document Osigu's patient registry accepts (a widget offers the ones of its host app's market).
DOCUMENT_TYPES = ("CC", "CE", "TI", "RC", "PA", "DNI", "NIE", "CURP", "CI", "RNC", "NIT")
DOSE_UNITS = ("tablet", "capsule", "ml", "drop", "puff", "sachet", "application")
EVERY_HOURS = (4, 6, 8, 12, 24, 48, 72)
MAX_DIAGNOSES = 10  # what Osigu accepts on one prescription
MAX_LINES = 20
MAX_QUANTITY = 1000

UpstreamId = Annotated[str, Field(pattern=UPSTREAM_ID)]
Icd10Code = Annotated[str, Field(pattern=ICD10_CODE)]
ProductCode = Annotated[str, Field(pattern=PRODUCT_CODE)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
ShortText = Annotated[str, Field(min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FhirReferences(Strict):
    """The host's own FHIR resources the outcome refers to, when it reports as FHIR (outcome_format "fhir")."""

    patient: str | None = Field(default=None, pattern=r"^Patient/[A-Za-z0-9.-]{1,64}$")
    encounter: str | None = Field(default=None, pattern=r"^Encounter/[A-Za-z0-9.-]{1,64}$")


class Patient(Strict):
    """The host's patient: by Osigu's patient_id, or by identity document."""

    patient_id: UpstreamId | None = None
    document_type: Literal[DOCUMENT_TYPES] | None = None
    document_number: str | None = Field(default=None, pattern=DOCUMENT_NUMBER)

    @model_validator(mode="after")
    def _one_way(self):
        if (self.patient_id is None) == (self.document_number is None):
            raise ValueError("give either patient_id or document_type and document_number")
        if self.patient_id and self.document_type:
            raise ValueError("document_type goes with document_number, not with patient_id")
        return self


class Department(Strict):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: ShortText


class Posology(Strict):
    dose: float = Field(gt=0, le=1000)
    unit: Literal[DOSE_UNITS]
    every_hours: Literal[EVERY_HOURS]
    duration_days: Annotated[int, Field(ge=1, le=365)]


class Medication(Strict):
    product_code: ProductCode
    quantity: Quantity | None = None
    posology: Posology | None = None


class PrescriptionContext(Strict):
    patient: Patient | None = None
    priority: Literal["ROUTINE", "URGENT", "STAT"] | None = None
    department: Department | None = None
    diagnoses: list[Icd10Code] = Field(default_factory=list, max_length=MAX_DIAGNOSES)
    medications: list[Medication] = Field(default_factory=list, max_length=MAX_LINES)
    repeat_of: UpstreamId | None = None
    fhir: FhirReferences | None = None


class DispensingContext(Strict):
    code: str | None = Field(default=None, pattern=r"^(RX|AUT)-[0-9]{4}-[0-9]{6,8}$")
    mode: Literal["queue"] | None = None
    department_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    fhir: FhirReferences | None = None


class Product(Strict):
    product_code: ProductCode
    quantity: Quantity


class PreauthContext(Strict):
    sponsor: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,50}$")
    beneficiary: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")],
                      Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=10)
    products: list[Product] = Field(default_factory=list, max_length=MAX_LINES)
    diagnoses: list[Icd10Code] = Field(default_factory=list, max_length=MAX_DIAGNOSES)
    preauthorization_id: UpstreamId | None = None  # a request this host user started in an earlier session
    coverage_assertion_id: UpstreamId | None = None  # the CDS Hooks coverage answer this request follows
    fhir: FhirReferences | None = None


class _Prescription(Strict):
    context: PrescriptionContext


class _Dispensing(Strict):
    context: DispensingContext


class _Preauth(Strict):
    context: PreauthContext


MODELS = {"prescription": _Prescription, "dispensing": _Dispensing, "preauth": _Preauth}


def validate(widget, context):
    """Return widget's context as stored (only the keys given); raise ValidationError naming context.<field>."""
    checked = MODELS[widget].model_validate({"context": context}).context
    return checked.model_dump(mode="json", exclude_unset=True)

