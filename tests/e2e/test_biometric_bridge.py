"""A host's own biometric reader, the camera and a file, through embed.js and widget.js across two origins."""

import base64
import json

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
READING = base64.b64encode(b"fingerprint minutiae").decode()


@pytest.fixture(scope="module")
def browser(browser):
    """A second Chromium of the same Playwright, with a fake camera (a test pattern) allowed without a prompt."""
    import os

    camera = browser.browser_type.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    yield camera
    camera.close()


def heard(page, kind):
    return page.evaluate("kind => window.heard.filter(e => e.kind === kind).map(e => e.data)", kind)


def open_verification(page, stack, **options):
    """Mount the widget on the fixture page and go to the probe's biometric form; return the widget frame."""
    page.goto(f"{stack.host_url}/page/biometric-host")
    page.evaluate("options => { window.handle = window.mountWidget(options); }", options)
    frame = page.frame_locator("#widget iframe")
    frame.get_by_role("button", name="Verify").click()
    frame.get_by_role("heading", name="Verify").wait_for()
    if options.get("onBiometricRequest", True) is not None:
        # Offered once htmx has processed the new step (its load event): a user could not act sooner either.
        frame.get_by_role("button", name="Use the reader").wait_for()
    return frame


def test_the_hosts_reader_answers_the_widget_and_the_reading_is_sent(page, stack):
    frame = open_verification(page, stack)
    reader = frame.get_by_role("button", name="Use the reader")
    reader.click()  # un-hidden: the host told the widget at the handshake it has a reader
    frame.get_by_text("Read FINGERPRINT, 20 bytes, other").wait_for()
    assert page.evaluate("() => window.asked") == [{"modality": "FINGERPRINT"}]
    assert heard(page, "event:biometric_requested") == [{"modality": "FINGERPRINT"}]
    # The reading went to the widget only: nothing the host's callbacks heard carries it.
    assert READING not in json.dumps(page.evaluate("() => window.heard"))


def test_without_a_reader_the_widget_does_not_offer_one(page, stack):
    frame = open_verification(page, stack, onBiometricRequest=None)
    assert frame.locator("[data-osigu-biometric-host]").is_hidden()
    assert frame.get_by_role("button", name="Take a photo").is_visible()


@pytest.mark.parametrize(("behaviour", "code"), [("throws", "BIOMETRIC_UNAVAILABLE"),
                                                 ("rejects", "BIOMETRIC_UNAVAILABLE"),
                                                 ("garbage", "BIOMETRIC_INVALID")])
def test_a_reader_that_fails_is_an_error_the_widget_shows_and_it_can_try_again(page, stack, behaviour, code):
    frame = open_verification(page, stack)
    page.evaluate("behaviour => { window.reader = behaviour; }", behaviour)
    frame.get_by_role("button", name="Use the reader").click()
    frame.get_by_role("alert").filter(has_text="The reader failed").wait_for()
    assert [error["code"] for error in heard(page, "error")] == [code]
    assert frame.locator("[data-osigu-biometric-host]").get_attribute("aria-busy") is None
    page.evaluate("() => { window.reader = 'late'; }")
    frame.get_by_role("button", name="Use the reader").click()
    frame.get_by_text("Read FINGERPRINT, 20 bytes, other").wait_for()


def test_a_reader_that_never_answers_times_out(page, stack):
    frame = open_verification(page, stack, biometricTimeoutMs=500)
    page.evaluate("() => { window.reader = 'silent'; }")
    frame.get_by_role("button", name="Use the reader").click()
    frame.get_by_role("alert").filter(has_text="The reader failed").wait_for()
    assert [error["code"] for error in heard(page, "error")] == ["BIOMETRIC_TIMEOUT"]


def test_a_reading_over_the_limit_is_refused_before_it_is_sent(page, stack):
    frame = open_verification(page, stack)
    page.evaluate("() => { window.reader = 'huge'; }")
    frame.get_by_role("button", name="Use the reader").click()
    frame.get_by_role("alert").filter(has_text="Too large").wait_for()
    assert frame.get_by_role("heading", name="Verify").is_visible()  # nothing was posted


def test_an_image_file_is_read_and_sent(page, stack):
    frame = open_verification(page, stack)
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    frame.get_by_label("Or an image").set_input_files({"name": "finger.png", "mimeType": "image/png", "buffer": png})
    frame.get_by_text(f"Read FINGERPRINT, {len(png)} bytes, other").wait_for()


def test_a_file_over_the_limit_is_refused(page, stack):
    frame = open_verification(page, stack)
    big = {"name": "finger.png", "mimeType": "image/png", "buffer": bytes(300000)}
    frame.get_by_label("Or an image").set_input_files(big)
    frame.get_by_role("alert").filter(has_text="Too large").wait_for()


def test_the_camera_takes_one_jpeg_and_is_switched_off(page, stack):
    frame = open_verification(page, stack)
    widget = page.locator("#widget iframe").element_handle().content_frame()
    # Count the camera tracks the widget opens and whether each is stopped again.
    widget.evaluate("""() => {
        window.tracks = [];
        const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getUserMedia = c => open(c).then(stream => {
            window.tracks.push(...stream.getTracks());
            return stream;
        });
    }""")
    frame.get_by_role("button", name="Take a photo").click()
    frame.get_by_text("Read FACE,").filter(has_text="JPEG").wait_for()
    assert widget.evaluate("() => window.tracks.map(t => t.readyState)") == ["ended"]


def test_a_camera_the_browser_refuses_says_so(page, stack):
    frame = open_verification(page, stack)
    widget = page.locator("#widget iframe").element_handle().content_frame()
    widget.evaluate("() => { navigator.mediaDevices.getUserMedia = () => "
                    "Promise.reject(new DOMException('denied', 'NotAllowedError')); }")
    frame.get_by_role("button", name="Take a photo").click()
    frame.get_by_role("alert").filter(has_text="No camera").wait_for()


def test_only_the_widgets_that_take_readings_may_use_the_camera(stack, page):
    # stack before page: the page (its mounts' requests still in flight) closes before the servers stop.
    page.goto(f"{stack.host_url}/page/biometric-host")
    allowed = page.evaluate("""() => ["prescription", "dispensing", "preauth"].map(widget => {
        const handle = window.mountWidget({widget, loadTimeoutMs: 60000});
        const allow = document.querySelector("#widget iframe").getAttribute("allow");
        handle.destroy();
        return allow;
    })""")
    assert allowed == ["", "camera", "camera"]
