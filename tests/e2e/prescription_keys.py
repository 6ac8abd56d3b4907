"""Driving the prescription widget by keys alone on the stack's host page (tests/e2e/conftest.py), as a doctor does."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from test_prescription import HEADINGS

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


def frame_of(page):
    return page.locator("#first iframe").element_handle().content_frame()


def arrive(page, frame, locale, step):
    """The step is shown, its heading announced in the live region (not focused), and axe finds nothing serious."""
    frame.get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()
    expect(frame.locator("#widget-announcer")).to_have_text(HEADINGS[locale][step])
    results = Axe().run(frame_of(page))
    bad = [(v["id"], v["impact"], v["help"]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"accessibility violations on the {step} step: {bad}"


def focused(page):
    """What has the focus inside the widget's frame (document.activeElement): its id, else its text or label."""
    return frame_of(page).evaluate("""() => { const e = document.activeElement;
        return e ? (e.id || e.getAttribute('aria-label') || e.textContent || '').trim() : null; }""")


def expect_focus(page, name):
    """document.activeElement inside the frame is the element named (id, aria-label or text), and the frame has
    the page's focus, so typing goes there."""
    frame = frame_of(page)
    frame.wait_for_function("""name => { const e = document.activeElement;
        return !!e && document.hasFocus() && [e.id, e.getAttribute('aria-label'), (e.textContent || '').trim()]
            .includes(name); }""", arg=name)


def tab_to(page, name, at_most):
    """Tab to the element named, off the happy path (choosing among several, or editing); at most that many Tabs."""
    for _ in range(at_most + 1):
        if focused(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{at_most} Tabs did not reach {name!r} (at {focused(page)!r})")
