"""The pharmacist's draft and the order of the steps, over the redemption that holds the dispensation."""

from flask import g
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bff import redemption as redemptions
from bff.db import db
from widgets.drafts import DraftMixin
from widgets.flow import Flow

from . import bp
from .messages import known_errors

OPEN = (redemptions.STARTED, redemptions.PRODUCTS_SET)


class DispensingDraft(DraftMixin, db.Model):
    """The code being dispensed and what the pharmacist entered per line; the dispensation is the redemption's."""

    __tablename__ = "bff_dispensing_draft"
    code: Mapped[str | None] = mapped_column(String(30))
    substitution_policy: Mapped[str | None] = mapped_column(String(60))  # the rule equivalents are offered by
    # {prescribed product code: {"product_code", "quantity", "lot", "expiry"}}, as last typed or scanned
    entries: Mapped[dict] = mapped_column(JSON, default=dict)

    def __init__(self, **values):
        super().__init__(**{"entries": {}} | values)  # read before the first flush


def current_redemption():
    """This flow's redemption of the draft's code, or None before one was opened."""
    session = g.widget_session
    found = redemptions.for_owner(session.host_app_id, ("widget", session.flow_id))
    draft = flow.existing()
    return found if found is not None and draft is not None and found.code == draft.code else None


def steps():
    """The steps of this dispensation, in order: verification only when the sponsor or the medicine asks for it."""
    found = current_redemption()
    needs_verification = found is not None and (found.verification or {}).get("required")
    return ["code", "products", *(["verify"] if needs_verification else [])]


def first_unfinished(current):
    """The first step whose input is still missing."""
    found = current_redemption()
    if found is None or found.status not in (*OPEN, redemptions.PENDING_VERIFICATION):
        return "code"
    return "verify" if found.status == redemptions.PENDING_VERIFICATION else "products"


flow = Flow(bp, DispensingDraft, steps, first_unfinished, messages=known_errors,
            subject=lambda context: context.get("code"),
            worth_resuming=lambda found: bool(found.code))
