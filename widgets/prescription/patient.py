"""Step 1, the patient: from the host's context, else looked up by document, else created."""

import re
from datetime import date

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bff.contexts import DOCUMENT_NUMBER, DOCUMENT_TYPES, UPSTREAM_ID
from bff.upstream import UpstreamError, path
from widgets.flow import idempotency_key
from widgets.forms import validate
from widgets.search import as_you_type
from widgets.session import upstream

from . import birth_date, bp
from .draft import flow, version

# The market follows the prescription version the host app is set to: v1 is the Latin-American market
# (Colombia's documents), v1.1 Portugal, v2 Spain. Each offers the identity documents used there.
MARKET_DOCUMENT_TYPES = {
    "v1": {"CC": _l("Citizenship card (CC)"), "CE": _l("Foreigner ID card (CE)"),
           "TI": _l("Identity card, minors (TI)"), "RC": _l("Birth registration (RC)"), "PA": _l("Passport")},
    "v1.1": {"CC": _l("Citizen card (CC)"), "PA": _l("Passport")},
    "v2": {"DNI": _l("National ID (DNI)"), "NIE": _l("Foreigner ID number (NIE)"), "PA": _l("Passport")},
}
MAX_NAME = 100
MAX_EMAIL = 200
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
FIELD_ERRORS = {
    "first_name": _l("Enter the patient's first name, at most %(max)s characters.", max=MAX_NAME),
    "last_name": _l("Enter the patient's last name, at most %(max)s characters.", max=MAX_NAME),
    "document_type": _l("Choose one of the document types offered."),
    "document_number": _l("Use 3 to 30 letters, digits or dashes."),
    "date_of_birth": _l("Enter a real date of birth, not in the future."),
    "email": _l("Enter a valid e-mail address of at most %(max)s characters, or leave it empty.", max=MAX_EMAIL),
}


def document_types():
    """The identity documents of this session's market, {code: name}."""
    return MARKET_DOCUMENT_TYPES[version()]


