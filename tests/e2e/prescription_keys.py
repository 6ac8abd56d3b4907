"""Driving the prescription widget by keys alone on the stack's host page (tests/e2e/conftest.py), as a doctor does."""

from playwright.sync_api import expect
from test_prescription import HEADINGS, assert_accessible, widget_frame

ANA = {"document_type": "CC", "document_number": "1000000001"}
DOCTOR = {"id": "dr-keys", "name": "Dra. Teclas", "role": "doctor"}
# Paracetamol 500 mg tablets, box of 20: 1 every 8 hours for 7 days needs 21 tablets, two boxes.
PARACETAMOL_7_DAYS = {"product_code": "MED-042", "posology": {"dose": 1, "unit": "tablet", "every_hours": 8,
                                                                "duration_days": 7}}


def mount(page, stack, locale, context, autofocus=True, user=DOCTOR):
    """Open the host page and mount the prescription widget with this session context (the host asks for focus,
    as a page does when the doctor has just pressed its Prescribe button); return the frame locator."""
    stack.session.update(widget="prescription", locale=locale, context=context, user=user)
    if not page.url.startswith(stack.host_url):
        page.goto(f"{stack.host_url}/page/host")
    page.evaluate("""([locale, autofocus]) => {
        if (window.handles.first) window.handles.first.destroy();
        window.mountWidget('first', '#first', {widget: 'prescription', locale, autofocus});
    }""", [locale, autofocus])
    return page.frame_locator("#first iframe")


def arrive(page, frame, locale, step):
    """The step is shown, its heading announced in the live region (not focused), and axe finds nothing serious."""
    frame.get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()
    expect(frame.locator("#widget-announcer")).to_have_text(HEADINGS[locale][step])
    assert_accessible(page, step)


def focused(page):
    """What has the focus inside the widget's frame: its outer HTML's opening, to say where it is when it is wrong."""
    return widget_frame(page).evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")


def expect_focus(page, selector):
    """document.activeElement inside the frame matches selector, and the frame has the page's focus (keys go there)."""
    widget_frame(page).wait_for_function(
        "selector => document.hasFocus() && !!document.activeElement && document.activeElement.matches(selector)",
        arg=selector)


def tab_to(page, selector, at_most, key="Tab"):
    """Tab (or Shift+Tab) to the element matching selector, off the happy path (a choice among several, an edit);
    fails past at_most presses, so a test also says how far it is."""
    frame = widget_frame(page)
    for _ in range(at_most + 1):
        if frame.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{at_most} presses of {key} did not reach {selector} (at {focused(page)})")


def issue(page, frame, locale):
    """The review's one action has the focus: Enter issues; return the outcome the host page heard."""
    expect_focus(page, "button[data-osigu-primary]")
    page.keyboard.press("Enter")
    frame.get_by_role("heading", name=HEADINGS[locale]["done"], exact=True).wait_for()
    if page.evaluate("() => !window.seen"):  # the example HIS shows the code instead
        return frame.locator("[data-osigu-prescription-code]").inner_text()
    page.wait_for_function("() => window.seen.first.some(entry => entry.kind === 'success')")
    return next(entry["data"] for entry in page.evaluate("() => window.seen.first") if entry["kind"] == "success")


def add_a_week_of(page, frame, query):
    """On the medications step: the one product the query finds, 1 tablet every 8 hours for 7 days, the quantity
    left to the posology (the suggested dose, unit and interval kept: the focus waits in the days)."""
    expect_focus(page, "#medication-query")
    page.keyboard.type(query)
    page.keyboard.press("Enter")  # its one result: the line form
    expect_focus(page, "#line-days")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    expect_focus(page, "#medication-query")  # added
