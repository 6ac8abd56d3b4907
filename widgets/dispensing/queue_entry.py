"""One worklist entry: start it (locked to this pharmacist), dispense line by line, unavailable, return, complete,
collect. Forms are checked with the hospital-pharmacy API's own body models; the rules are bff/pharmacy's."""

from datetime import date

from flask import render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from bff import redemption as redemptions
from bff.pharmacy import api as pharmacy_api
from bff.pharmacy import completion, inventory, queue, records
from bff.pharmacy.models import DISPENSED, DISPENSING
from widgets import verification
from widgets.flow import INVALID
from widgets.outcome import succeeded

from . import bp, gs1
from .draft import flow
from .products import expired_message, product, product_name, same_as
from .queue import OPEN_LINES, acting, item_label, labels, me, refusal_alert, worklist

# The substitution rule a hospital pharmacy applies to a prescription's line (Osigu checks it on redemption).
POLICIES = {"PRESCRIPTION": "SAME_INN_OTHER_BRAND"}


def field_messages(remaining):
    """What to fix, per field of a line's forms."""
    return {"dispensedQuantity": _("Type a whole number from 1 to %(max)s (what is still to hand over).",
                                   max=remaining),
            "batchNumber": _("Choose a lot."), "expiryDate": _("Type the expiry date as it is printed on the pack."),
            "substituteNote": _("Say why you substitute the prescribed product."),
            "productCode": _("Choose the prescribed product or one of the equivalents offered."),
            "reason": _("Say why (at most 500 characters)."),
            "alternativeSuggested": _("At most 500 characters."),
            "notes": _("At most 2000 characters."), "collectedBy": _("At most 200 characters.")}


def checked(model, values, remaining=0):
    """values checked by one of the API's body models: (body, {}) or (None, {field: message})."""
    try:
        return model.model_validate(values), {}
    except ValidationError as error:
        messages = field_messages(remaining)
        # A rule over the whole body (a substitution without its note) has no field: it is the note's.
        fields = [str(item["loc"][0]) if item["loc"] else "substituteNote" for item in error.errors()]
        return None, {field: messages.get(field, "") for field in fields}


def choices(entry, medicine):
    """The products a line may be handed over as: the one already handed over, else the prescribed one and, where
    the prescriber allows it, its equivalents under the code's substitution rule."""
    if medicine["dispensedProductCode"]:
        return [medicine["dispensedProductCode"]]
    if not medicine.get("substitutionAllowed", True):
        return [medicine["productCode"]]
    return [medicine["productCode"], *(item["product_code"] for item in
                                        same_as(medicine["productCode"], POLICIES.get(entry.code_type)))]


def line_view(entry, medicine, filled=None):
    """A medicine as its line shows it: status, what is left, the products it may be, and the lots to take from
    (first-expiry-first-out, the first one chosen unless a scan chose another)."""
    filled = filled or {}
    shown = records.medicine_json(entry.tenant, medicine)
    offered = choices(entry, medicine)
    chosen = filled.get("product_code") if filled.get("product_code") in offered else offered[0]
    lots = [{"batchNumber": lot.batch_number, "expiryDate": lot.expiry_date.isoformat(), "quantity": lot.quantity}
            for lot in inventory.usable_lots(entry.tenant, chosen)]
    if filled.get("lot") and all(lot["batchNumber"] != filled["lot"] for lot in lots):
        lots.append({"batchNumber": filled["lot"], "expiryDate": filled.get("expiry"), "quantity": None})
    return shown | {
        "label": item_label(medicine["status"]), "open": medicine["status"] in OPEN_LINES,
        "remaining": medicine["prescribedQuantity"] - medicine["dispensedQuantity"],
        "products": [{"code": code, "name": product_name(code)} for code in offered], "chosen": chosen,
        "lots": lots, "lot": filled.get("lot") or (lots[0]["batchNumber"] if lots else ""),
        "expiry": filled.get("expiry") or "", "note": filled.get("note", medicine["substituteNote"] or ""),
        "quantity": filled.get("quantity", medicine["prescribedQuantity"] - medicine["dispensedQuantity"]),
        "name": medicine["name"] or product_name(medicine["productCode"])}


