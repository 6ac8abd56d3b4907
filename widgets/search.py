"""Search as the user types: the query as typed, the results or what went wrong; the ICD-10 search."""

from flask import request

from bff.upstream import UpstreamError

from .session import upstream

RESULTS_SHOWN = 8
MAX_QUERY = 100
MIN_QUERY = 2


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
