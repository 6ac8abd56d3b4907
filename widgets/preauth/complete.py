"""The request sent: review, complete once, the decision per group followed until the pended ones are decided,
reject-fix-retry, and resuming a request an earlier session started (the sign-off between is in verify.py)."""

from flask import current_app, g, render_template, request

from bff import ownership, preauth_decisions, sessions
from bff.db import WidgetSession, db
from bff.upstream import UpstreamError, path
from widgets.flow import idempotency_key
from widgets.outcome import announce, for_host, succeed, succeeded
from widgets.session import host_app, upstream

from . import bp, indications
from .draft import (
    COMPLETED,
    DRAFT,
    PENDING_VERIFICATION,
    PreauthDraft,
    document_summary,
    first_unfinished,
    flow,
)
from .messages import decision_reason

FIRST_POLL_SECONDS = 2
LAST_POLL_SECONDS = 60  # the wait doubles from the first to this, and stays there
STOP_POLLING = 286  # htmx stops polling an element answered with this status


@bp.get("/start")
def start():
    """Carry on the request the host app named (context.preauthorization_id), else the session's own draft."""
    given = g.widget_session.context.get("preauthorization_id")
    if given and flow.existing() is None and (earlier := draft_of(given)) is not None:
        sessions.resume_flow(g.widget_session, earlier.flow_id)
    return flow.resume()


def draft_of(preauthorization_id):
    """The draft of this request made by a session of the same host app and user, or None."""
    session = g.widget_session
    return db.session.scalars(
        db.select(PreauthDraft).join(WidgetSession, WidgetSession.flow_id == PreauthDraft.flow_id)
        .filter(PreauthDraft.preauthorization_id == preauthorization_id,
                WidgetSession.host_app_id == session.host_app_id, WidgetSession.widget == session.widget,
                WidgetSession.user["id"].as_string() == session.user["id"])
        .order_by(PreauthDraft.updated_at.desc()).limit(1)).first()


@flow.renders("review")
def render_review(status=200, alert=None):
    """Render the review: everything the sponsor will receive, and the one button that sends it."""
    return flow.render_step("review", status, alert)


@flow.renders("done")
def render_done(status=200, alert=None, wait=FIRST_POLL_SECONDS):
    """Render the sponsor's decision per group, and the attempts it rejected before."""
    return flow.render_step("done", status, alert, **result_context(flow.draft(), wait))


def result_context(current, wait=FIRST_POLL_SECONDS):
    """What the result shows: each group with its products' names and the decision in plain words."""
    names = {line["product_code"]: line["name"] for line in current.products}
    groups = [item | {"names": [names.get(code, code) for code in item["product_codes"]],
                      "plain_reason": decision_reason(item.get("reason"))}
              for item in current.outcome["authorizations"]]
    return {"outcome": current.outcome, "groups": groups, "history": current.history, "wait": wait,
            "pending": any(item["status"] == "PENDING" for item in groups)}


def outcome_of(preauthorization):
    """The success outcome DESIGN.md fixes: ids and codes only, one entry per group the sponsor decided."""
    authorizations = []
    for item in preauthorization["authorizations"]:
        entry = {"authorization_code": None if item["status"] == "REJECTED" else item["authorization_code"],
                 "status": item["status"], "product_codes": [line["product_code"] for line in item["products"]]}
        if item["reason"]:
            entry["reason"] = item["reason"]
        if item["expires_at"]:
            entry["expires_at"] = item["expires_at"]
        authorizations.append(entry)
    statuses = {item["status"] for item in authorizations}
    if statuses == {"APPROVED"}:
        status = "APPROVED"
    elif "APPROVED" in statuses:
        status = "PARTIALLY_APPROVED"
    elif "PENDING" in statuses:
        status = "PENDING"
    else:
        status = "REJECTED"
    return {"preauthorization_id": preauthorization["preauthorization_id"], "status": status,
            "authorizations": authorizations}


@bp.post("/complete")
def complete():
    """Send the request once (a double click or a retry replays the first answer), then show the decision."""
    current = flow.draft()
    if current.outcome:
        return succeeded(render_done(), current.outcome, current)
    if first_unfinished(current) not in ("review", "verify"):
        return flow.show("review")
    body = {"preauthorization_id": current.preauthorization_id, "attempt": current.attempt,
            "after": current.upstream_status}  # after the sign-off, completing is another request
    try:
        answer = upstream().request("POST", path("/arc/v1/preauthorizations/{}/complete", current.preauthorization_id),
                                    idempotency_key=idempotency_key("complete", body))
        completed = answer.parsed
    except UpstreamError as error:
        if error.error_code == "061-111":  # completed already, by an answer this BFF never received
            return _completed(current, upstream().get_json(path("/arc/v1/preauthorizations/{}",
                                                                current.preauthorization_id)))
        if error.error_code in ("061-112", "061-113"):  # Osigu lacks what this draft believed attached
            return _refuse_with_what_osigu_has(current, error)
        return flow.refuse(render_review, error)
    if answer.status_code == 202:
        current.upstream_status = PENDING_VERIFICATION
        return flow.show("verify")
    return _completed(current, completed)


