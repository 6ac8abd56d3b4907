"""Cancelling an issued prescription in the example HIS, in a real Chromium: host page and BFF on different origins."""

import json

import pytest
from playwright.sync_api import expect
from test_prescription import WORDS, assert_accessible, expect_step, open_his, start, walk_to_review

pytestmark = pytest.mark.e2e

CANCEL = {"es": {"ask": "Cancelar esta receta", "confirm": "Sí, cancelarla", "keep": "No, mantenerla"},
          "en": {"ask": "Cancel this prescription", "confirm": "Yes, cancel it", "keep": "No, keep it"}}


@pytest.mark.parametrize("locale", ["es", "en"])
def test_the_doctor_confirms_and_the_host_hears_the_prescription_withdrawn(page, his, locale):
    open_his(page, his)
    frame = start(page, "v1", locale)
    walk_to_review(page, frame, "v1", locale)
    frame.get_by_role("button", name=WORDS[locale]["issue"]).click()
    expect_step(frame, locale, "done")
    code = frame.locator("[data-osigu-prescription-code]").inner_text()

    frame.get_by_role("button", name=CANCEL[locale]["ask"]).click()
    frame.get_by_role("button", name=CANCEL[locale]["confirm"]).wait_for()
    assert_accessible(page, "cancel confirmation")
    expect(frame.get_by_role("button", name=CANCEL[locale]["keep"])).to_be_focused()  # the safe answer first
    frame.get_by_role("button", name=CANCEL[locale]["confirm"]).click()

    page.locator("#osigu iframe").wait_for(state="detached")  # the host's onExit removed the widget
    exits = page.evaluate("() => window.received.filter(m => m.data && m.data.type === 'exit')")
    assert [m["data"]["data"] for m in exits] == [{"reason": "prescription_cancelled", "step": "done"}]
    assert exits[0]["origin"] == his.bff
    callback = page.locator("#callbacks li", has_text="widget.prescription.cancelled")
    callback.wait_for()
    assert json.loads(callback.inner_text().split(" ", 1)[1])["code"] == code
