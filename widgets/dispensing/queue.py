"""The hospital pharmacy's worklist (context mode "queue"): the tenant's queue, refreshing itself, and the history.

Every rule is bff/pharmacy/queue.py's, called in process, never over HTTP: the pharmacist's lock, seed
002's transitions, stock taken by lot, completion redeemed at Osigu once (one entry: queue_entry.py).
This module lists, filters, and says each of the queue's refusals in the pharmacist's language.
"""

from flask import g, render_template, request
from flask_babel import gettext as _

from bff.db import utcnow
from bff.pharmacy import api as pharmacy_api
from bff.pharmacy import queue, records
from bff.pharmacy.models import CANCELLED, COLLECTED, DISPENSED, DISPENSING, PENDING, PRIORITIES, STATUSES
from widgets.flow import INVALID
from widgets.session import host_app

from . import bp
from .draft import flow
from .messages import known_errors, refusal_messages

PAGE = 20
POLL_SECONDS = 10  # how often an open worklist asks for the queue again
# The worklist's orders: (sortBy, sortOrder) of the queue's pending page; urgent first unless asked otherwise.
SORTS = {"urgent": ("priority", "desc"), "oldest": ("createdAt", "asc"), "newest": ("createdAt", "desc"),
         "medicines": ("medicineCount", "desc")}
OPEN_LINES = (queue.ITEM_PENDING, queue.ITEM_PARTIAL)


def labels():
    """What the pharmacist reads for each priority, status and medicine status."""
    return {
        "ROUTINE": _("Routine"), "URGENT": _("Urgent"), "STAT": _("STAT (now)"),
        PENDING: _("Waiting"), DISPENSING: _("Being dispensed"), DISPENSED: _("Ready for collection"),
        COLLECTED: _("Collected"), CANCELLED: _("Cancelled"),
        queue.ITEM_PARTIAL: _("Partly dispensed"), queue.ITEM_UNAVAILABLE: _("Unavailable"),
        "sort-urgent": _("Urgent first"), "sort-oldest": _("Oldest first"), "sort-newest": _("Newest first"),
        "sort-medicines": _("Most medicines first"),
    }


def item_label(status):
    """A medicine's status (its PENDING and DISPENSED read differently from an entry's)."""
    if status == queue.ITEM_PENDING:
        return _("To dispense")
    return _("Dispensed") if status == queue.ITEM_DISPENSED else labels()[status]


def refusal_alert(error):
    """The alert for a queue.QueueError: its code worded for the pharmacist, and what to do next."""
    details = error.details if isinstance(error.details, dict) else {}
    holder = (details.get("assignedTo") or {}).get("name")
    messages = {
        "NOT_FOUND": _("This prescription is not in your pharmacy's queue."),
        "ALREADY_STARTED": _("%(name)s is already dispensing this prescription.", name=holder) if holder
        else _("This prescription is no longer waiting: someone took it."),
        "PRESCRIPTION_CANCELLED": known_errors()["081-124"],
        "INSUFFICIENT_STOCK": _("Not enough units in stock for this quantity. Choose another lot, dispense fewer, "
                                "or mark the medicine unavailable."),
        "EXPIRED_BATCH": _("This lot has expired: do not hand it over. Choose another lot."),
        "QUANTITY_EXCEEDS_PRESCRIBED": refusal_messages()["QUANTITY_EXCEEDS_PRESCRIBED"],
        "NOT_ASSIGNED": _("%(name)s holds this prescription: only they can change it.", name=holder) if holder
        else _("Start dispensing this prescription first."),
        "INCOMPLETE_DISPENSING": _("Dispense every medicine, or mark it unavailable, before you complete."),
        "ALREADY_DISPENSED": _("Part of this medicine was handed over: it can no longer be marked unavailable."),
        "PARTIALLY_DISPENSED": _("Medicines were already handed over: the prescription cannot go back to the "
                                 "queue. Complete it instead."),
        "INVALID_STATUS": _("This prescription is no longer being dispensed."),
        "INVALID_REQUEST": _("This cannot be recorded as entered. Check the product, lot and expiry."),
        "FORBIDDEN": _("Your user may not do this. Ask your administrator for the pharmacist's permissions."),
        "VERIFICATION_REQUIRED": _("The sponsor asks to verify the beneficiary before Osigu redeems this code. "
                                   "Complete again to verify them."),
        "OSIGU_UNAVAILABLE": refusal_messages()["UPSTREAM_UNAVAILABLE"],
        "REDEMPTION_REFUSED": refusal_messages().get(details.get("reason"))
        or _("Osigu refused to redeem this code. Nothing was completed."),
    }
    message = messages.get(error.code) or _("This could not be done. Try again.")
    return {"message": message, "code": error.code, "retryable": error.code == "OSIGU_UNAVAILABLE"}


