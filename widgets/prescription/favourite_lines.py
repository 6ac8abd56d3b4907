"""The favourite actions on the medications step: save a line as a favourite, add a favourite in one action."""

from flask import g, request

from bff.db import db
from bff.upstream import UpstreamError

from . import bp, medications
from .draft import flow
from .favourites import MAX_FAVOURITES, Favourite, mine


@bp.post("/medications/favourite")
def save_favourite():
    """Save a line of this prescription (product and posology) as one of the doctor's favourites."""
    code = request.form.get("product_code", "")
    chosen = next((line for line in flow.draft().lines if line["product_code"] == code), None)
    if chosen is not None:
        session = g.widget_session
        found = db.session.scalars(db.select(Favourite).filter_by(
            host_app_id=session.host_app_id, user_id=session.user["id"], product_code=code)).first()
        if found is not None:
            found.line = chosen
        elif len(mine()) < MAX_FAVOURITES:
            db.session.add(Favourite(host_app_id=session.host_app_id, user_id=session.user["id"], product_code=code,
                                     line=chosen))
    return flow.show("medications")


@bp.post("/medications/favourite/add")
def add_favourite():
    """Add one of the doctor's favourites to the prescription in one action (if the provider still has it)."""
    code = request.form.get("product_code", "")
    line = mine().get(code)
    try:
        still_registered = line is not None and medications.product(code) is not None
    except UpstreamError as error:
        return flow.refuse(medications.render_medications, error)
    if still_registered:
        current = flow.draft()
        current.lines = [item for item in current.lines if item["product_code"] != code] + [line]
    return flow.show("medications")
