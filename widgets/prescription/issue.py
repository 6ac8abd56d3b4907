"""The last steps: consent (v1.1), review, issuing exactly once, and the prescription once it exists (resent by
e-mail, or cancelled at Osigu so no pharmacy can dispense it)."""

import re
from datetime import datetime

from flask import current_app, g, request
from flask_babel import gettext as _

from bff import ownership
from bff.db import db
from bff.i18n import local_time
from bff.pharmacy import queue as pharmacy_queue
from bff.upstream import UpstreamError, path
from widgets.flow import idempotency_key
from widgets.outcome import call_back, exited, for_host, succeed, succeeded
from widgets.session import host_app, upstream

from . import bp, consents, posology, signing
from .draft import first_unfinished, flow, version
from .patient import EMAIL, MAX_EMAIL

PATHS = {"v1": "/ehr/v1/prescriptions", "v1.1": "/ehr/v1.1/prescriptions", "v2": "/ehr/v2/prescriptions"}
CANCELLED = "PRESCRIPTION_CANCELLED"
ALREADY_CANCELLED = "081-124"  # cancelled before, by another request: what was asked for is done


@flow.renders("consent")
def render_consent(status=200, alert=None, missing=False):
    """Render the patient-data consent step (v1.1 markets)."""
    return flow.render_step("consent", status, alert, missing=missing)


@flow.renders("review")
def render_review(status=200, alert=None):
    """Render the review step."""
    return flow.render_step("review", status, alert, describe=posology.describe, quantity_text=posology.quantity_text)


@flow.renders("done")
def render_done(status=200, alert=None, sent_to=None, email_error=None, confirm_cancel=False, already=False):
    """Render the prescription that was issued (asking to confirm its cancellation), or that it was cancelled."""
    outcome = flow.draft().outcome
    if outcome["status"] == CANCELLED:
        return flow.render_step("cancelled", status, alert, outcome=outcome, already=already)
    created = local_time(datetime.fromisoformat(outcome["created_at"].replace("Z", "+00:00")))
    return flow.render_step("done", status, alert, outcome=outcome, created=created, sent_to=sent_to,
                            email_error=email_error, confirm_cancel=confirm_cancel,
                            download_url=None if confirm_cancel else _download_url(outcome["prescription_id"]))


@bp.post("/consent")
def give_consent():
    """Record that the patient consents to the processing of their data."""
    current = flow.draft()
    current.consent = request.form.get("patient_data_consent") == "yes"
    if not current.consent:
        db.session.commit()
        return render_consent(422, missing=True)  # said beside the checkbox; nothing the host needs to hear
    if current.patient:
        consents.record(current.patient)  # not asked again for this patient here until it is due
    return flow.show("review")


@bp.post("/issue")
def issue():
    """Issue the prescription once: a double click or a retry replays the first answer, never a second one."""
    current = flow.draft()
    if current.outcome:
        return succeeded(render_done(), current.outcome, current)
    if first_unfinished(current) != "review":
        return flow.show("review")
    body = prescription_body(current)
    try:
        created = upstream().request("POST", PATHS[version()], json=body,
                                     idempotency_key=idempotency_key("prescription", body)).json()
    except UpstreamError as error:
        return flow.refuse(render_review, error)
    current.outcome = {key: created[key] for key in ("prescription_id", "prescription_code", "status", "created_at")}
    # With a priority/department context it joins the hospital pharmacy's queue, committed with the outcome.
    pharmacy_queue.join_issued(g.widget_session, created, current.patient, [
        line | {"dosage": posology.describe(line)} for line in current.lines])
    return succeed(render_done, current, kind="prescription", upstream_id=created["prescription_id"],
                   callback="widget.prescription.issued")


