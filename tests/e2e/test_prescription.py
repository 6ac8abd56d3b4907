"""The e-prescription widget in the example HIS, in a real Chromium: host page and BFF on different origins."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.e2e

HEADINGS = {
    "es": {"diagnoses": "Diagnósticos", "medications": "Medicamentos", "consent": "Consentimiento del paciente",
           "review": "Revisar y emitir", "done": "Receta emitida", "patient": "Paciente"},
    "en": {"diagnoses": "Diagnoses", "medications": "Medications", "consent": "Patient's consent",
           "review": "Review and issue", "done": "Prescription issued", "patient": "Patient"},
    "pt": {"diagnoses": "Diagnósticos", "medications": "Medicamentos", "consent": "Consentimento do doente",
           "review": "Rever e emitir", "done": "Receita emitida", "patient": "Doente"},
}
WORDS = {
    "es": {"search_dx": "Buscar en la CIE-10 por código o palabras",
           "search_med": "Buscar entre sus medicamentos registrados", "add": "Añadir R51",
           "prescribe": "Recetar Paracetamol 500 mg comprimido, caja de 20", "days": "Durante cuántos días",
           "quantity": "Cantidad a dispensar (unidades)", "add_line": "Añadir a la receta", "continue": "Continuar",
           "consent": "El paciente da su consentimiento: continuar", "issue": "Emitir receta",
           "posology": "1 comprimido cada 8 horas durante 10 días", "cancel": "Cancelar receta"},
    "en": {"search_dx": "Search ICD-10 by code or words", "search_med": "Search your registered medications",
           "add": "Add R51", "prescribe": "Prescribe Paracetamol 500 mg tablet, box of 20",
           "days": "For how many days", "quantity": "Quantity to dispense (units)", "add_line": "Add to prescription",
           "continue": "Continue", "consent": "The patient consents: continue", "issue": "Issue prescription",
           "posology": "1 tablet every 8 hours for 10 days", "cancel": "Cancel prescription"},
    "pt": {"search_dx": "Pesquisar na CID-10 por código ou palavras", "search_med": "Pesquisar os seus medicamentos "
           "registados", "add": "Adicionar R51", "prescribe": "Prescrever Paracetamol 500 mg comprimido, caixa de 20",
           "days": "Durante quantos dias", "quantity": "Quantidade a dispensar (unidades)",
           "add_line": "Adicionar à receita", "continue": "Continuar",
           "consent": "O doente dá o seu consentimento: continuar", "issue": "Emitir receita",
           "posology": "1 comprimido de 8 em 8 horas durante 10 dias",
           "cancel": "Cancelar receita"},
}


def open_his(page, his, locale="es"):
    """Open the HIS page in a language and record every message that reaches it, with the origin it came from."""
    page.add_init_script("""window.received = [];
        window.addEventListener('message', e => window.received.push({origin: e.origin, data: e.data}));""")
    page.goto(f"{his.url}/?lang={locale}")


def start(page, market="v1", locale="es", patient="ana"):
    """Prescribe from the HIS page, switching its language first (the widget speaks the page's)."""
    if page.evaluate("() => document.documentElement.lang") != locale:
        with page.expect_navigation():
            page.select_option("#locale", locale)
    page.select_option("#market", market)
    page.select_option("#patient", patient)
    page.locator("#choice button[type=submit]").click()
    return page.frame_locator("#osigu iframe")


def widget_frame(page):
    """The widget's frame, in the example HIS (#osigu) or on the stack's host page (#first)."""
    return page.locator("#osigu iframe, #first iframe").element_handle().content_frame()


def assert_accessible(page, step):
    """axe-core inside the widget's (cross-origin) frame: nothing serious or critical."""
    results = Axe().run(widget_frame(page))
    bad = [(v["id"], v["impact"], v["help"]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"accessibility violations on the {step} step: {bad}"


def expect_step(frame, locale, step):
    frame.get_by_role("heading", name=HEADINGS[locale][step], exact=True).wait_for()


def walk_to_review(page, frame, market, locale):
    words = WORDS[locale]
    expect_step(frame, locale, "diagnoses")
    assert_accessible(page, "diagnoses")
    frame.get_by_label(words["search_dx"]).fill("cefalea")
    frame.get_by_role("button", name=words["add"], exact=True).click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    frame.get_by_role("button", name=words["continue"]).click()
    expect_step(frame, locale, "medications")
    assert_accessible(page, "medications")
    frame.get_by_label(words["search_med"]).fill("paracetamol 500")
    frame.get_by_role("button", name=words["prescribe"], exact=True).click()
    frame.get_by_label(words["days"]).fill("10")
    frame.get_by_label(words["quantity"]).fill("30")
    assert_accessible(page, "medication line")
    frame.get_by_role("button", name=words["add_line"]).click()
    frame.get_by_text(words["posology"]).wait_for()
    frame.get_by_role("button", name=words["continue"]).click()
    if market == "v1.1":
        expect_step(frame, locale, "consent")
        assert_accessible(page, "consent")
        frame.get_by_role("button", name=words["consent"]).click()
    expect_step(frame, locale, "review")
    assert_accessible(page, "review")


@pytest.mark.parametrize("market", ["v1", "v1.1", "v2"])
@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_doctor_issues_a_prescription(page, his, market, locale):
    open_his(page, his)
    frame = start(page, market, locale)
    walk_to_review(page, frame, market, locale)
    frame.get_by_role("button", name=WORDS[locale]["issue"]).click()
    expect_step(frame, locale, "done")
    assert_accessible(page, "done")
    code = frame.locator("[data-osigu-prescription-code]").inner_text()
    assert re.fullmatch(r"RX-\d{4}-\d{6}", code)
    # The host heard it through onSuccess, from the BFF's origin, on this mount's channel.
    page.locator("#last-prescription", has_text=code).wait_for()
    channel = re.search(r"channel=([0-9a-f]{32})", page.locator("#osigu iframe").get_attribute("src")).group(1)
    success = page.evaluate("() => window.received.filter(m => m.data && m.data.type === 'success')")
    assert len(success) == 1 and success[0]["origin"] == his.bff and success[0]["data"]["channel"] == channel
    assert success[0]["data"]["data"]["prescription_code"] == code
    assert set(success[0]["data"]["data"]) == {"prescription_id", "prescription_code", "status", "created_at"}
    # ... and its back end through the signed callback.
    page.locator("#callbacks li", has_text=code).wait_for()


def test_the_doctor_looks_up_the_patient_when_the_host_passes_none(page, his):
    open_his(page, his)
    frame = start(page, "v1", "en", patient="")
    expect_step(frame, "en", "patient")
    assert_accessible(page, "patient")
    frame.get_by_label("Document number").fill("12345678Z")
    frame.get_by_role("button", name="Prescribe for this patient").click()
    expect_step(frame, "en", "diagnoses")
    frame.get_by_text("Lucía Fernández").wait_for()


def test_cancelling_posts_exit_and_the_host_removes_the_widget(page, his):
    open_his(page, his)
    frame = start(page)
    expect_step(frame, "es", "diagnoses")
    channel = re.search(r"channel=([0-9a-f]{32})", page.locator("#osigu iframe").get_attribute("src")).group(1)
    frame.get_by_role("button", name=WORDS["es"]["cancel"]).click()
    page.locator("#osigu iframe").wait_for(state="detached")  # the host's onExit destroyed it
    exits = page.evaluate("() => window.received.filter(m => m.data && m.data.type === 'exit')")
    assert [m["data"]["data"] for m in exits] == [{"reason": "cancelled", "step": "diagnoses"}]
    assert exits[0]["origin"] == his.bff and exits[0]["data"]["channel"] == channel


def test_reloading_the_iframe_resumes_the_step(page, his):
    open_his(page, his)
    frame = start(page, "v1", "en")
    walk_to_review(page, frame, "v1", "en")
    page.evaluate("() => { const f = document.querySelector('#osigu iframe'); f.src = f.src; }")
    expect_step(frame, "en", "review")
    frame.get_by_text(WORDS["en"]["posology"]).wait_for()


def test_a_keyboard_alone_is_enough(page, his):
    open_his(page, his)
    page.locator("#choice button[type=submit]").focus()
    page.keyboard.press("Enter")
    frame = page.frame_locator("#osigu iframe")
    expect_step(frame, "es", "diagnoses")
    words = WORDS["es"]

    def tab_to(name):
        """Press Tab until the focused element inside the widget is the one named; then it is ready for a key."""
        for _ in range(40):
            focused = widget_frame(page).evaluate(
                "() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || "
                "(e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || '').trim() : ''; }")
            if focused == name:  # a step may already focus it on arrival
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to(words["search_dx"])
    page.keyboard.type("cefalea")
    frame.get_by_role("button", name=words["add"], exact=True).wait_for()
    tab_to(words["add"])
    page.keyboard.press("Enter")
    frame.locator(".osigu-chosen", has_text="R51").wait_for()
    tab_to(words["continue"])
    page.keyboard.press("Enter")
    expect_step(frame, "es", "medications")
    tab_to(words["search_med"])
    page.keyboard.type("paracetamol 500")
    frame.get_by_role("button", name=words["prescribe"], exact=True).wait_for()
    tab_to(words["prescribe"])
    page.keyboard.press("Enter")
    frame.get_by_label(words["days"]).wait_for()
    tab_to(words["days"])
    page.keyboard.type("10")
    tab_to(words["quantity"])
    page.keyboard.type("30")
    page.keyboard.press("Enter")  # submits the line form
    frame.get_by_text(words["posology"]).wait_for()
    tab_to(words["continue"])
    page.keyboard.press("Enter")
    expect_step(frame, "es", "review")
    tab_to(words["issue"])
    page.keyboard.press("Enter")
    expect_step(frame, "es", "done")
    page.locator("#last-prescription", has_text=re.compile(r"RX-\d{4}-\d{6}")).wait_for()


def test_the_accessibility_check_sees_inside_the_widget_frame(page, his):
    open_his(page, his)
    expect_step(start(page), "es", "diagnoses")
    widget_frame(page).evaluate("() => document.querySelector('#widget').append(document.createElement('input'))")
    with pytest.raises(AssertionError, match="label"):  # an unlabelled field is critical: the check can fail
        assert_accessible(page, "planted")


def test_the_sessions_theme_and_the_mounts_theme_style_the_widget(page, his):
    import requests

    open_his(page, his)
    session = requests.post(f"{his.bff}/v1/widget-sessions", timeout=10,
                            headers={"Authorization": "Bearer demo-his-api-key"},
                            json={"widget": "prescription", "origin": his.url, "locale": "en",
                                  "user": {"id": "dr-1", "name": "Dr. One", "role": "doctor"},
                                  "theme": {"primary_color": "#aa0000"}}).json()
    page.evaluate("""(token) => OsiguWidgets.mount('#osigu', {widget: 'prescription', token, locale: 'en',
        theme: {primary_color: '#00aa00', radius: '12px', font_family: 'x; } body { display: none'}})""",
                  session["token"])
    search = page.frame_locator("#osigu iframe").get_by_role("button", name="Search")
    search.wait_for()
    style = search.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).borderTopLeftRadius]")
    assert style == ["rgb(170, 0, 0)", "12px"]  # the session's colour wins; the mount's radius applies
    assert page.frame_locator("#osigu iframe").locator("body").is_visible()  # the hostile font was ignored


def test_a_spanish_doctor_types_a_decimal_comma(page, his):
    open_his(page, his)
    frame = start(page)
    expect_step(frame, "es", "diagnoses")
    frame.get_by_label(WORDS["es"]["search_dx"]).fill("cefalea")
    frame.get_by_role("button", name=WORDS["es"]["add"], exact=True).click()
    frame.locator(".osigu-chosen", has_text="R51").wait_for()  # added before moving on
    frame.get_by_role("button", name=WORDS["es"]["continue"]).click()
    expect_step(frame, "es", "medications")
    frame.get_by_label(WORDS["es"]["search_med"]).fill("paracetamol 500")
    frame.get_by_role("button", name=WORDS["es"]["prescribe"], exact=True).click()
    frame.get_by_label("Dosis").fill("0,5")
    frame.get_by_label(WORDS["es"]["days"]).fill("10")  # the quantity left empty: computed from the posology
    frame.get_by_role("button", name=WORDS["es"]["add_line"]).click()
    frame.get_by_text("0,5 comprimidos cada 8 horas durante 10 días").wait_for()
    frame.get_by_text("Cantidad: 20 unidades").wait_for()  # 15 tablets needed: a whole box of 20


def test_a_portuguese_doctor_issues_a_prescription_in_portugal(page, his):
    open_his(page, his, "pt")
    assert page.locator("h2#chart-title").inner_text() == "Nova receita"  # the page in one language
    assert page.get_by_text("New prescription").count() == 0
    frame = start(page, "v1.1", "pt")
    walk_to_review(page, frame, "v1.1", "pt")
    frame.get_by_role("button", name=WORDS["pt"]["issue"]).click()
    expect_step(frame, "pt", "done")
    code = frame.locator("[data-osigu-prescription-code]").inner_text()
    page.locator("#last-prescription", has_text=f"Receita {code} emitida").wait_for()


def test_the_his_page_switches_language_as_a_whole(page, his):
    open_his(page, his)
    assert page.get_by_role("button", name="Recetar", exact=True).is_visible()
    with page.expect_navigation():
        page.select_option("#locale", "en")
    assert page.get_by_role("button", name="Prescribe", exact=True).is_visible()
    assert page.get_by_text("Nueva receta").count() == 0 and page.get_by_text("Recetar").count() == 0