def acting(permission, pharmacist=False):
    """This session's user as the queue's actor, once they hold permission; else queue.QueueError FORBIDDEN."""
    found = host_app()
    g.pharmacy_actor = queue.Actor(g.widget_session.user, found.id, queue.tenant_of(found))
    return pharmacy_api.require(permission, pharmacist)


def me():
    return g.widget_session.user.get("id")


@bp.before_request
def open_worklist():
    """In queue mode the widget opens at the worklist where the counter opens at the code step."""
    if request.endpoint == "dispensing.resume" and g.widget_session.context.get("mode") == "queue":
        return worklist()
    return None


# The worklist

def filters():
    """The worklist's filters from the query (the session's department until one is chosen), checked."""
    args, context = request.args, g.widget_session.context
    sort = args.get("sort") if args.get("sort") in SORTS else "urgent"
    page = args.get("page", "")
    return {"priority": args.get("priority") if args.get("priority") in PRIORITIES else "",
            "departmentId": department_filter() or context.get("department_id", ""),
            "sort": sort, "page": int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1}


def department_filter():
    """The department chosen in the filters, if it is one a department id can be (else none)."""
    try:
        return pharmacy_api.text_arg("departmentId")
    except queue.QueueError:
        return None


def worklist_lists(actor):
    """The filtered page of pending entries, the summary, and the entries being dispensed or awaiting collection."""
    chosen, now = filters(), utcnow()
    sort_by, sort_order = SORTS[chosen["sort"]]
    entries, total, summary = queue.pending_page(actor.tenant, chosen["page"], PAGE, priority=chosen["priority"],
                                                 department_id=chosen["departmentId"], sort_by=sort_by,
                                                 sort_order=sort_order)
    in_progress = queue.history_page(actor.tenant, 1, PAGE, status=DISPENSING)[0]
    ready = queue.history_page(actor.tenant, 1, PAGE, status=DISPENSED)[0]
    return {"filters": chosen, "summary": summary, "total": total, "pages": max(1, (total + PAGE - 1) // PAGE),
            "rows": [records.row_json(entry, now) for entry in entries],
            "in_progress": [records.row_json(entry, now) for entry in in_progress],
            "ready": [records.row_json(entry, now) for entry in ready],
            "me": me(), "labels": labels(), "poll_seconds": POLL_SECONDS}


@bp.get("/queue")
def worklist(status=200, alert=None, notice=None):
    """Render the worklist: filters, and the queue's list (which refreshes itself)."""
    try:
        actor = acting("READ")
    except queue.QueueError as error:
        return flow.render_step("queue", INVALID, refusal_alert(error), forbidden=True)
    return flow.render_step("queue", status, alert, departments=queue.departments(actor.tenant), sorts=SORTS,
                            priorities=PRIORITIES, notice=notice, **worklist_lists(actor))


@bp.get("/queue/list")
def worklist_list():
    """The queue's list alone: what the worklist polls, and what its filters ask for."""
    try:
        actor = acting("READ")
    except queue.QueueError:
        return "", 286  # htmx stops polling: this user may no longer read the queue
    return render_template("dispensing/queue_list.html", **worklist_lists(actor))


# The history

def history_rows(actor):
    """One page of the tenant's dispensing records for the history's filters (named as the API names them)."""
    args = request.args
    page = args.get("page", "")
    chosen = {name: (pharmacy_api.text_arg(name) or "").strip() for name in ("status", "patientId", "pharmacistId",
                                                                              "startDate", "endDate")}
    chosen["page"] = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    entries, total = queue.history_page(
        actor.tenant, chosen["page"], PAGE, pharmacist_id=chosen["pharmacistId"], patient_id=chosen["patientId"],
        start=chosen["startDate"] and pharmacy_api.moment_arg("startDate"),
        end=chosen["endDate"] and pharmacy_api.moment_arg("endDate", end=True),
        status=chosen["status"] and pharmacy_api.choice_arg("status", STATUSES))
    now = utcnow()
    return {"filters": chosen, "rows": [records.row_json(entry, now) for entry in entries], "total": total,
            "pages": max(1, (total + PAGE - 1) // PAGE), "labels": labels(), "me": me()}


@bp.get("/queue/history")
def history():
    """Render the history of the tenant's dispensing records, with its filters."""
    try:
        return flow.render_step("queue_history", statuses=STATUSES, **history_rows(acting("READ")))
    except queue.QueueError as error:
        return flow.render_step("queue_history", INVALID, refusal_alert(error), statuses=STATUSES,
                                filters=request.args, rows=None, labels=labels())


@bp.get("/queue/history/list")
def history_list():
    """The history's list alone, for its filters."""
    try:
        return render_template("dispensing/queue_history_list.html", **history_rows(acting("READ")))
    except queue.QueueError as error:
        return render_template("dispensing/queue_history_list.html", alert=refusal_alert(error), rows=None)