def _refuse_with_what_osigu_has(current, error):
    """Show the documents as Osigu has them (changed through another door) on the step that attaches them; its
    Continue sends the indication again."""
    try:
        found = upstream().get_json(path("/arc/v1/preauthorizations/{}", current.preauthorization_id))
    except UpstreamError:
        return flow.refuse(render_review, error)
    current.documents, current.step = [document_summary(item) for item in found["documents"]], "indications"
    db.session.commit()  # refusing renders only
    return flow.refuse(indications.render_indications, error)


def _completed(current, preauthorization):
    """Record the decision as the outcome, queue the callback and tell the host page (success)."""
    if preauthorization["status"] != COMPLETED:
        current.upstream_status = preauthorization["status"]
        return flow.show("review")
    current.upstream_status, current.outcome = COMPLETED, outcome_of(preauthorization)
    current.step = "done"
    return succeed(render_done, current, kind="preauthorization", upstream_id=current.preauthorization_id,
                   callback="widget.preauth.completed", key=f"{current.preauthorization_id}-{current.attempt}")


@bp.get("/result")
def poll_result():
    """The decision as it stands: pended groups are asked for again, less and less often, until all are decided."""
    current = flow.draft()
    if not current.outcome:
        return flow.show("review")
    wait = min(max(request.args.get("wait", FIRST_POLL_SECONDS, type=int), FIRST_POLL_SECONDS), LAST_POLL_SECONDS)
    before = {item["authorization_code"]: item for item in current.outcome["authorizations"]
              if item["status"] == "PENDING"}
    decided = []
    if before and _worth_asking(current, before, wait):
        ownership.require_own("preauthorization", current.preauthorization_id)
        try:
            fetched = upstream().get_json(path("/arc/v1/preauthorizations/{}", current.preauthorization_id))
            if fetched["attempt"] == current.attempt:
                current.outcome = outcome_of(fetched)
        except UpstreamError:
            pass  # asked again at the next poll
        decided = [_decision(current, code, item) for code, item in
                   ((code, _now_of(current.outcome, pended)) for code, pended in before.items())
                   if item["status"] != "PENDING"]
        db.session.commit()
    context = result_context(current, wait=min(wait * 2, LAST_POLL_SECONDS))
    if not decided:
        return current_app.make_response((render_template("preauth/_result.html", **context),
                                          200 if context["pending"] else STOP_POLLING))
    # A decision changes the step's heading too: the whole step is shown again (it polls on while one is pended).
    response = render_done(wait=context["wait"])
    response.status_code = 200 if context["pending"] else STOP_POLLING
    response.headers.update({"HX-Retarget": "#widget", "HX-Reswap": "innerHTML"})
    # One event for every group decided since the last poll: widget.js posts authorization_decided for each.
    return announce(response, "osigu:authorization_decided", {"decisions": decided})


def _worth_asking(current, pended, wait):
    """Whether to ask Osigu now: not while its webhook, which has reported decisions on this request, has reported
    none on the pended groups (they are still pended), but at the longest wait in any case (a webhook may be lost)."""
    reported = {item["authorization_code"] for item in preauth_decisions.decisions(current.preauthorization_id)}
    return not reported or bool(reported & pended.keys()) or wait >= LAST_POLL_SECONDS


def _now_of(outcome, pended):
    """The pended group as the outcome has it now: by its code, or by its products once rejected (a rejected group
    has no code in the outcome)."""
    return next(item for item in outcome["authorizations"] if item["authorization_code"] == pended["authorization_code"]
                or (item["authorization_code"] is None and item["product_codes"] == pended["product_codes"]))


def _decision(current, code, item):
    """The authorization_decided event's data: its code and status (and reason); for a host app taking FHIR also
    the Bundle with the group's ClaimResponse, now A1 or A3."""
    found = {"authorization_code": code, "status": item["status"]} | ({"reason": item["reason"]} if item.get("reason")
                                                                       else {})
    if host_app().outcome_format == "fhir":
        found["bundle"] = for_host({"preauthorization_id": current.preauthorization_id, "status": item["status"],
                                    "authorizations": [item | {"authorization_code": code}]}, current)
    return found


@bp.post("/reopen")
def reopen():
    """Reopen a request the sponsor rejected whole, to fix its indication or documents and send it again."""
    current = flow.draft()
    if not current.outcome or current.outcome["status"] != "REJECTED":
        return flow.show("done" if current.outcome else "review")
    body = {"preauthorization_id": current.preauthorization_id, "attempt": current.attempt}
    try:
        reopened = upstream().request("POST", path("/arc/v1/preauthorizations/{}/reopen", current.preauthorization_id),
                                      idempotency_key=idempotency_key("reopen", body)).parsed
    except UpstreamError as error:
        return flow.refuse(render_done, error)
    current.history = [*current.history, {"attempt": current.attempt, "authorizations": current.outcome[
        "authorizations"]}]
    current.outcome, current.upstream_status, current.attempt = None, DRAFT, reopened["attempt"]
    current.documents = [document_summary(item) for item in reopened["documents"]]
    return flow.show("indications")


@bp.post("/cancel")
def cancel():
    """Leave the widget without sending; once sent there is nothing to cancel, so the decision is shown."""
    return flow.cancel(drop_request)


def drop_request(current):
    """Drop the request being prepared: the draft at Osigu is never completed, so it authorizes nothing."""
    current.sponsor = current.beneficiary = current.preauthorization_id = current.initiated_for = None
    current.products, current.diagnoses, current.documents, current.notes = [], [], [], ""
