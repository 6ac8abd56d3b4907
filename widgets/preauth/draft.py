"""The request being prepared and the order of the steps, all driven by the sponsor's configuration."""

import hashlib
import json

from flask import g
from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bff.db import db
from widgets.drafts import DraftMixin
from widgets.flow import Flow

from . import bp
from .messages import decision_reason, known_errors

DRAFT, PENDING_VERIFICATION, COMPLETED = "DRAFT", "PENDING_VERIFICATION", "COMPLETED"


class PreauthDraft(DraftMixin, db.Model):
    """What the user has chosen so far, and the request at Osigu once initiated: one per flow."""

    __tablename__ = "bff_preauth_draft"
    sponsor: Mapped[dict | None] = mapped_column(JSON)  # the sponsor's configuration, as Osigu gave it
    beneficiary: Mapped[dict | None] = mapped_column(JSON)
    products: Mapped[list] = mapped_column(JSON, default=list)
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    preauthorization_id: Mapped[str | None] = mapped_column(String(64), index=True)
    initiated_for: Mapped[str | None] = mapped_column(String(64))  # what the request at Osigu was opened with
    upstream_status: Mapped[str | None] = mapped_column(String(30))
    attempt: Mapped[int] = mapped_column(default=1)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    history: Mapped[list] = mapped_column(JSON, default=list)  # earlier attempts the sponsor rejected
    unknown_from_host: Mapped[list] = mapped_column(JSON, default=list)  # products the host named, not registered

    def __init__(self, **values):
        super().__init__(**{"products": [], "diagnoses": [], "documents": [], "history": [], "notes": "",
                            "attempt": 1, "unknown_from_host": []} | values)  # read before the first flush

    def required_documents(self):
        """[{document_type, label, product_types, provided}] the sponsor demands for the chosen products."""
        if not self.sponsor:
            return []
        provided = {document["document_type"] for document in self.documents}
        required = {}
        for product_type in dict.fromkeys(item["product_type"] for item in self.products):
            for document in self.sponsor["support_documents"].get(product_type, []):
                entry = required.setdefault(document["document_type"], {
                    "document_type": document["document_type"], "label": document["label"], "product_types": [],
                    "provided": document["document_type"] in provided})
                entry["product_types"].append(product_type)
        return list(required.values())

    def request_key(self):
        """What a request at Osigu is opened with (beneficiary and products): another one needs a new request."""
        body = {"beneficiary_id": self.beneficiary and self.beneficiary["beneficiary_id"],
                "products": [[item["product_code"], item["quantity"]] for item in self.products]}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]

    def verification_methods(self):
        """The sign-off the sponsor asks of the beneficiary before it decides (OTP, BIOMETRIC)."""
        return self.sponsor["verification"]["preauthorization"] if self.sponsor else []


def document_summary(item):
    """What the widget keeps of a document attached at Osigu (its bytes stay there)."""
    return {key: item[key] for key in ("document_id", "document_type", "filename", "size")}


def localized(label):
    """A label Osigu gives per language ({"es", "en"}) in the session's language (Portuguese reads Spanish)."""
    return label.get(g.widget_session.locale) or label.get("es") or label.get("en") or ""


def steps():
    """The steps, in order (verification only for the sponsors that ask for it)."""
    current = flow.existing()
    middle = ["verify"] if current is not None and current.verification_methods() else []
    return ["sponsor", "beneficiary", "products", "indications", "review", *middle]


def first_unfinished(current):
    """The first step whose input is still missing (the review, when nothing is)."""
    if not current.sponsor:
        return "sponsor"
    if not current.beneficiary:
        return "beneficiary"
    if not current.products:
        return "products"
    if current.initiated_for != current.request_key():
        return "products"  # the request at Osigu is opened as the products step is left
    if not current.diagnoses or not all(item["provided"] for item in current.required_documents()):
        return "indications"
    if current.upstream_status == PENDING_VERIFICATION:
        return "verify"
    return "review"


def subject(context):
    """What makes an earlier draft the same work: the same sponsor and beneficiary, named by the host."""
    return context.get("sponsor") and context.get("beneficiary") and [context["sponsor"], context["beneficiary"]]


flow = Flow(bp, PreauthDraft, steps, first_unfinished, messages=known_errors, subject=subject,
            worth_resuming=lambda found: found.products or found.diagnoses,
            template_context=lambda: {"localized": localized, "decision_reason": decision_reason})