def waiting_redemption(entry):
    """The entry's redemption while Osigu holds its completion for the beneficiary's verification, else None."""
    if entry.status != DISPENSING or entry.completion is None:
        return None
    redemption = redemptions.for_owner(entry.completion["hostAppId"], ("pharmacy", entry.id))
    return redemption if redemption is not None and redemption.status == redemptions.PENDING_VERIFICATION else None


def verification_of(entry):
    """The verification component for a held completion (its routes are queue_verify.py's), else None."""
    redemption = waiting_redemption(entry)
    if redemption is None:
        return None
    try:
        shown = verification.context(redemptions.verification(redemption))
    except redemptions.RedemptionError:
        return None  # Osigu cannot say now: completing again asks it again
    shown["urls"] = {name: url_for(f"{bp.name}.queue_verification.verification_{name}", entry=entry.id)
                     for name in ("status", "poll", "send_otp", "otp", "biometric")}
    return shown


def render_entry(entry, status=200, alert=None, filled=None, errors=None, **context):
    """Render an entry: who holds it, its medicines, and what this pharmacist may do with it now."""
    filled = filled or {}
    holder = entry.assigned_to or {}
    mine = entry.status == DISPENSING and holder.get("id") == me()
    context.setdefault("verification", verification_of(entry) if mine else None)
    lines = [line_view(entry, medicine, filled.get(medicine["id"])) for medicine in entry.medicines]
    return flow.render_step("queue_entry", status, alert, entry=records.row_json(entry), record=entry,
                            lines=lines, mine=mine, held_by_other=entry.status == DISPENSING and not mine,
                            first_open=first_to_dispense(entry) if mine else None,
                            any_open=mine and any(line["open"] for line in lines), errors=errors or {}, labels=labels(),
                            nothing_dispensed=not any(medicine["dispensedQuantity"] for medicine in entry.medicines),
                            **context)


def render_line(entry, medicine, filled):
    """One line's form alone: what choosing another product (and so other lots) swaps in."""
    return render_template("dispensing/queue_line.html", record=entry, line=line_view(entry, medicine, filled),
                           mine=True, first_open=first_to_dispense(entry), errors={})


def first_to_dispense(entry):
    """The first medicine nothing was done for yet: its Dispense is the step's primary action (then Complete)."""
    return next((medicine["id"] for medicine in entry.medicines if medicine["status"] == queue.ITEM_PENDING), None)


def requested_entry():
    """The entry a request names (query or form); queue.find looks it up in the session's tenant only."""
    return request.values.get("entry", "")[:64]


def found(entry_id):
    """The tenant's entry, for this session's reader; raises queue.QueueError."""
    return queue.find(acting("READ").tenant, entry_id)


def medicine_of(entry, medicine_id):
    return next((medicine for medicine in entry.medicines if medicine["id"] == medicine_id), None)


@bp.get("/queue/entry")
def entry_step():
    """Render one entry of the queue."""
    entry_id = requested_entry()
    try:
        return render_entry(found(entry_id))
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))


def invalid_form(entry_id, errors):
    """Show the entry again with what to fix in a form."""
    try:
        return render_entry(found(entry_id), INVALID, errors=errors)
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))


def refused_in_place(entry_id, error, **context):
    """Show a refusal on the entry (read again: the refusal rolled back whatever was tried)."""
    try:
        return render_entry(found(entry_id), INVALID, refusal_alert(error), **context)
    except queue.QueueError as missing:
        return worklist(INVALID, refusal_alert(missing))


@bp.post("/queue/start")
def start_entry():
    """Take the entry: it is locked to this pharmacist (another one's start is refused, naming who holds it)."""
    entry_id = requested_entry()
    try:
        return render_entry(queue.start(acting("CREATE", pharmacist=True), entry_id))
    except queue.QueueError as error:
        return refused_in_place(entry_id, error)


