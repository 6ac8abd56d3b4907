"""A doctor's favourite lines (a product with its posology), per host app and the host's user.id: first in the
medication search, added in one action. A doctor's habits, not a patient's data: kept until replaced."""

from flask import g, request
from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import db
from bff.upstream import UpstreamError

from . import bp, medications  # medications imports this module too: its names are read at call time
from .draft import flow

MAX_FAVOURITES = 30


class Favourite(db.Model):
    """One favourite line of one doctor of one host app."""

    __tablename__ = "bff_prescription_favourite"
    __table_args__ = (UniqueConstraint("host_app_id", "user_id", "product_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    product_code: Mapped[str] = mapped_column(String(20))
    line: Mapped[dict] = mapped_column(JSON)


def mine():
    """This doctor's favourites, oldest first, as {product_code: line}."""
    found = db.session.scalars(db.select(Favourite).filter_by(host_app_id=g.widget_session.host_app_id,
                                                              user_id=g.widget_session.user["id"])
                               .order_by(Favourite.id))
    return {favourite.product_code: favourite.line for favourite in found}


def first(results):
    """Search results with this doctor's favourites first (the order otherwise kept)."""
    favourite = mine()
    return sorted(results, key=lambda item: item["product_code"] not in favourite)


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
