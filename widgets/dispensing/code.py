"""Step 1, the code: from the session's context (opened at once), typed, or scanned by a keyboard-wedge reader."""

import re

from biip import ParseError
from biip.symbology import SymbologyIdentifier
from flask import g, request
from flask_babel import gettext as _

from bff import redemption as redemptions
from bff.redemption import RedemptionError
from bff.upstream import UpstreamError, path
from widgets.flow import INVALID
from widgets.session import upstream

from . import bp, gs1
from .draft import OPEN, current_redemption, first_unfinished, flow
from .messages import refusal_alert

# What a wedge scanner may type around a code: control characters (STX/ETX framing, GS, CR/LF from a paste).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A scanner set up for a US keyboard on a Spanish or Portuguese layout types the dash's key as an apostrophe;
# a code copied from a document may carry a typographic dash.
DASHES = str.maketrans(dict.fromkeys("'\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
MAX_TYPED = 60


@flow.renders("code")
def render_code(status=200, alert=None, typed=None):
    """Render the code step: the open code, or the field a code is typed or scanned into."""
    session = g.widget_session
    refusal = g.pop("code_refusal", None)  # met opening the context's code in this request
    if refusal is not None and alert is None:
        status, alert = INVALID, refusal_alert(refusal)
    found = current_redemption()
    latest = redemptions.for_owner(session.host_app_id, ("widget", session.flow_id))
    timed_out = latest is not None and latest.status == redemptions.VOIDED and latest.void_reason == "TIMEOUT"
    is_open = found is not None and found.status in (*OPEN, redemptions.PENDING_VERIFICATION)
    value = typed if typed is not None else (flow.draft().code or session.context.get("code") or "")
    return flow.render_step("code", status, alert, open_code=found if is_open else None, typed=value,
                            timed_out=timed_out and not alert, next_step=first_unfinished(flow.draft()))


@flow.on_start
def open_from_context(current):
    """Open the host's code at once; a refusal is shown on the code step with the code filled in."""
    code = g.widget_session.context.get("code")
    if code and not current.code:
        try:
            open_code(current, code)
        except RedemptionError as error:
            g.code_refusal = error


@flow.on_discard
def void_earlier(earlier):
    """Free the code the unfinished dispensation holds, so that starting anew can open it."""
    session = g.widget_session
    found = redemptions.for_owner(session.host_app_id, ("widget", earlier.flow_id))
    if found is not None and found.status in (*OPEN, redemptions.PENDING_VERIFICATION):
        try:
            redemptions.void(found, "PHARMACIST")
        except RedemptionError:
            pass  # opening the code then says it is held elsewhere, with what to do: nothing is lost


@bp.post("/code")
def open_typed_code():
    """Open the code the pharmacist typed or scanned (a wedge scanner types it and presses Enter)."""
    current = flow.draft()
    if current.outcome:
        return flow.show("done")  # this session dispensed its code; a new one is a new session
    found = current_redemption()
    if found is not None and found.status in (*OPEN, redemptions.PENDING_VERIFICATION):
        return flow.show(first_unfinished(current))  # one code at a time: void it first to open another
    text = request.form.get("code", "")
    if is_pack(text):
        return render_code(INVALID, pack_alert(), typed="")
    typed = scanned(text)
    try:
        open_code(current, typed)
    except RedemptionError as error:
        return render_code(INVALID, refusal_alert(error), typed=typed)
    return flow.show("products")


def scanned(text):
    """The code as typed or scanned: without control characters, spaces or the scanner's symbology identifier
    (]C0 Code 128, ]Q1 QR code, ]d1 DataMatrix: biip reads them), its dashes as dashes, capped."""
    text = CONTROL.sub("", text).strip()
    try:
        text = text[len(SymbologyIdentifier.extract(text).value):]
    except ParseError:
        pass  # none: typed, or a scanner that sends none
    return text.translate(DASHES).strip()[:MAX_TYPED].strip()


def is_pack(text):
    """Whether a scan is a pack's GS1 code (its DataMatrix), not a prescription's or authorization's."""
    try:
        gs1.read_pack(text)
    except gs1.Unreadable:
        return False
    return True


def pack_alert():
    """The code step's alert for a pack scanned into it: what the host hears is an invalid code."""
    alert = refusal_alert(RedemptionError("INVALID_CODE"))
    return alert | {"message": _("That is a pack's barcode, not a code. Scan the prescription's or "
                                 "authorization's code here; the packs are scanned on the next step.")}


def open_code(current, code):
    """Open a dispensation of code at Osigu for this flow (once), and learn the substitution rule that applies."""
    session = g.widget_session
    opened = redemptions.start(session.host_app_id, ("widget", session.flow_id), code, session.id)
    current.code, current.entries, current.step = opened.code, {}, "products"
    current.substitution_policy = substitution_policy(opened)


def substitution_policy(opened):
    """The rule for equivalents, as Osigu states it on the dispensation (the sponsor's for an authorization).

    A prescription's is generic substitution, known without asking; a rule that cannot be read offers
    none: Osigu would refuse what the widget cannot justify.
    """
    if opened.code_type != "AUTHORIZATION":
        return "SAME_INN_OTHER_BRAND"
    try:
        dispensation = upstream().get_json(path("/dispensing/v1/dispensations/{}", opened.dispensation_id))
    except UpstreamError:
        return "NONE"
    return dispensation.get("substitution_policy") or "NONE"
