"""The example EHR launches the prescription widget with SMART on FHIR, in a real Chromium: EHR and BFF on two
origins, no popup, and the draft comes back by SMART Web Messaging."""

import json

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

pytestmark = pytest.mark.e2e


@pytest.fixture
def ehr_stack(simulator_url, serve_wsgi, tmp_path):
    """The example EHR on http://localhost, the BFF on http://127.0.0.1, registered as the demo registers them."""
    import bff
    from bff import outbox
    from bff.config import demo_host_apps
    from examples.ehr import create_app

    ehr = create_app()
    ehr_url = serve_wsgi(ehr).replace("127.0.0.1", "localhost")
    port = int(ehr_url.rsplit(":", 1)[1])
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "e2e",
                    "BFF_HOST_APPS": json.dumps(demo_host_apps(ehr_port=port))},
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bff.sqlite3'}",
        "OUTBOX_WORKER": False,
    })
    ehr.config["BFF_URL"] = serve_wsgi(app)
    # As the demo registers demo-ehr: the BFF authenticates with private_key_jwt, its public key served here.
    ehr.config["CLIENT_JWKS_URL"] = f"{ehr.config['BFF_URL']}/smart/demo-ehr/jwks.json"

    class Stack:
        url, bff = ehr_url, ehr.config["BFF_URL"]

    yield Stack
    outbox.stop_worker(app)


def issue_from_the_chart(page, ehr_stack, chart):
    """Open the prescription widget from the chart's link and issue paracetamol for R51; return the widget's frame."""
    page.goto(f"{ehr_stack.url}/{chart}")
    page.get_by_role("link", name="Open prescription").click()
    frame = page.frame_locator("iframe[name=app]")
    frame.get_by_role("heading", name="Diagnoses", exact=True).wait_for()
    frame.get_by_text("Ana López").first.wait_for()  # the chart's patient, found at Osigu by her document
    frame.get_by_label("Search ICD-10 by code or words").fill("cefalea")
    frame.get_by_role("button", name="Add R51", exact=True).click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    frame.get_by_role("button", name="Continue").click()
    frame.get_by_role("heading", name="Medications", exact=True).wait_for()
    frame.get_by_label("Search your registered medications").fill("paracetamol 500")
    frame.get_by_role("button", name="Prescribe Paracetamol 500 mg tablet, box of 20", exact=True).click()
    frame.get_by_label("For how many days").fill("10")
    frame.get_by_label("Quantity to dispense (units)").fill("30")
    frame.get_by_role("button", name="Add to prescription").click()
    frame.get_by_text("1 tablet every 8 hours for 10 days").wait_for()
    frame.get_by_role("button", name="Continue").click()
    frame.get_by_role("heading", name="Review and issue", exact=True).wait_for()
    frame.get_by_role("button", name="Issue prescription").click()
    frame.get_by_role("heading", name="Prescription issued", exact=True).wait_for()
    return frame


def test_a_doctor_prescribes_from_the_ehr_chart_and_the_ehr_gets_the_draft_then_ui_done(page, ehr_stack):
    popups = []
    page.on("popup", lambda popup: popups.append(popup))
    issue_from_the_chart(page, ehr_stack, "?patient=ana")
    # The EHR's scratchpad took one MedicationRequest (one line), answered it, and then heard ui.done.
    page.locator("#scratchpad li[data-resource-type=MedicationRequest]").wait_for()
    page.locator("#app-status[data-done=true]").wait_for()
    assert page.locator("#scratchpad li").count() == 1
    assert popups == []
    # Nothing kept in the browser: no cookie, no sessionStorage, and the token no longer in the page's DOM.
    widget = page.locator("iframe[name=app]").element_handle().content_frame()
    # (This Chromium denies a cross-site frame its storage outright; either way nothing could be kept there.)
    kept = widget.evaluate("""() => {
        let stored; try { stored = sessionStorage.length; } catch (denied) { stored = 0; }
        return [stored, document.cookie, document.body.dataset.sessionToken === undefined]; }""")
    assert kept == [0, "", True]
    assert page.context.cookies() == []


def test_the_widget_shows_the_ehrs_refusal_of_a_draft_and_does_not_say_done(page, ehr_stack):
    frame = issue_from_the_chart(page, ehr_stack, "?patient=ana&refuse_drafts=1")
    frame.locator("#widget-failure", has_text="This chart is closed to new orders").wait_for()
    assert page.locator("#app-status").inner_text() == ""


def test_a_draft_order_that_needs_a_preauthorization_launches_the_preauth_widget_and_the_ehr_gets_a_claimresponse(
        page, ehr_stack):
    page.goto(f"{ehr_stack.url}/?patient=ana")
    page.get_by_label("Draft order", exact=True).select_option("LAB-001")
    page.get_by_role("button", name="Select").click()
    held = page.locator("#scratchpad li[data-resource-type=ServiceRequest][data-id=draft-1]")
    assert held.get_attribute("data-authorization") is None  # the draft order, not authorized yet
    page.locator("[data-card-launch]").click()  # the coverage service's SMART link card
    frame = page.frame_locator("iframe[name=app]")
    for step in ("Sponsor", "Beneficiary", "Products", "Indications and documents", "Review and request"):
        frame.get_by_role("heading", name=step, exact=True).wait_for()
        if step == "Beneficiary":
            frame.get_by_label("Policy number").fill("SA-10000001")
        frame.locator("[data-osigu-primary]").click()
    frame.get_by_role("heading", name="Authorized", exact=True).wait_for()
    page.locator("#scratchpad li[data-resource-type=ClaimResponse]").wait_for()
    page.locator("#app-status[data-done=true]").wait_for()
    # The chart's own draft order was updated (scratchpad.update), annotated with its authorization.
    order = page.locator("#scratchpad li[data-resource-type=ServiceRequest][data-id=draft-1]")
    code = order.get_attribute("data-authorization")
    assert code.startswith("AUT-") and code in frame.locator("body").inner_text()
    assert f"authorization {code}" in order.inner_text()
    updated = ServiceRequest.model_validate(json.loads(order.get_attribute("data-resource")))
    [information] = [item for item in updated.extension if item.url.endswith("/ext-coverage-information")]
    assert [(part.url, part.valueString) for part in information.extension if part.url == "satisfied-pa-id"] == [
        ("satisfied-pa-id", code)]
    assert page.locator("#scratchpad li").count() == 2  # the order, updated in place, and the ClaimResponse
