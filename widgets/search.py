"""Search as the user types: the query as typed, the results or what went wrong; the ICD-10 search."""

import re

from flask import request
from flask_babel import gettext as _

from bff.contexts import ICD10_CODE, MAX_DIAGNOSES
from bff.upstream import UpstreamError

from .session import upstream

RESULTS_SHOWN = 8
MAX_QUERY = 100
MIN_QUERY = 2
MAX_DESCRIPTION = 300


def typed_query(name="q"):
    """The query typed so far, trimmed and capped."""
    return request.args.get(name, "").strip()[:MAX_QUERY]


def as_you_type(fetch, alert_for, ready=True, empty=()):
    """(fetch()'s results, None) when the query is ready to search; (empty, an alert) when Osigu fails."""
    if not ready:
        return list(empty), None
    try:
        return fetch(), None
    except UpstreamError as error:
        return list(empty), alert_for(error)


def diagnoses(query):
    """ICD-10 diagnoses by code, words or a common synonym (cephalgia, cefalea...), in the session's language."""
    return upstream().get_json("/medical-catalogs/v1/diagnoses", query=query, page_size=RESULTS_SHOWN)["data"]


def with_picked_diagnosis(chosen, too_many):
    """(chosen with the diagnosis picked from the results, its description as Osigu gave it, None), or (chosen,
    what to fix) when the form names no ICD-10 code or one past MAX_DIAGNOSES (too_many says so)."""
    code, description = request.form.get("diagnosis_code", ""), request.form.get("description", "")
    known = {item["diagnosis_code"] for item in chosen}
    if not re.fullmatch(ICD10_CODE, code):
        return chosen, _("Choose a diagnosis from the search results.")
    if code in known:
        return chosen, None
    if len(known) >= MAX_DIAGNOSES:
        return chosen, too_many
    return [*chosen, {"diagnosis_code": code, "description": description.strip()[:MAX_DESCRIPTION]}], None


def without_diagnosis(chosen):
    """chosen less the diagnosis the form names."""
    return [item for item in chosen if item["diagnosis_code"] != request.form.get("diagnosis_code")]
