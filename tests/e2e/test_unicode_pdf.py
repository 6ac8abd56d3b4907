"""A patient whose name is outside Latin-1, registered in the widget, gets a PDF that prints it, in a real Chromium."""

import io

import pytest
from pypdf import PdfReader
from test_prescription import WORDS, assert_accessible, expect_step, open_his, start, walk_to_review

pytestmark = pytest.mark.e2e


def register_patient(page, frame, first_name, last_name, document_number):
    """Look the patient up by a document nobody has, then register them from the form the widget offers."""
    expect_step(frame, "en", "patient")
    frame.get_by_label("Document number").fill(document_number)
    form = frame.get_by_role("form", name="New patient")
    form.wait_for()
    assert_accessible(page, "new patient")
    form.get_by_label("First name").fill(first_name)
    form.get_by_label("Last name").fill(last_name)
    form.get_by_label("Date of birth").fill("1984-03-09")
    form.get_by_role("button", name="Register patient").click()
    expect_step(frame, "en", "diagnoses")
    frame.get_by_text(f"{first_name} {last_name}").wait_for()


@pytest.mark.parametrize("first_name, last_name, document_number", [("Ștefan", "Țăranu", "RO4011223"),
                                                                    ("Γιώργος", "Παπαδόπουλος", "GR4011224")])
def test_the_pdf_of_a_patient_registered_in_the_widget_prints_their_name(page, his, first_name, last_name,
                                                                         document_number):
    open_his(page, his)
    frame = start(page, "v1", "en", patient="")
    register_patient(page, frame, first_name, last_name, document_number)
    walk_to_review(page, frame, "v1", "en")
    frame.get_by_role("button", name=WORDS["en"]["issue"]).click()
    expect_step(frame, "en", "done")
    code = frame.locator("[data-osigu-prescription-code]").inner_text()

    link = frame.get_by_role("link", name="Download PDF")
    href = link.get_attribute("href")
    # What the doctor's click does: a new tab showing the PDF (issue 10 saw a 000-500 JSON there).
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == href and tab.evaluate("() => document.contentType") == "application/pdf"
    tab.close()
    # The link is Osigu's own signed URL: the browser's context fetches it with no token, to read the text.
    response = page.context.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert code in response.headers["content-disposition"]
    pdf = PdfReader(io.BytesIO(response.body()))
    text = "\n".join(sheet.extract_text() for sheet in pdf.pages)
    assert f"Patient {first_name} {last_name}" in text
    assert "Prescriber Dra. Laura Ruiz" in text  # the HIS's signed-in doctor, by name
    assert "\ufffd" not in text  # no character fell back to the replacement mark