@bp.get("/queue/line")
def line_for_product():
    """A line's form for the product chosen (the prescribed one or an equivalent) with that product's lots."""
    entry_id = requested_entry()
    try:
        entry = found(entry_id)
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))
    medicine = medicine_of(entry, request.args.get("medicine", ""))
    mine = entry.status == DISPENSING and (entry.assigned_to or {}).get("id") == me()
    if medicine is None or not mine or medicine["status"] not in OPEN_LINES:
        response = render_entry(entry)  # the line is no longer this pharmacist's to change: the whole entry
        response.headers.update({"HX-Retarget": "#widget", "HX-Reswap": "innerHTML"})
        return response
    return render_line(entry, medicine, {"product_code": request.args.get("product_code", "")[:30]})


def typed_line():
    """A line's form as typed, kept to show it again beside what to fix."""
    form = request.form
    return {"product_code": form.get("product_code", "")[:30], "lot": form.get("batch_number", "")[:40],
            "expiry": form.get("expiry_date", "")[:10], "note": form.get("substitute_note", "")[:500],
            "quantity": form.get("quantity", "")[:6]}


@bp.post("/queue/dispense")
def dispense_line():
    """Hand over one line (all that is left, or part of it) from a lot; a substitution carries its note."""
    entry_id = requested_entry()
    try:
        entry = found(entry_id)
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))
    medicine = medicine_of(entry, request.form.get("medicine_id", ""))
    if medicine is None:
        return refused_in_place(entry_id, queue.QueueError(404, "NOT_FOUND", "No such medicine."))
    typed = typed_line()
    remaining = medicine["prescribedQuantity"] - medicine["dispensedQuantity"]
    product_code = typed["product_code"] or medicine["productCode"]
    substituted = product_code != medicine["productCode"]
    body, errors = checked(pharmacy_api.DispenseItem, {
        "medicineId": medicine["id"], "dispensedQuantity": int(typed["quantity"]) if typed["quantity"].isdigit()
        and 0 < int(typed["quantity"]) <= remaining else -1,
        "batchNumber": typed["lot"] or None, "expiryDate": typed["expiry"] or None, "substituted": substituted,
        "substituteNote": typed["note"].strip() or None, "productCode": product_code if substituted else None,
    }, remaining)
    if product_code not in choices(entry, medicine):
        errors["productCode"] = field_messages(remaining)["productCode"]
    if errors:
        return render_entry(entry, INVALID, filled={medicine["id"]: typed},
                            errors={f"{field}-{medicine['id']}": message for field, message in errors.items()})
    try:
        entry = queue.dispense(acting("CREATE"), entry.id, [body.model_dump(exclude_none=True)])
    except queue.QueueError as error:
        return refused_in_place(entry_id, error, filled={medicine["id"]: typed})
    return render_entry(entry, notice=_("%(quantity)s of %(name)s handed over.", quantity=body.dispensedQuantity,
                                        name=product_name(product_code)))


@bp.post("/queue/scan")
def scan_pack_for_line():
    """Fill product, lot and expiry of the open line whose product (or an equivalent) the scanned pack names."""
    entry_id = requested_entry()
    try:
        entry = found(entry_id)
    except queue.QueueError as error:
        return worklist(INVALID, refusal_alert(error))
    try:
        pack = gs1.read_pack(request.form.get("scan", ""))
    except gs1.Unreadable as error:
        return render_entry(entry, INVALID, scan_error=error.message)
    if pack.expiry and pack.expiry < date.today():
        return render_entry(entry, INVALID, scan_error=expired_message(pack.expiry))
    for medicine in entry.medicines:
        if medicine["status"] not in OPEN_LINES:
            continue
        match = next((code for code in choices(entry, medicine) if (product(code) or {}).get("gtin") == pack.gtin),
                     None)
        if match is not None:
            filled = {"product_code": match, "lot": pack.lot or "",
                      "expiry": pack.expiry.isoformat() if pack.expiry else ""}
            return render_entry(entry, filled={medicine["id"]: filled}, scanned=medicine["id"])
    return render_entry(entry, INVALID, scan_error=_("This pack is not one of the products on this code, nor an "
                                                      "equivalent allowed for them. Check the box."))


