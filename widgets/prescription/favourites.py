"""A doctor's favourite lines (a product with its posology), per host app and the host's user.id: first in the
medication search, added in one action. A doctor's habits, not a patient's data: kept until replaced."""

from flask import g
from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import db

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


def first(results, favourite):
    """Search results with this doctor's favourites (from mine()) first, the order otherwise kept."""
    return sorted(results, key=lambda item: item["product_code"] not in favourite)
