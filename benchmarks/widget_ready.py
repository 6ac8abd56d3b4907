"""Time from OsiguWidgets.mount() to the widget's ready, in Chromium, for the prescription and dispensing widgets.

Starts `osigu-widgets demo` on free ports (simulator, BFF, example HIS as their own processes),
then mounts each widget in the example HIS's pages N times and reports the median: cold (a fresh
browser context each time: nothing cached) and warm (one context, mounted again). Each mount
includes everything a user waits for: the iframe's shell page, htmx and widget.js, the handshake,
the host back end asking the BFF for a session, and the first step rendered (with the patient
looked up in Osigu when the host names one; with the dispensation started at Osigu when the host
passes a code, a fresh prescription code for each mount).

Run: python benchmarks/widget_ready.py [--runs 20]
"""

import argparse
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys

import requests
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MOUNT_UNTIL_READY = """(choice) => new Promise((resolve, reject) => {
  const started = performance.now();
  const handle = OsiguWidgets.mount("#osigu", {
    widget: choice.widget, locale: "es",
    fetchToken: () => fetch("/widget-session", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(choice)}).then(r => r.json()).then(b => b.token),
    onReady: () => { const elapsed = performance.now() - started; handle.destroy(); resolve(elapsed); },
    onError: (error) => reject(new Error(error.code)),
  });
})"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo():
    """Run the demo on free ports; return (process, host page URL, BFF URL, simulator URL) once it is ready."""
    ports = [str(free_port()) for _ in range(3)]
    process = subprocess.Popen([sys.executable, "-m", "bff.cli", "demo", "--simulator-port", ports[0],
                                "--bff-port", ports[1], "--host-port", ports[2]],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in process.stdout:
        if "Ctrl+C" in line:
            return (process, f"http://localhost:{ports[2]}", f"http://127.0.0.1:{ports[1]}",
                    f"http://127.0.0.1:{ports[0]}")
    raise SystemExit("the demo did not start")


def prescription_codes(simulator):
    """Issue v1 prescriptions for Ana López (paracetamol) at the simulator, as a clinic would; yield their codes."""
    session = requests.Session()
    token = session.post(f"{simulator}/v1/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": "demo-hospital", "client_secret": "demo-hospital-secret"})
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    while True:
        issued = session.post(f"{simulator}/ehr/v1/prescriptions", timeout=10, json={
            "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}]})
        issued.raise_for_status()
        yield issued.json()["prescription_code"]


def measure(browser, url, runs, choices, cold):
    """Mount→ready in milliseconds, runs times, each mount with the next of choices (what the page asks for)."""
    samples = []
    context = None
    for choice in itertools.islice(choices, runs):
        if context is None or cold:
            if context is not None:
                context.close()
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
        samples.append(page.evaluate(MOUNT_UNTIL_READY, choice))
    context.close()
    return samples


def rows(url, simulator):
    """(widget, first step, page, what each mount asks the HIS's back end for)."""
    codes = prescription_codes(simulator)
    return [
        ("prescription", "diagnoses (patient looked up in Osigu)", url,
         itertools.repeat({"widget": "prescription", "market": "v1", "locale": "es", "patient": "ana"})),
        ("prescription", "patient (no lookup)", url,
         itertools.repeat({"widget": "prescription", "market": "v1", "locale": "es", "patient": ""})),
        ("dispensing", "code (typed at the counter)", f"{url}/pharmacy",
         itertools.repeat({"widget": "dispensing", "locale": "es", "code": ""})),
        ("dispensing", "products (the host's code: dispensation started at Osigu)", f"{url}/pharmacy",
         ({"widget": "dispensing", "locale": "es", "code": code} for code in codes)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()
    demo, url, _, simulator = start_demo()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
            for _, _, page, choices in rows(url, simulator):  # warm the servers up; not reported
                measure(browser, page, 2, choices, cold=False)
            print(f"# mount() → ready, Chromium, median of {arguments.runs}\n")
            print("| widget | first step | cache | median ms | p90 ms | min ms | max ms |")
            print("|---|---|---|---|---|---|---|")
            for widget, step, page, choices in rows(url, simulator):
                for cold in (True, False):
                    samples = measure(browser, page, arguments.runs, choices, cold)
                    ninetieth = sorted(samples)[int(0.9 * (len(samples) - 1))]
                    print(f"| {widget} | {step} | {'cold' if cold else 'warm'} | {statistics.median(samples):.0f} | "
                          f"{ninetieth:.0f} | {min(samples):.0f} | {max(samples):.0f} |")
            browser.close()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)


if __name__ == "__main__":
    main()
