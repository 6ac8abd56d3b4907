"""embed.js and the widget bridge in a real Chromium, host page and BFF on different origins."""

import pytest

pytestmark = pytest.mark.e2e


def seen(page, name):
    return page.evaluate("name => window.seen[name] || []", name)


def kinds(page, name):
    return [entry["kind"] for entry in seen(page, name)]


def mount(page, name="first", selector="#first", **options):
    page.evaluate("([name, selector, options]) => window.mountWidget(name, selector, options)",
                  [name, selector, {"widget": "preauth", "locale": "es"} | options])


def wait_for(page, name, kind, timeout=15000):
    page.wait_for_function("([name, kind]) => (window.seen[name] || []).some(e => e.kind === kind)",
                           arg=[name, kind], timeout=timeout)


def test_mount_hands_over_the_session_and_becomes_ready(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    mount(page)
    wait_for(page, "first", "ready")
    frame = page.frame_locator("#first iframe")
    assert frame.locator("text=Hola Farm. Gil").is_visible()
    assert page.locator("#first .osigu-widget-placeholder").count() == 0
    assert "fetched-token" in kinds(page, "first")  # no token given: fetchToken made one
    page.wait_for_function("() => parseInt(document.querySelector('#first iframe').style.height) > 0")
    iframe_src = page.locator("#first iframe").get_attribute("src")
    assert iframe_src.startswith(stack.bff_url) and "token" not in iframe_src
    assert {"kind": "event:step", "data": {"step": "probe"}} in seen(page, "first")


def test_a_token_given_up_front_is_used(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    token = page.evaluate("() => fetch('/token', {method: 'POST'}).then(r => r.json()).then(b => b.token)")
    mount(page, token=token)
    wait_for(page, "first", "ready")
    assert "fetched-token" not in kinds(page, "first")


def test_two_widgets_on_one_page_do_not_cross_talk(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    mount(page, "first", "#first")
    mount(page, "second", "#second")
    wait_for(page, "first", "ready")
    wait_for(page, "second", "ready")
    assert kinds(page, "first").count("ready") == 1 and kinds(page, "second").count("ready") == 1
    channels = page.evaluate("() => [...document.querySelectorAll('iframe')].map(f => new URL(f.src)"
                             ".searchParams.get('channel'))")
    assert len(set(channels)) == 2


def test_a_forged_message_from_another_frame_is_ignored(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    mount(page)
    wait_for(page, "first", "ready")
    channel = page.evaluate("() => new URL(document.querySelector('#first iframe').src).searchParams.get('channel')")
    page.evaluate("""([url]) => new Promise(resolve => {
        window.addEventListener('message', e => { if (e.data && e.data.type === 'forger-done') resolve(); });
        const frame = document.createElement('iframe');
        frame.src = url;
        document.body.appendChild(frame);
    })""", [f"{stack.other_origin_url}/page/forger?channel={channel}"])
    assert "success" not in kinds(page, "first")


def test_destroy_removes_everything_and_is_idempotent(page, stack):
    page.goto(f"{stack.host_url}/page/host")
    mount(page)
    wait_for(page, "first", "ready")
    page.evaluate("() => { window.handles.first.destroy(); window.handles.first.destroy(); }")
    assert page.locator("#first").inner_html().strip() == ""


def test_a_page_on_an_unregistered_origin_hears_it_at_once(page, stack, console_errors):
    # Served from 127.0.0.1, which the host app did not register.
    page.goto(f"{stack.other_origin_url}/page/host")
    mount(page, loadTimeoutMs=60000)
    wait_for(page, "first", "error", timeout=5000)  # long before any load timeout could fire
    error = seen(page, "first")[0]["data"]
    assert error["code"] == "ORIGIN_NOT_REGISTERED" and error["retryable"] is False
    assert stack.other_origin_url in error["message"] and "BFF_HOST_APPS" in error["message"]
    assert "ready" not in kinds(page, "first") and page.locator("#first iframe").count() == 0
    # The console says what to configure, with the demo's option too.
    told = [text for text in console_errors if "OsiguWidgets:" in text]
    assert told and f"--allow-origin {stack.other_origin_url}" in told[0], console_errors
    console_errors.clear()


def test_an_unregistered_page_still_cannot_frame_the_widget(page, stack, console_errors):
    # Even when embed.js cannot ask (the check is blocked here), the widget's CSP refuses the frame.
    page.route("**/v1/origins/check*", lambda route: route.abort())
    page.goto(f"{stack.other_origin_url}/page/host")
    mount(page, loadTimeoutMs=3000)
    wait_for(page, "first", "error")
    assert seen(page, "first")[0]["data"]["code"] == "LOAD_TIMEOUT"
    assert "ready" not in kinds(page, "first")
    refused = [text for text in console_errors if "frame-ancestors" in text or "Refused to frame" in text]
    assert refused, console_errors
    console_errors.clear()


def test_the_console_check_sees_inside_the_widget_frame(page, stack, console_errors):
    page.goto(f"{stack.host_url}/page/host")
    mount(page)
    wait_for(page, "first", "ready")
    widget = page.locator("#first iframe").element_handle().content_frame()
    widget.evaluate("() => console.error('planted in the widget frame')")
    stack.eventually(lambda: "planted in the widget frame" in console_errors)
    console_errors.clear()


def test_an_expired_session_is_renewed_through_fetch_token_and_the_request_retried(page, stack, console_errors):
    from bff.db import WidgetSession, db, utcnow

    page.goto(f"{stack.host_url}/page/host")
    mount(page)
    wait_for(page, "first", "ready")
    with stack.bff_app.app_context():
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow()))
        db.session.commit()
    page.frame_locator("#first iframe").get_by_role("button", name="Reload").click()
    page.wait_for_function("() => window.seen.first.filter(e => e.kind === 'fetched-token').length === 2")
    # The refused request is sent again with the new session: the step renders a second time.
    page.frame_locator("#first iframe").get_by_text("Render 2").wait_for()
    assert "error" not in kinds(page, "first")
    # The browser and htmx log the refused request; that 401 is the point of this test.
    assert all("401" in text for text in console_errors), console_errors
    console_errors.clear()


def test_a_session_expired_before_the_first_step_still_becomes_ready(page, stack, console_errors):
    from bff.db import WidgetSession, db, utcnow

    page.goto(f"{stack.host_url}/page/host")
    token = page.evaluate("() => fetch('/token', {method: 'POST'}).then(r => r.json()).then(b => b.token)")
    with stack.bff_app.app_context():
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow()))
        db.session.commit()
    mount(page, token=token)  # an expired token: the first step is refused, renewed, retried
    wait_for(page, "first", "ready")
    assert kinds(page, "first").count("fetched-token") == 1
    assert all("401" in text for text in console_errors), console_errors
    console_errors.clear()
