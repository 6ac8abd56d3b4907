"""Time from OsiguWidgets.mount() to the widget's ready, in Chromium.

Starts `osigu-widgets demo` on free ports (simulator, BFF, example HIS as their own processes),
then mounts the prescription widget in the example HIS page N times and reports the median:
cold (a fresh browser context each time: nothing cached) and warm (one context, mounted again).
Each mount includes everything a doctor waits for: the iframe's shell page, htmx and widget.js,
the handshake, the host back end asking the BFF for a session, and the first step rendered (with
the patient looked up in Osigu when the host names one).

Run: python benchmarks/widget_ready.py [--runs 20]
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MOUNT_UNTIL_READY = """(patient) => new Promise((resolve, reject) => {
  const started = performance.now();
  const handle = OsiguWidgets.mount("#osigu", {
    widget: "prescription", locale: "es",
    fetchToken: () => fetch("/widget-session", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({market: "v1", locale: "es", patient})}).then(r => r.json()).then(b => b.token),
    onReady: () => { const elapsed = performance.now() - started; handle.destroy(); resolve(elapsed); },
    onError: (error) => reject(new Error(error.code)),
  });
})"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo():
    """Run the demo on free ports; return (process, host page URL, BFF URL) once it says it is ready."""
    ports = [str(free_port()) for _ in range(3)]
    process = subprocess.Popen([sys.executable, "-m", "bff.cli", "demo", "--simulator-port", ports[0],
                                "--bff-port", ports[1], "--host-port", ports[2]],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in process.stdout:
        if "Ctrl+C" in line:
            return process, f"http://localhost:{ports[2]}", f"http://127.0.0.1:{ports[1]}"
    raise SystemExit("the demo did not start")


def measure(browser, url, runs, patient, cold):
    """Mount→ready in milliseconds, runs times."""
    samples = []
    context = None
    for _ in range(runs):
        if context is None or cold:
            if context is not None:
                context.close()
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
        samples.append(page.evaluate(MOUNT_UNTIL_READY, patient))
    context.close()
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()
    demo, url, _ = start_demo()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
            measure(browser, url, 2, "ana", cold=False)  # warm the servers up; not reported
            print(f"# mount() → ready, prescription widget, Chromium, median of {arguments.runs}\n")
            print("| first step | cache | median ms | p90 ms | min ms | max ms |")
            print("|---|---|---|---|---|---|")
            for patient, step in (("ana", "diagnoses (patient looked up in Osigu)"), ("", "patient (no lookup)")):
                for cold in (True, False):
                    samples = measure(browser, url, arguments.runs, patient, cold)
                    ninetieth = sorted(samples)[int(0.9 * (len(samples) - 1))]
                    print(f"| {step} | {'cold' if cold else 'warm'} | {statistics.median(samples):.0f} | "
                          f"{ninetieth:.0f} | {min(samples):.0f} | {max(samples):.0f} |")
            browser.close()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)


if __name__ == "__main__":
    main()
