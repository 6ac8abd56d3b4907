"""Step 2, the products: per line how many, from which lot, and an equivalent only where the rule allows one."""

from datetime import date

from flask import g, request
from flask_babel import gettext as _

from bff.db import db
from bff.provider_products import registered_products
from bff.upstream import UpstreamError
from widgets.flow import INVALID
from widgets.session import host_app

from . import bp, gs1
from .draft import current_redemption, flow

MAX_LOT = 40
MAX_CANDIDATES = 20
# What makes a registered product an allowed equivalent, per substitution rule (simulator/models/catalog.py).
SAME = {"SAME_INN_OTHER_BRAND": ("inn", "strength", "form_code"),
        "SAME_ACTIVE_INGREDIENT_OTHER_PRESENTATION": ("inn", "strength")}


@flow.renders("products")
def render_products(status=200, alert=None, errors=None, scan_error=None, scanned_line=None):
    """Render the products step: each line with its quantity, lot, expiry and the equivalents allowed."""
    found = current_redemption()
    entries = flow.draft().entries
    lines = [_line_view(index, line, entries.get(line["prescribed_product_code"], {}))
             for index, line in enumerate(found.lines)]
    return flow.render_step("products", status, alert, redemption=found, lines=lines, errors=errors or {},
                            scan_error=scan_error, scanned_line=scanned_line)


def _line_view(index, line, entry):
    prescribed = line["prescribed_product_code"]
    return {
        "index": index,
        "prescribed": prescribed,
        "name": product_name(prescribed),
        "prescribed_quantity": line["prescribed_quantity"],
        "product_code": entry.get("product_code", line["product_code"]),
        "quantity": entry.get("quantity", line["quantity"]),
        "lot": entry.get("lot", line.get("lot") or ""),
        "expiry": entry.get("expiry", line.get("expiry") or ""),
        "equivalents": equivalents(line),
    }


def registered():
    """The tenant's registered medications, named in the session's language."""
    return registered_products(host_app(), "MEDICATION", g.widget_session.locale)


def product(code):
    """The registered product with this code, or None (Osigu unreachable counts as unknown here)."""
    try:
        return registered().find(code)
    except UpstreamError:
        return None


def product_name(code):
    """A product's name in the session's language, or its code when the registry does not have it."""
    found = product(code)
    return found["name"] if found else code


def equivalents(line):
    """The registered products this line may be swapped for under the rule that applies, never another."""
    if not line["substitution_allowed"]:
        return []
    return same_as(line["prescribed_product_code"], flow.draft().substitution_policy)


def same_as(product_code, policy):
    """The registered products that may replace product_code under a substitution policy (none for an unknown one)."""
    rule = SAME.get(policy)
    prescribed = product(product_code)
    if not (rule and prescribed and prescribed.get("inn")):
        return []
    try:
        same_inn = registered().search(prescribed["inn"], 1000)
    except UpstreamError:
        return []
    return [item for item in same_inn if item["product_code"] != prescribed["product_code"]
            and all(item.get(field) == prescribed.get(field) for field in rule)][:MAX_CANDIDATES]


def typed_lines(found):
    """Read the products form: (lines for the redemption, {field: message}); keeps what was typed in the draft."""
    entries, lines, errors = {}, [], {}
    kept = flow.draft().entries
    for index, line in enumerate(found.lines):
        prescribed = line["prescribed_product_code"]
        shown = _line_view(index, line, kept.get(prescribed, {}))  # what a field the form leaves out keeps
        entry = {name: request.form.get(f"{name}-{index}", str(shown[name])).strip()[:MAX_LOT + 20]
                 for name in ("product_code", "quantity", "lot", "expiry")}
        entry["product_code"] = entry["product_code"] or prescribed
        entries[prescribed] = entry
        checked = _checked_line(index, line, entry, errors)
        if checked:
            lines.append(checked)
    current = flow.draft()
    current.entries = entries
    return lines, errors


def _checked_line(index, line, entry, errors):
    prescribed, maximum = line["prescribed_product_code"], line["prescribed_quantity"]
    allowed = {prescribed, *(item["product_code"] for item in equivalents(line))}
    if entry["product_code"] not in allowed:
        errors[f"product_code-{index}"] = _("Choose the prescribed product or one of the equivalents offered.")
    quantity = entry["quantity"]
    if not (quantity.isascii() and quantity.isdigit() and int(quantity) <= maximum):
        errors[f"quantity-{index}"] = _("Type a whole number from 0 to %(max)s (what was prescribed).", max=maximum)
    if len(entry["lot"]) > MAX_LOT:
        errors[f"lot-{index}"] = _("A lot has at most %(max)s characters.", max=MAX_LOT)
    expiry = _date(entry["expiry"])
    if entry["expiry"] and expiry is None:
        errors[f"expiry-{index}"] = _("Type the expiry date as it is printed on the pack.")
    elif expiry and expiry < date.today():
        errors[f"expiry-{index}"] = expired_message(expiry)
    if any(key.endswith(f"-{index}") for key in errors):
        return None
    out = {"product_code": entry["product_code"], "quantity": int(quantity), "lot": entry["lot"] or None,
           "expiry": entry["expiry"] or None}
    if entry["product_code"] != prescribed:
        out["substituted_for"] = prescribed
    return out


def expired_message(expiry):
    """What the pharmacist reads of an expired lot: do not hand it over."""
    return _("This lot expired on %(date)s: do not hand it over. Take a pack from another lot.",
             date=expiry.isoformat())


def _date(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.post("/products/scan")
def scan_pack():
    """Fill lot and expiry of the line whose product (or allowed equivalent) the scanned pack's GTIN names.

    A line left with nothing to hand over (its quantity emptied or 0) gets its prescribed quantity back: the
    pharmacist is handing a pack of it over.
    """
    found = current_redemption()
    if found is None or flow.first_unfinished(flow.draft()) != "products":
        return flow.show("products")
    typed_lines(found)  # what was typed beside the scan is kept
    try:
        pack = gs1.read_pack(request.form.get("scan", ""))
    except gs1.Unreadable as error:
        return render_products(INVALID, scan_error=error.message)
    current = flow.draft()
    for index, line in enumerate(found.lines):
        entry = dict(current.entries[line["prescribed_product_code"]])
        chosen = [entry["product_code"], *(item["product_code"] for item in equivalents(line))]
        match = next((code for code in chosen if (product(code) or {}).get("gtin") == pack.gtin), None)
        if match is None:
            continue
        if pack.expiry and pack.expiry < date.today():
            return render_products(INVALID, scan_error=expired_message(pack.expiry))
        entry.update(product_code=match, lot=pack.lot or entry["lot"],
                     expiry=pack.expiry.isoformat() if pack.expiry else entry["expiry"])
        if entry["quantity"].lstrip("0") == "":
            entry["quantity"] = str(line["prescribed_quantity"])
        current.entries = current.entries | {line["prescribed_product_code"]: entry}
        db.session.commit()
        return render_products(scanned_line=index)
    return render_products(INVALID, scan_error=_("This pack is not one of the products on this code, nor an "
                                                  "equivalent allowed for them. Check the box."))
