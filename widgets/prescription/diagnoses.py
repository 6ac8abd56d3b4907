"""Step 2, the diagnoses: ICD-10, searched as the doctor types; several allowed."""

import re

from flask import render_template, request, url_for
from flask_babel import gettext as _

from bff.contexts import ICD10_CODE, MAX_DIAGNOSES
from widgets import search

from . import bp
from .draft import flow

MAX_DESCRIPTION = 300


@flow.renders("diagnoses")
def render_diagnoses(status=200, alert=None, error=None):
    """Render the diagnoses step."""
    return flow.render_step("diagnoses", status, alert, max_diagnoses=MAX_DIAGNOSES, error=error)


@bp.get("/diagnoses/search")
def search_diagnoses():
    """Search ICD-10 by code, words or a common synonym (cephalgia, cefalea...)."""
    query = search.typed_query()
    results, alert = search.as_you_type(lambda: search.diagnoses(query), flow.alert,
                                        ready=len(query) >= search.MIN_QUERY)
    chosen = {item["diagnosis_code"] for item in flow.draft().diagnoses}
    return render_template("widgets/_diagnosis_results.html", add_url=url_for("prescription.add_diagnosis"),
                           results=results, query=query, chosen=chosen, alert=alert,
                           full=len(chosen) >= MAX_DIAGNOSES)


@bp.post("/diagnoses/add")
def add_diagnosis():
    """Add the diagnosis the doctor picked (its description as Osigu gave it), if it is an ICD-10 code."""
    current = flow.draft()
    code, description = request.form.get("diagnosis_code", ""), request.form.get("description", "")
    known = {item["diagnosis_code"] for item in current.diagnoses}
    if not re.match(ICD10_CODE, code):
        return render_diagnoses(422, error=_("Choose a diagnosis from the search results."))
    if code not in known and len(known) >= MAX_DIAGNOSES:
        return render_diagnoses(422, error=_("A prescription takes at most %(max)s diagnoses.", max=MAX_DIAGNOSES))
    if code not in known:
        current.diagnoses = [*current.diagnoses, {"diagnosis_code": code,
                                                  "description": description.strip()[:MAX_DESCRIPTION]}]
    return flow.show("diagnoses")


@bp.post("/diagnoses/remove")
def remove_diagnosis():
    """Remove a diagnosis from the prescription."""
    current = flow.draft()
    code = request.form.get("diagnosis_code")
    current.diagnoses = [item for item in current.diagnoses if item["diagnosis_code"] != code]
    return flow.show("diagnoses")
