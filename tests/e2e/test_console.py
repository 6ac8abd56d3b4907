"""No console error on a widget page: htmx's own logging and styles stay quiet under the widget's strict CSP."""

import pytest
from test_prescription import WORDS, expect_step, open_his, start
from test_renewal import choose_headache

pytestmark = pytest.mark.e2e


def test_a_form_with_something_to_fix_is_shown_again_and_nothing_is_logged(page, his, console_errors):
    words = WORDS["en"]
    open_his(page, his)
    frame = start(page, "v1.1", "en")
    expect_step(frame, "en", "diagnoses")
    choose_headache(frame, words)
    frame.get_by_role("button", name=words["continue"]).click()
    expect_step(frame, "en", "medications")  # the step in place before its search is typed into
    frame.get_by_label(words["search_med"]).fill("paracetamol 500")
    frame.get_by_role("button", name=words["prescribe"], exact=True).click()
    frame.get_by_label(words["days"]).fill("400")
    frame.get_by_role("button", name=words["add_line"]).click()  # past a year: shown again, to fix
    frame.get_by_text("Enter a whole number of days from 1 to 365.").wait_for()
    # Not even the browser's 'Failed to load resource' line (it logs every 4xx), nor an inline style the CSP
    # would refuse.
    assert console_errors == []
    widget = page.locator("#osigu iframe").element_handle().content_frame()
    assert widget.evaluate("() => document.querySelectorAll('style').length") == 0
    hidden = widget.evaluate("() => { const e = document.createElement('span'); e.className = 'htmx-indicator';"
                             " document.body.append(e); return getComputedStyle(e).visibility; }")
    assert hidden == "hidden"  # the indicator style comes from widget.css instead
