"""The CDS Hooks answer for a coverage check: CRD's coverage information per order and the cards, in the EHR
user's language.

A hook call carries no language, so it is read from what an EHR can send: the `user` prefetch (the
Practitioner of `context.userId`, whose `communication` lists the languages they speak), else the
request's `Accept-Language`, else English. Every text a card shows goes through Flask-Babel; a summary
stays within the 140 characters CDS Hooks allows, cut with an ellipsis if a long product name needs it.
"""

import json
import re
import uuid

from babel.lists import format_list
from flask import g, request
from flask_babel import get_locale
from flask_babel import gettext as _

from . import contexts
from .fhir_outcomes import CRD_COVERAGE, PRODUCT_CODE
from .i18n import LOCALES

MAX_SUMMARY = 140
MAX_DIAGNOSES = 10  # a preauth context's
FALLBACK_LANGUAGE = "en"  # CDS Hooks clients are configured in English far more often than in anything else


def use_language(prefetch):
    """Answer in the language of the Practitioner the `user` prefetch holds, else Accept-Language's, else English."""
    g.locale = _practitioner_language(prefetch.get("user")) or request.accept_languages.best_match(LOCALES) \
        or FALLBACK_LANGUAGE


def _practitioner_language(user):
    """The first language of a Practitioner's `communication` that the widgets speak (R4, or R5's nested form)."""
    if not isinstance(user, dict) or user.get("resourceType") != "Practitioner":
        return None
    for item in user.get("communication") or []:
        concept = (item.get("language") if "language" in item else item) if isinstance(item, dict) else None
        for coding in (concept or {}).get("coding") or []:
            language = str(coding.get("code", "")).split("-")[0].lower()
            if language in LOCALES:
                return language
    return None


def hook_response(answer, orders, coverage_reference):
    """System actions updating each order with its coverage information, and the cards."""
    sponsor = answer["sponsor"]["name"]
    actions, cards = [], []
    for order, said in zip(orders, answer["orders"], strict=True):
        if said["status"] == "unknown":
            continue
        actions.append({"type": "update", "description": _("Coverage by %(sponsor)s", sponsor=sponsor),
                        "resource": order["resource"] | {"extension": [
                            *order["resource"].get("extension", []),
                            _coverage_information(said, answer, coverage_reference)]}})
        if said["status"] == "not-covered":
            cards.append(_not_covered_card(order["resource"], said, sponsor))
    covered = [said for said in answer["orders"] if said.get("covered") == "covered"]
    if covered:
        diagnoses = sorted({code for order in orders for code in order["diagnoses"]})
        cards.append(_preauth_card(answer, covered, sponsor, diagnoses))
    return {"cards": cards, "systemActions": actions}


def preauth_context(answer, diagnoses):
    """The preauth widget's session context for what was covered (DESIGN.md), with the coverage assertion."""
    context = {"sponsor": answer["sponsor"]["sponsor_slug"], "coverage_assertion_id": answer["coverage_assertion_id"],
               "products": [{"product_code": said["product_code"], "quantity": said["quantity"]}
                            for said in answer["orders"] if said.get("covered") == "covered"]}
    valid = [code for code in diagnoses or [] if isinstance(code, str) and re.fullmatch(contexts.ICD10_CODE, code)]
    return context | ({"diagnoses": valid[:MAX_DIAGNOSES]} if valid else {})


def _coverage_information(said, answer, coverage_reference):
    """Da Vinci CRD's coverage-information extension for one order."""
    parts = [{"url": "coverage", "valueReference": {"reference": coverage_reference}},
             {"url": "covered", "valueCode": said["covered"]}]
    if said["covered"] == "covered":
        parts.append({"url": "pa-needed", "valueCode": said["pa_needed"]})
        parts += [{"url": "doc-needed", "valueCode": kind} for kind in said["doc_needed"]]
        if said["doc_needed"]:
            parts.append({"url": "doc-purpose", "valueCode": "withpa"})
    parts += [{"url": "date", "valueDate": answer["date"]},
              {"url": "coverage-assertion-id", "valueString": answer["coverage_assertion_id"]}]
    return {"url": CRD_COVERAGE, "extension": parts}