@bp.post("/queue/unavailable")
def mark_unavailable():
    """Mark a medicine out of stock, with an alternative for the prescriber (told through the host app)."""
    entry_id = requested_entry()
    form = request.form
    medicine_id = form.get("medicine_id", "")[:40]
    body, errors = checked(pharmacy_api.Unavailable, {
        "medicineId": medicine_id, "reason": form.get("reason", "").strip()[:501] or None,
        "alternativeSuggested": form.get("alternative", "").strip()[:501] or None})
    if errors:
        return invalid_form(entry_id, {f"{field}-{medicine_id}": message for field, message in errors.items()})
    try:
        queue.mark_unavailable(acting("CREATE"), entry_id, body.medicineId, body.reason,
                               body.alternativeSuggested)
    except queue.QueueError as error:
        return refused_in_place(entry_id, error)
    return render_entry(found(entry_id), notice=_("Marked unavailable; the prescriber is told."))


@bp.post("/queue/return")
def return_entry():
    """Give the entry back to the queue (only before anything was handed over): the lock is released."""
    entry_id = requested_entry()
    body, errors = checked(pharmacy_api.Return, {"reason": request.form.get("reason", "").strip()[:501] or None})
    if errors:
        return invalid_form(entry_id, {"reason-return": errors["reason"]})
    try:
        entry = queue.send_back(acting("UPDATE"), entry_id, body.reason)
    except queue.QueueError as error:
        return refused_in_place(entry_id, error)
    return worklist(notice=_("%(code)s is back in the queue.", code=entry.code))


@bp.post("/queue/complete")
def complete_entry():
    """Complete the entry: Osigu redeems what was handed over, once; the host page hears `success`."""
    entry_id = requested_entry()
    form = request.form
    body, errors = checked(pharmacy_api.Complete, {"notes": form.get("notes", "").strip()[:2001] or None,
                                                   "patientCounseled": form.get("patient_counseled") == "yes"})
    if errors:
        return invalid_form(entry_id, errors)
    try:
        entry = found(entry_id)
        if entry.status == DISPENSED and (entry.completed_by or {}).get("id") == me():
            return render_entry(entry)  # a double click, or a retry after a lost answer: completed once
        entry = completion.complete(acting("CREATE"), entry.id, body.notes, body.patientCounseled)
    except queue.QueueError as error:
        if error.code == "VERIFICATION_REQUIRED":
            return held_for_verification(entry_id, error)
        return refused_in_place(entry_id, error)
    return completed(entry)


def held_for_verification(entry_id, error):
    """The entry with the verification component in place of its Complete form: a step to take, not a refusal
    (the refusal's alert only when Osigu could not say what it asks; completing again asks again)."""
    try:
        entry = found(entry_id)
    except queue.QueueError as missing:
        return worklist(INVALID, refusal_alert(missing))
    shown = verification_of(entry)
    return render_entry(entry, verification=shown) if shown else refused_in_place(entry_id, error)


def completed(entry):
    """The completed entry; when Osigu redeemed its code, the dispensing outcome to the host page."""
    redemption = redemptions.for_owner(entry.completion["hostAppId"], ("pharmacy", entry.id))
    response = render_entry(entry, notice=_("Dispensed. The patient, or a nurse for them, may collect it."))
    if redemption is None or redemption.status != redemptions.DISPENSED:
        return response  # every medicine was unavailable: nothing to redeem
    # The host app's back end hears widget.dispensing.completed from the queue itself (bff/pharmacy/queue.py).
    return succeeded(response, redemptions.outcome(redemption))


@bp.post("/queue/collect")
def collect_entry():
    """The patient (or a nurse) picked it up."""
    entry_id = requested_entry()
    body, errors = checked(pharmacy_api.Collect,
                           {"collectedBy": request.form.get("collected_by", "").strip()[:201] or None})
    if errors:
        return invalid_form(entry_id, errors)
    try:
        entry = queue.collect(acting("UPDATE"), entry_id, body.collectedBy)
    except queue.QueueError as error:
        return refused_in_place(entry_id, error)
    return render_entry(entry, notice=_("Collected."))

