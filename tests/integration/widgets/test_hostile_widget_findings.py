"""What schemathesis found in the widgets (tests/integration/bff/test_bff_schemathesis.py), each kept fixed."""

from widget_client import fill_in_ana_at_seguros_andinos, invalid, step_of

PHARMACIST = {"id": "ph-1", "name": "Marta Gil", "role": "PHARMACIST"}


def test_a_history_filter_the_api_refuses_shows_the_history_again_with_the_refusal(widget):
    w = widget(widget="dispensing", locale="en", context={"mode": "queue"}, user=PHARMACIST)
    for params in ({"status": "NOPE"}, {"startDate": "yesterday"}):
        page = w.get("/queue/history", params=params)
        assert page.status_code == 200 and invalid(page), (params, page.status_code, page.text[:300])
        assert step_of(page) == "queue_history" and "INVALID_REQUEST" in page.text
        assert "Ready for collection</option>" in page.text  # the filters, worded, around the refusal


def test_an_indications_form_posted_after_a_cancel_shows_where_the_flow_is(widget):
    w = widget(widget="preauth", locale="en")
    fill_in_ana_at_seguros_andinos(w)
    assert w.post("/cancel").status_code == 200
    for path, data in (("/diagnoses/add", {"diagnosis_code": "not a code"}), ("/indications", {"notes": "x" * 5000}),
                       ("/documents/remove", {"document_id": "doc_1"})):
        answer = w.post(path, data=data)
        assert answer.status_code == 200 and step_of(answer) == "sponsor", (path, answer.status_code, answer.text[:300])
