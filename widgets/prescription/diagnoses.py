"""Step 2, the diagnoses: ICD-10, searched as the doctor types; several allowed."""

from flask import render_template, url_for
from flask_babel import gettext as _

from bff.contexts import MAX_DIAGNOSES
from widgets import search

from . import bp, repeat
from .draft import flow


@flow.renders("diagnoses")
def render_diagnoses(status=200, alert=None, error=None):
    """Render the diagnoses step."""
    offered = repeat.recent(flow.draft().patient)
    return flow.render_step("diagnoses", status, alert, max_diagnoses=MAX_DIAGNOSES, recent=offered,
                            error=error or repeat.refused_from_host(flow.draft(), offered))


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
    current.diagnoses, error = search.with_picked_diagnosis(
        current.diagnoses, _("A prescription takes at most %(max)s diagnoses.", max=MAX_DIAGNOSES))
    if error:
        return render_diagnoses(422, error=error)
    return flow.show("diagnoses")


@bp.post("/diagnoses/remove")
def remove_diagnosis():
    """Remove a diagnosis from the prescription."""
    current = flow.draft()
    current.diagnoses = search.without_diagnosis(current.diagnoses)
    return flow.show("diagnoses")