class NewPatient(BaseModel):
    """The create form, checked here first so the doctor gets messages in their own language."""

    model_config = ConfigDict(str_strip_whitespace=True)
    first_name: str = Field(min_length=1, max_length=MAX_NAME)
    last_name: str = Field(min_length=1, max_length=MAX_NAME)
    document_type: str
    document_number: str = Field(pattern=DOCUMENT_NUMBER)
    date_of_birth: date
    email: str | None = Field(default=None, pattern=EMAIL, max_length=MAX_EMAIL)

    @field_validator("email", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return value or None

    @field_validator("document_type")
    @classmethod
    def _of_this_market(cls, value):
        if value not in document_types():
            raise ValueError("not a document of this market")
        return value

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _in_the_sessions_order(cls, value):
        return birth_date.parse(value) if isinstance(value, str) else value

    @field_validator("date_of_birth")
    @classmethod
    def _plausible(cls, value):
        if not birth_date.plausible(value):
            raise ValueError("implausible date of birth")
        return value


def summary(patient):
    """Keep what the widget shows of a patient; the e-mail itself stays with Osigu."""
    return {key: patient[key] for key in ("patient_id", "first_name", "last_name", "document_type",
                                          "document_number", "date_of_birth")} | {"has_email": bool(patient["email"])}


def find(document_number, document_type=None):
    """Look patients up by document number (and type); raises UpstreamError."""
    params = {"document_number": document_number} | ({"document_type": document_type} if document_type else {})
    return upstream().get_json("/ehr/v1/patients", **params)["data"]


@flow.on_start
def patient_from_host(current):
    """A new draft takes the patient the host app named, when Osigu knows them, and goes on to the diagnoses."""
    given = g.widget_session.context.get("patient")
    if current.patient is None and given:
        current.patient = patient_from_context(given)
        if current.patient:
            current.step = "diagnoses"


def patient_from_context(given):
    """Resolve the patient the host app named (by patient_id, or by document); None when Osigu has none."""
    try:
        if given.get("patient_id"):
            return summary(upstream().get_json(path("/ehr/v1/patients/{}", given["patient_id"])))
        if given.get("document_number"):
            found = find(str(given["document_number"]), given.get("document_type"))
            return summary(found[0]) if len(found) == 1 else None
    except (UpstreamError, KeyError, TypeError):
        return None  # the doctor looks the patient up instead
    return None


def fixed_by_host():
    """Whether the host app named the patient and Osigu knew them: then the doctor cannot change them."""
    return bool(g.widget_session.context.get("patient")) and bool(flow.draft().patient)


@flow.renders("patient")
def render_patient(status=200, alert=None, **context):
    """Render the patient step; a patient the host named but Osigu lacks is searched already, to register."""
    given = g.widget_session.context.get("patient") or {}
    types = document_types()
    context.setdefault("values", {"document_type": given.get("document_type", next(iter(types))),
                                  "document_number": given.get("document_number", "")})
    if given and not flow.draft().patient and "creating" not in context:
        context |= host_patient_search(given)
    return flow.render_step("patient", status, alert, document_types=types, from_host=fixed_by_host(),
                            errors=context.pop("errors", {}), **context)


def host_patient_search(given):
    """The search for the patient the host app named, as if the doctor had typed it (shown on the patient step)."""
    if not given.get("document_number"):
        return {"host_patient_missing": True}
    try:
        results = find(given["document_number"], given.get("document_type"))
    except UpstreamError as error:
        return {"preset": {"results": [], "alert": flow.alert(error)}}
    return {"preset": {"results": results, "number": given["document_number"],
                       "document_type": given.get("document_type")}}


@bp.get("/patient/search")
def search_patients():
    """Find patients by document number, as the doctor types it."""
    number = request.args.get("document_number", "").strip()
    document_type = request.args.get("document_type") if request.args.get("document_type") in DOCUMENT_TYPES else None
    searched = bool(re.fullmatch(DOCUMENT_NUMBER, number))
    results, alert = as_you_type(lambda: find(number, document_type), flow.alert, ready=searched)
    return render_template("prescription/_patient_results.html", results=results, searched=searched,
                           number=number, document_type=document_type, alert=alert, document_types=document_types(),
                           malformed=len(number) >= 3 and not searched)


@bp.post("/patient/select")
def select_patient():
    """Use the patient the doctor picked from the results."""
    if fixed_by_host():
        return flow.show("diagnoses")
    patient_id = request.form.get("patient_id", "")
    if not re.fullmatch(UPSTREAM_ID, patient_id):
        return render_patient(422)
    try:
        patient = upstream().get_json(path("/ehr/v1/patients/{}", patient_id))
    except UpstreamError as error:
        return flow.refuse(render_patient, error)
    flow.draft().patient = summary(patient)
    return flow.show("diagnoses")


@bp.post("/patient/new")
def create_patient():
    """Create the patient in Osigu (an identical one already on file is simply returned)."""
    if fixed_by_host():
        return flow.show("diagnoses")
    values = request.form.to_dict()
    form, errors = validate(NewPatient, values, FIELD_ERRORS)
    if errors:
        return render_patient(422, creating=True, values=values, errors=errors,
                              date_echo=birth_date.echo(values.get("date_of_birth")))
    try:
        body = form.model_dump(mode="json", exclude_none=True)
        patient = upstream().request("POST", "/ehr/v1/patients", json=body,
                                     idempotency_key=idempotency_key("patient", body)).json()
    except UpstreamError as error:
        return flow.refuse(render_patient, error, creating=True, values=values)
    flow.draft().patient = summary(patient)
    return flow.show("diagnoses")


@bp.post("/patient/change")
def change_patient():
    """Choose another patient (not one the host app fixed in the session)."""
    if not fixed_by_host():
        flow.draft().patient = None
    return flow.show("patient")