@bp.post("/resend")
def resend():
    """E-mail the prescription to the patient (or to the address the doctor typed)."""
    outcome = flow.draft().outcome
    if not outcome:
        return flow.show("review")
    ownership.require_own("prescription", outcome["prescription_id"])
    email = request.form.get("email", "").strip()
    if email and not (len(email) <= MAX_EMAIL and re.fullmatch(EMAIL, email)):
        return render_done(422, email_error=_("Enter a valid e-mail address of at most %(max)s characters, or leave "
                                              "it empty.", max=MAX_EMAIL))
    body = {"channel": "EMAIL"} | ({"email": email} if email else {})
    try:
        sent = upstream().request("POST", path("/ehr/v1/prescriptions/{}/resend", outcome["prescription_id"]),
                                  json=body, idempotency_key=idempotency_key("resend", body)).json()
    except UpstreamError as error:
        return flow.refuse(render_done, error)
    return render_done(sent_to=sent["sent_to"])


@bp.post("/cancel")
def cancel():
    """Leave the widget without issuing; once issued there is nothing to cancel, so the prescription is shown."""
    return flow.cancel(drop_prescription)


def drop_prescription(current):
    """Drop the prescription being written."""
    current.patient, current.diagnoses, current.lines, current.consent = None, [], [], False


@bp.get("/cancel-prescription")
def confirm_cancel_prescription():
    """Ask the doctor to confirm cancelling the issued prescription."""
    if not flow.draft().outcome:
        return flow.show("review")
    return render_done(confirm_cancel=True)


@bp.post("/cancel-prescription")
def cancel_prescription():
    """Cancel the issued prescription at Osigu once, so no pharmacy can dispense it; tell the host page and back end.

    A double click or a retry sends the same Idempotency-Key (Osigu replays its answer) or finds it
    recorded; either way the host hears the same exit again and owes one callback.
    """
    current = flow.draft()
    outcome = current.outcome
    if not outcome:
        return flow.show("review")
    already = False
    if outcome["status"] != CANCELLED:
        prescription_id = outcome["prescription_id"]
        ownership.require_own("prescription", prescription_id)
        try:
            upstream().request("POST", path("/ehr/v1/prescriptions/{}/cancel", prescription_id), json={},
                               idempotency_key=idempotency_key("cancel-prescription", {"id": prescription_id}))
        except UpstreamError as error:
            if error.error_code != ALREADY_CANCELLED:
                return flow.refuse(render_done, error)  # dispensed, or a pharmacy has it open: said in place
            already = True
        current.outcome = outcome = outcome | {"status": CANCELLED}
        cancelled = {"prescription_id": prescription_id, "code": outcome["prescription_code"]}
        if host_app().outcome_format == "fhir":  # its MedicationRequests, now cancelled
            cancelled = for_host(outcome, current)
        call_back("widget.prescription.cancelled", cancelled, key=prescription_id)  # committed with the cancellation
        db.session.commit()
    return exited(render_done(already=already), "prescription_cancelled", "done")


def prescription_body(current):
    """Build the createPrescription body for this session's version (v2: signed in the BFF)."""
    body = {
        "patient_id": current.patient["patient_id"],
        "doctor_id": g.widget_session.user["id"],
        "doctor_name": g.widget_session.user["name"],
        "diagnoses": [{"diagnosis_code": item["diagnosis_code"]} for item in current.diagnoses],
        "medications": [
            {"product_code": line["product_code"], "quantity": line["quantity"], "posology": posology.describe(line),
             "duration_days": line["duration_days"], "substitution_allowed": line["substitution_allowed"]}
            for line in current.lines
        ],
    }
    if version() == "v1.1":
        body["patient_data_consent"] = True
    if version() == "v2":
        app, config = host_app(), current_app.config
        body["national_repository_id"] = app.national_repository_id or config["OSIGU_NATIONAL_REPOSITORY_ID"]
        body["signed_hash"] = signing.signed_hash(app.signing_key_file or config["OSIGU_SIGNING_KEY_FILE"], body)
    return body


def _download_url(prescription_id):
    """The PDF link, fresh from Osigu (it is signed and expires)."""
    try:
        return upstream().get_json(path("/ehr/v1/prescriptions/{}", prescription_id))["download_url"]
    except UpstreamError:
        return None