def _card(summary, indicator, sponsor, **rest):
    return {"uuid": str(uuid.uuid4()), "summary": _short(summary), "indicator": indicator,
            "source": {"label": sponsor}} | rest


def _short(text):
    return text if len(text) <= MAX_SUMMARY else text[:MAX_SUMMARY - 1] + "…"


def _not_covered_card(resource, said, sponsor):
    """A product the sponsor does not cover, with its covered equivalents to order instead."""
    if not said["equivalents"]:
        return _card(_("%(product)s is not covered by %(sponsor)s", product=said["name"], sponsor=sponsor),
                     "warning", sponsor)
    concept = "medicationCodeableConcept" if resource["resourceType"] == "MedicationRequest" else "code"
    suggestions = [{"label": _("Order %(product)s instead", product=item["name"]), "uuid": str(uuid.uuid4()),
                    "isRecommended": True,
                    "actions": [{"type": "update", "description": _("%(code)s is covered", code=item["product_code"]),
                                 "resource": resource | {concept: {"coding": [{
                                     "system": PRODUCT_CODE, "code": item["product_code"],
                                     "display": item["name"]}]}}}]}
                   for item in said["equivalents"]]
    summary = _("%(product)s is not covered by %(sponsor)s; %(equivalent)s is", product=said["name"], sponsor=sponsor,
                equivalent=said["equivalents"][0]["name"])
    return _card(summary, "warning", sponsor, suggestions=suggestions, selectionBehavior="at-most-one")


def _preauth_card(answer, covered, sponsor, diagnoses):
    """The SMART link that opens the preauth widget with the sponsor, the products and the assertion."""
    waiting = [said for said in covered if said["pa_needed"] == "auth-needed"]
    if waiting:
        summary = _("%(sponsor)s needs a pre-authorization for %(products)s", sponsor=sponsor,
                    products=_listed([said["name"] for said in waiting]))
    else:
        summary = _("Covered by %(sponsor)s: the authorization is approved as soon as it is requested",
                    sponsor=sponsor)
    notes = [f"{said['name']}: " + ", ".join(_what_is_needed(said)) for said in waiting]
    if answer["sign_off"]:
        notes.append(_("The beneficiary signs off with %(methods)s.",
                       methods=_listed([_sign_off(method) for method in answer["sign_off"]], "or")))
    context = preauth_context(answer, diagnoses)
    details = {"detail": "\n\n".join(notes)} if notes else {}
    return _card(summary, "warning" if waiting else "info", sponsor, **details,
                 links=[{"label": _("Request the pre-authorization"), "type": "smart",
                         "url": f"{request.url_root}smart/preauth/launch",  # DESIGN.md's SMART launch
                         "appContext": json.dumps(context)}])


def _what_is_needed(said):
    needed = [_("reviewed by the sponsor")] if said["reviewed"] else []
    return needed + [_document(kind) for kind in said["documents"]]


def _document(kind):
    """What to send, for the support documents sponsors ask for; another kind by its code."""
    return {
        "MEDICAL_ORDER": _("send the medical order"),
        "CLINICAL_HISTORY": _("send the clinical history"),
        "QUOTE": _("send the quote"),
        "PRESCRIPTION": _("send the prescription"),
    }.get(kind) or _("send the document %(kind)s", kind=kind)


def _sign_off(method):
    return {"OTP": _("a one-time code"), "BIOMETRIC": _("a biometric reading")}.get(method, method)


def _listed(items, style="standard"):
    """Items as a sentence lists them in the current language: "A, B and C", "A, B y C"."""
    return format_list(items, style=style, locale=get_locale())
