"""What a host page and a widget page download: the bytes Chromium received, and each asset's encodings.

Starts `osigu-widgets demo` on free ports, loads the example HIS page in Debian's Chromium and mounts
the prescription widget: once in a fresh browser context (cold: nothing cached) and again in the
same context (warm). Every response's size is Chromium's own count (Playwright's request.sizes():
headers plus the body as it crossed the wire; 0 for what came from the browser's cache). Then the
table of what the BFF holds for each asset (source, minified, gzip, brotli), built by the same
code the BFF runs at start-up.

Run: python benchmarks/widget_weight.py
"""

import gzip
import os
import re
import signal
import sys
from pathlib import Path

import brotli
import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from widget_ready import CHROMIUM_ARGS, start_demo  # noqa: E402  (a sibling script)

from widgets.assets import build_asset  # noqa: E402

# widget_ready's mount, but the iframe stays until the next mount: its responses' bodies stay readable.
MOUNT_AND_KEEP = """(patient) => new Promise((resolve, reject) => {
  if (window.benchmarkWidget) window.benchmarkWidget.destroy();
  window.benchmarkWidget = OsiguWidgets.mount("#osigu", {
    widget: "prescription", locale: "es",
    fetchToken: () => fetch("/widget-session", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({market: "v1", locale: "es", patient})}).then(r => r.json()).then(b => b.token),
    onReady: () => resolve(), onError: (error) => reject(new Error(error.code)),
  });
})"""
ASSETS = ["embed.js", "static/widget.js", "static/widget.css", "static/vendor/htmx-2.0.11.min.js"]


def received(request):
    """Bytes Chromium received for a request: headers and encoded body; 0 when served from its cache."""
    sizes = request.sizes()
    return max(0, sizes["responseHeadersSize"] + sizes["responseBodySize"])


class Recorder:
    """Keep every request the BFF answered; rows() reads their sizes once they have finished."""

    def __init__(self, page, bff_url):
        self.page, self.bff_url, self.requests = page, bff_url, []
        page.on("requestfinished", lambda request: self.requests.append(request))

    def until(self, path, action):
        """Run action and wait until the request for path (the last one it makes) has finished."""
        with self.page.expect_request_finished(lambda request: request.url.split("?")[0].endswith(path)):
            action()

    def rows(self):
        """(path, status, encoding, bytes received, body bytes once decoded) per BFF response so far."""
        rows = []
        for request in self.requests:
            if not request.url.startswith(self.bff_url):
                continue  # the host's own page, scripts and back end: not what the BFF serves
            response = request.response()
            rows.append((request.url[len(self.bff_url):].split("?")[0], response.status,
                         response.headers.get("content-encoding", "-"), received(request), len(response.body())))
        self.requests.clear()
        return rows


def measure(browser, host_url, bff_url):
    """The host page's embed.js, then a cold and a warm mount: lists of rows from Recorder."""
    context = browser.new_context()
    page = context.new_page()
    recorder = Recorder(page, bff_url)
    recorder.until("/embed.js", lambda: page.goto(host_url))
    host = recorder.rows()
    recorder.until("/resume", lambda: page.evaluate(MOUNT_AND_KEEP, "ana"))
    cold = recorder.rows()
    recorder.until("/resume", lambda: page.evaluate(MOUNT_AND_KEEP, "ana"))
    warm = recorder.rows()
    context.close()
    return host, cold, warm


def print_transfers(host, cold, warm):
    """One row per response of the host page and the cold mount, then the totals."""
    print("# Bytes Chromium received from the BFF (headers + body as sent; 0 from its cache)\n")
    print("| loaded by | response | status | encoding | received | body decoded |")
    print("|---|---|---|---|---|---|")
    for who, rows in (("host page", host), ("widget page, cold", cold)):
        for path, status, encoding, size, body in rows:
            print(f"| {who} | `{path}` | {status} | {encoding} | {size} | {body} |")
    print()
    print("| what | received | body decoded |")
    print("|---|---|---|")
    for what, rows in (("host page: embed.js", host), ("widget page, cold", cold), ("widget page, warm", warm)):
        print(f"| {what} | **{sum(row[3] for row in rows)}** | {sum(row[4] for row in rows)} |")


DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, "-": bytes}


def walk_to_review(host_url, bff_url):
    """A doctor's fragments from the first step to the review (not issued: the demo's data stays as it was)."""
    token = requests.post(f"{host_url}/widget-session", json={"market": "v1", "locale": "es", "patient": ""},
                          timeout=10).json()["token"]
    widget = requests.Session()
    widget.headers.update({"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": host_url,
                           "Accept-Encoding": "br, gzip"})
    rows = []

    def send(method, path, values=None):
        values = {"params" if method == "GET" else "data": values}
        response = widget.request(method, f"{bff_url}/widgets/prescription{path}", stream=True, timeout=10, **values)
        encoding, sent = response.headers.get("Content-Encoding", "-"), response.raw.read(decode_content=False)
        html = DECODE[encoding](sent).decode()
        rows.append((f"{method} {path}", encoding, len(sent), len(html.encode())))
        return html

    send("GET", "/resume")
    found = send("GET", "/patient/search", {"document_type": "CC", "document_number": "1000000001"})
    send("POST", "/patient/select", {"patient_id": re.search(r'name="patient_id"\s+value="([^"]+)"', found).group(1)})
    for typed in ("ce", "cef", "cefalea"):
        send("GET", "/diagnoses/search", {"q": typed})
    send("POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"})
    for typed in ("para", "paracetamol 500"):
        send("GET", "/medications/search", {"q": typed})
    send("GET", "/medications/line", {"product_code": "MED-042"})
    send("POST", "/medications/add", {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet",
                                      "every_hours": "8", "duration_days": "10"})
    send("GET", "/review")
    return rows


def print_fragments(host_url, bff_url):
    """Each fragment of a prescription as sent and as rendered: what compressing HTML per response saves."""
    print("\n# A prescription's fragments, first step to review (bodies as sent, without headers)\n")
    print("| request | encoding | sent | rendered |")
    print("|---|---|---|---|")
    rows = walk_to_review(host_url, bff_url)
    for request, encoding, sent, rendered in rows:
        print(f"| `{request}` | {encoding} | {sent} | {rendered} |")
    print(f"| **total** | | **{sum(row[2] for row in rows)}** | {sum(row[3] for row in rows)} |")


def print_encodings():
    """Each asset as the BFF keeps it: source bytes, minified, and its precompressed forms."""
    print("\n# What the BFF holds per asset (built once at start-up)\n")
    print("| asset | source bytes | minified | gzip -9 | brotli q11 |")
    print("|---|---|---|---|---|")
    for name in ASSETS:
        raw = (ROOT / name).read_bytes()
        asset = build_asset(name, raw)
        print(f"| `{name}` | {len(raw)} | {len(asset.body)} | {len(asset.encoded['gzip'])} | "
              f"{len(asset.encoded['br'])} |")


def main():
    demo, host_url, bff_url, _ = start_demo()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
            print_transfers(*measure(browser, host_url, bff_url))
            browser.close()
        print_fragments(host_url, bff_url)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    print_encodings()


if __name__ == "__main__":
    main()
