"""mount's autofocus: the first step takes the focus only when the host asks for it, and never from a user who has
moved on since mount() was called."""

import pytest
from playwright.sync_api import expect
from prescription_keys import ANA, expect_focus, mount
from test_prescription import widget_frame

pytestmark = pytest.mark.e2e

SEARCH = "#diagnosis-query"  # the diagnoses step's first field


def test_autofocus_puts_the_first_steps_first_field_under_the_doctors_fingers(page, stack):
    frame = mount(page, stack, "es", {"patient": ANA}, autofocus=True)
    expect_focus(page, SEARCH)
    assert page.evaluate("() => document.activeElement.tagName") == "IFRAME"
    page.keyboard.type("R51")  # no click, no Tab: the keys go to the widget
    page.keyboard.press("Enter")
    frame.locator(".osigu-chosen", has_text="R51").wait_for()


def test_without_autofocus_the_host_page_keeps_its_focus(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    page.evaluate("""() => { const note = document.createElement('input'); note.id = 'host-note';
        note.setAttribute('aria-label', 'Note'); document.body.appendChild(note); note.focus(); }""")
    frame = mount(page, stack, "es", {"patient": ANA}, autofocus=False)
    frame.get_by_role("heading", name="Diagnósticos", exact=True).wait_for()
    page.keyboard.type("typed in the host")
    expect(page.locator("#host-note")).to_have_value("typed in the host")
    assert widget_frame(page).evaluate("() => document.activeElement === document.body")


def test_autofocus_leaves_alone_a_user_who_moved_on_before_the_widget_was_ready(page, stack):
    stack.session.update(widget="prescription", locale="es", context={"patient": ANA})
    page.goto(f"{stack.host_url}/page/host")
    page.evaluate("""() => {
        const note = document.createElement('input'); note.id = 'host-note'; note.setAttribute('aria-label', 'Note');
        document.body.appendChild(note);
        const token = new Promise(release => { window.releaseToken = release; })
            .then(() => fetch('/token', {method: 'POST'})).then(r => r.json()).then(body => body.token);
        window.mountWidget('first', '#first', {widget: 'prescription', locale: 'es', autofocus: true,
                                               fetchToken: () => token});
        note.focus();  // the user went on to something else while the widget was loading
        window.releaseToken();
    }""")
    page.frame_locator("#first iframe").get_by_role("heading", name="Diagnósticos", exact=True).wait_for()
    page.keyboard.type("mine")
    expect(page.locator("#host-note")).to_have_value("mine")
