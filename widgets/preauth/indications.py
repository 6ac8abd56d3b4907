"""Step 4, the medical indication and the support documents: ICD-10 diagnoses (the shared search), clinical notes,
and the documents the sponsor requires, streamed through to Osigu as they are uploaded."""

import hashlib
import re

from flask import current_app, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from bff.contexts import MAX_DIAGNOSES, UPSTREAM_ID
from bff.db import db
from bff.upstream import UpstreamError, path
from widgets import search
from widgets.flow import INVALID, idempotency_key
from widgets.session import upstream

from . import bp, uploads
from .draft import DRAFT, document_summary, flow

MAX_NOTES = 2000  # what Osigu accepts


@flow.renders("indications")
def render_indications(status=200, alert=None, error=None, upload_error=None):
    """Render the indications step: diagnoses, notes, the documents required and those attached."""
    current = flow.draft()
    if current.sponsor is None:  # a form of this step posted after a cancel: the flow is back at its start
        return flow.show("indications")
    return flow.render_step("indications", status, alert, error=error, upload_error=upload_error,
                            max_diagnoses=MAX_DIAGNOSES, max_notes=MAX_NOTES, required=current.required_documents(),
                            document_types=document_types(current),
                            max_megabytes=format_decimal(max_bytes(current) / 1024 / 1024, "#,##0.#"))


def document_types(current):
    """The document types the sponsor knows, {type: label}, the ones these products require first."""
    kinds = {item["document_type"]: item["label"] for item in current.required_documents()}
    for documents in current.sponsor["support_documents"].values():
        kinds |= {document["document_type"]: document["label"] for document in documents if
                  document["document_type"] not in kinds}
    return kinds


def max_bytes(current):
    """The largest document the sponsor accepts."""
    return current.sponsor["document_rules"]["max_bytes"]


@bp.get("/diagnoses/search")
def search_diagnoses():
    """Search ICD-10 by code, words or a common synonym."""
    query = search.typed_query()
    results, alert = search.as_you_type(lambda: search.diagnoses(query), flow.alert,
                                        ready=len(query) >= search.MIN_QUERY)
    chosen = {item["diagnosis_code"] for item in flow.draft().diagnoses}
    return render_template("widgets/_diagnosis_results.html", add_url=url_for("preauth.add_diagnosis"),
                           results=results, query=query, chosen=chosen, alert=alert, full=len(chosen) >= MAX_DIAGNOSES)


@bp.post("/diagnoses/add")
def add_diagnosis():
    """Add the diagnosis the user picked, if it is an ICD-10 code."""
    current = flow.draft()
    current.diagnoses, error = search.with_picked_diagnosis(
        current.diagnoses, _("A request takes at most %(max)s diagnoses.", max=MAX_DIAGNOSES))
    if error:
        return render_indications(INVALID, error=error)
    return flow.show("indications")


@bp.post("/diagnoses/remove")
def remove_diagnosis():
    """Remove a diagnosis."""
    current = flow.draft()
    current.diagnoses = search.without_diagnosis(current.diagnoses)
    return flow.show("indications")


@bp.post("/indications")
def save_indications():
    """Attach the diagnoses and notes to the request at Osigu, then go on to the review."""
    current = flow.draft()
    notes = request.form.get("notes", "").strip()
    if len(notes) > MAX_NOTES:
        return render_indications(INVALID, error=_("Notes take at most %(max)s characters.", max=MAX_NOTES))
    current.notes = notes
    if not current.diagnoses or not _editable(current):
        return flow.show("indications")
    db.session.commit()  # the notes are kept even if Osigu refuses them now
    body = {"diagnoses": [{"diagnosis_code": item["diagnosis_code"]} for item in current.diagnoses],
            "notes": notes or None}
    try:
        upstream().request("PUT", path("/arc/v1/preauthorizations/{}/indications", current.preauthorization_id),
                           json=body, idempotency_key=idempotency_key("indications", body))
    except UpstreamError as error:
        return flow.refuse(render_indications, error)
    return flow.show("review")


def _editable(current):
    return current.preauthorization_id and current.upstream_status == DRAFT and not current.outcome


def upload_problem(refused, limit):
    """What the user is told of a refused upload."""
    if refused.reason == "too_large":
        return _("The file is larger than %(megabytes)s MB, the most the sponsor accepts.",
                 megabytes=format_decimal(limit / 1024 / 1024, "#,##0.#"))
    if refused.reason == "not_accepted":
        return _("Only PDF, JPEG and PNG files are accepted, and this file is none of them.")
    return _("Choose a file to upload.")


@bp.post("/documents")
def upload_document():
    """Attach a support document at Osigu, passed on as it arrives; refused in place when too large or of another
    type (uploads.py)."""
    current = flow.draft()
    if not _editable(current):
        return flow.show("indications")
    limit = max_bytes(current)
    upload = uploads.Upload(request.environ, limit, current_app.config["MAX_CONTENT_LENGTH"])
    try:
        upload.open()
        if upload.document_type not in document_types(current):
            upload.discard()
            return render_indications(INVALID, upload_error=_("Choose what kind of document this is."))
        key = idempotency_key("document", upload.key() | {"attempt": current.attempt})
        boundary = hashlib.sha256(key.encode()).hexdigest()[:32]  # a retry of the same upload sends the same body
        attached = upstream().request("POST", path("/arc/v1/preauthorizations/{}/documents",
                                                   current.preauthorization_id),
                                      data=upload.body(boundary), idempotency_key=key,
                                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}).parsed
    except uploads.Refused as refused:
        upload.discard()
        return render_indications(INVALID, upload_error=upload_problem(refused, limit))
    except UpstreamError as error:
        upload.discard()
        return flow.refuse(render_indications, error)
    if all(item["document_id"] != attached["document_id"] for item in current.documents):
        current.documents = [*current.documents, document_summary(attached)]
    return flow.show("indications")


@bp.post("/documents/remove")
def remove_document():
    """Detach a document before the request is completed."""
    current, document_id = flow.draft(), request.form.get("document_id", "")
    if not _editable(current) or not re.fullmatch(UPSTREAM_ID, document_id) or all(
            item["document_id"] != document_id for item in current.documents):
        return flow.show("indications")
    try:
        upstream().request("DELETE", path("/arc/v1/preauthorizations/{}/documents/{}", current.preauthorization_id,
                                          document_id))
    except UpstreamError as error:
        if error.status != 404:  # already gone at Osigu: forget it here too
            return flow.refuse(render_indications, error)
    current.documents = [item for item in current.documents if item["document_id"] != document_id]
    return flow.show("indications")
