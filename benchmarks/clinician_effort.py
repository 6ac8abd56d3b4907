"""What a prescription and a counter dispensation cost the clinician: screens, clicks, keys, focus-only Tabs.

Starts `osigu-widgets demo` on free ports (simulator, BFF and example HIS as their own processes, the BFF on a
fresh database), opens the example HIS's pages in Debian's Chromium and drives each scenario as an efficient
doctor or pharmacist would with the widgets as they are: keyboard first, a click only where it is the cheaper
honest action. Every key, click and scan goes through one counter (`Effort`); the widget frame's requests to the
BFF are counted from Playwright's request events; the steps shown are the `step` messages the host page hears.

Run: python benchmarks/clinician_effort.py [--only A]
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from widget_ready import CHROMIUM_ARGS, free_port  # noqa: E402  (the same launch and ports as the other benchmark)

COLUMNS = ("scenario", "screens", "clicks", "typed", "special", "keystrokes", "focus-only Tabs", "scans",
           "requests", "seconds", "goal", "met")
ANA = {"document_type": "CC", "document_number": "1000000001"}  # the example HIS's patient "ana"
DOCTOR = {"id": "dr-laura-ruiz", "name": "Dra. Laura Ruiz", "role": "doctor"}  # the example HIS's doctor
GS = "\x1d"  # the separator a scanner types after a variable-length GS1 field
# Two products of the demo's registry with their pack barcodes (simulator/seed/medications.csv).
COUNTER_LINES = (("MED-042", "07709990000429"), ("MED-001", "07709990000016"))
RECORD_MESSAGES = """window.received = [];
window.addEventListener('message', e => { if (e.data && e.data.osigu) window.received.push(e.data); });"""
STEP_REQUESTS = ("document", "xhr", "fetch")  # the shell page and htmx's requests; hashed static assets are cached


class Effort:
    """One scenario's driver: every key, click and scan goes through it, and is counted."""

    def __init__(self, page, bff_url):
        self.page, self.bff_url = page, bff_url
        self.clicks = self.typed = self.special = self.tabs = self.scans = self.requests = 0
        self.started = time.perf_counter()
        self.seconds = None
        self.shown = None  # the steps, when the counting covers part of a flow
        page.on("request", self._count_request)

    def _count_request(self, request):
        try:
            in_widget = request.frame.parent_frame is not None
        except Exception:  # a request without a frame (a worker's): not the widget's
            return
        if in_widget and request.url.startswith(self.bff_url) and request.resource_type in STEP_REQUESTS:
            self.requests += 1

    @property
    def frame(self):
        return self.page.frame_locator("#osigu iframe")

    def type(self, text):
        """Characters typed, one keystroke each."""
        self.typed += len(text)
        self.page.keyboard.type(text)

    def press(self, key):
        """A special key (Enter, Space, Tab...); a Tab only moves the focus, so it is also a focus-only Tab."""
        self.special += 1
        if key in ("Tab", "Shift+Tab"):
            self.tabs += 1
        self.page.keyboard.press(key)

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def scan(self, code):
        """A keyboard-wedge scanner types the code and presses Enter: one scan, not keystrokes."""
        self.scans += 1
        self.page.keyboard.type(code)
        self.page.keyboard.press("Enter")

    def tab_into(self, selector):
        """Tab until the field is focused (as a user who knows the page does), each Tab counted as focus-only."""
        for _ in range(12):
            if self.frame.locator(f"{selector}:focus").count():
                return
            self.press("Tab")
        raise RuntimeError(f"Tab never reached {selector}")

    def wait_step(self, step):
        self.frame.locator(f"[data-osigu-step='{step}']").wait_for()

    def wait_focus(self, selector):
        """The focus is on what selector names and htmx has wired it (or its form): a key now does what it says.
        htmx wires a swapped step as it settles, some 20 ms after widget.js moved the focus; a person is never that
        quick, the driver is (an Enter in a form not yet wired would submit it natively)."""
        frame = self.page.locator("#osigu iframe").element_handle().content_frame()
        frame.wait_for_function("(s) => { const e = document.activeElement; if (!e || !e.matches(s)) return false;"
                                " return !!((e.form || e)['htmx-internal-data'] || {}).initHash; }", arg=selector)

    def finish(self):
        """The host page has heard the widget's success: the clock stops."""
        self.page.wait_for_function("() => window.received.some(m => m.type === 'success')")
        self.seconds = time.perf_counter() - self.started
        self.page.remove_listener("request", self._count_request)
        return self.page.evaluate("() => window.received.find(m => m.type === 'success').data")

    def steps(self):
        """The distinct steps the widget showed, in order (its `step` messages to the host page)."""
        if self.shown is not None:
            return self.shown
        names = self.page.evaluate("() => window.received.filter(m => m.type === 'step').map(m => m.data.step)")
        return list(dict.fromkeys(names))

    def row(self, name):
        """The counts as a table row (no goal yet)."""
        return {"scenario": name, "screens": len(self.steps()), "clicks": self.clicks, "typed": self.typed,
                "special": self.special, "keystrokes": self.typed + self.special, "focus-only Tabs": self.tabs,
                "scans": self.scans, "requests": self.requests, "seconds": round(self.seconds, 1), "goal": "-",
                "met": "-", "steps": " → ".join(self.steps())}


class Demo:
    """The demo's processes on free ports, with a BFF database of this run's own."""

    def __init__(self):
        self.folder = folder = tempfile.mkdtemp(prefix="clinician-effort-")
        ports = [str(free_port()) for _ in range(4)]
        env = os.environ | {"BFF_DATABASE_URL": f"sqlite:///{folder}/bff.sqlite3"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bff.cli", "demo", "--simulator-port", ports[0], "--bff-port", ports[1],
             "--host-port", ports[2], "--ehr-port", ports[3]],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env)
        for line in self.process.stdout:
            if "Ctrl+C" in line:
                break
        else:
            raise SystemExit("the demo did not start")
        self.host, self.bff, self.simulator = (f"http://localhost:{ports[2]}", f"http://127.0.0.1:{ports[1]}",
                                               f"http://127.0.0.1:{ports[0]}")

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)

    def session(self, market_key, context):
        """A widget session as the HIS's back end makes one (for a context its page does not offer: repeat_of)."""
        answer = requests.post(f"{self.bff}/v1/widget-sessions", timeout=10,
                               headers={"Authorization": f"Bearer {market_key}"},
                               json={"widget": "prescription", "origin": self.host, "locale": "es", "user": DOCTOR,
                                     "context": context})
        answer.raise_for_status()
        return answer.json()["token"]

    def two_line_prescription(self):
        """A v1 prescription of two medicines for Ana López, issued at the simulator as a clinic would."""
        session = requests.Session()
        token = session.post(f"{self.simulator}/v1/oauth/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": "demo-hospital", "client_secret": "demo-hospital-secret"})
        session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        issued = session.post(f"{self.simulator}/ehr/v1/prescriptions", timeout=10, json={
            "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": code, "quantity": 20, "posology": "1 every 8 h"}
                            for code, _ in COUNTER_LINES]})
        issued.raise_for_status()
        return issued.json()["prescription_code"]


def open_clinic(page, demo, market="v1", patient="ana"):
    """The HIS's doctor page: the doctor picks the market and patient there and presses Prescribe (the host's own
    form, not counted); the counting starts as the widget mounts."""
    page.goto(f"{demo.host}/?lang=es")
    page.select_option("#market", market)
    page.select_option("#patient", patient)
    effort = Effort(page, demo.bff)
    page.locator("#choice button[type=submit]").click()
    return effort


def mount_with_token(page, demo, token):
    """Mount the prescription widget on the HIS's page with a session its back end made (OsiguWidgets.mount)."""
    page.goto(f"{demo.host}/?lang=es")
    effort = Effort(page, demo.bff)
    # As the HIS's Prescribe does: the user asked for the widget, so its first step may take the focus (autofocus;
    # an embed.js without that option ignores it).
    page.evaluate("(token) => { window.handle = OsiguWidgets.mount('#osigu', {widget: 'prescription', token, "
                  "locale: 'es', autofocus: true}); }", token)
    return effort


def diagnosis(effort, query, code):
    """Type a query that finds exactly one diagnosis and press Enter: it is picked; focus is back in the search."""
    effort.type(query)
    effort.press("Enter")
    effort.frame.locator("ul[aria-labelledby=chosen-diagnoses-title] > li", has_text=code).wait_for()
    effort.wait_focus("#diagnosis-query")


def medicine(effort, query, days, lines):
    """Type a query that finds exactly one medicine, Enter opens its line; the days, Enter adds it (the quantity
    computed from the posology); lines is how many the prescription then has."""
    effort.type(query)
    effort.press("Enter")
    effort.wait_focus("#line-dose, #line-days")  # the line form has the focus
    if not effort.frame.locator("#line-days:focus").count():
        effort.tab_into("#line-days")  # past dose, unit and how often, as suggested
    effort.type(days)
    effort.press("Enter")
    effort.frame.locator("ul[aria-labelledby=lines-title] > li").nth(lines - 1).wait_for()
    effort.wait_focus("#medication-query")


def first_field(effort, selector):
    """The first step leaves the host page's focus where it was: the doctor Tabs into the widget's first field."""
    effort.frame.locator(selector).wait_for()
    effort.tab_into(selector)
    effort.wait_focus(selector)


def issue_from_medications(effort, consent=False):
    """Enter in the empty search goes on; (v1.1, first time) Enter on the consent button goes on; Enter
    issues."""
    effort.press("Enter")
    if consent:
        effort.wait_step("consent")
        effort.wait_focus("#consent")
        effort.press("Enter")
    effort.wait_step("review")
    effort.wait_focus("[data-osigu-primary]")
    effort.press("Enter")
    return effort.finish()


def scenario_a(page, demo, market="v1", consent=False):
    """Patient from the host, one diagnosis (R51), one medicine (Panadol, 1 tablet every 8 h for 7 days)."""
    effort = open_clinic(page, demo, market)
    first_field(effort, "#diagnosis-query")
    diagnosis(effort, "R51", "R51")
    effort.press("Enter")  # the empty search: Continue
    effort.wait_step("medications")
    effort.wait_focus("#medication-query")
    medicine(effort, "Panadol", "7", 1)
    return effort, issue_from_medications(effort, consent)


def scenario_b(page, demo):
    """Patient from the host, two diagnoses (R51, J02.9), three medicines (Panadol, Amoxil, Advil)."""
    effort = open_clinic(page, demo)
    first_field(effort, "#diagnosis-query")
    diagnosis(effort, "R51", "R51")
    diagnosis(effort, "J02.9", "J02.9")
    effort.press("Enter")
    effort.wait_step("medications")
    effort.wait_focus("#medication-query")
    medicine(effort, "Panadol", "7", 1)
    medicine(effort, "Amoxil", "7", 2)
    medicine(effort, "Advil", "5", 3)
    return effort, issue_from_medications(effort)


def scenario_c(page, demo):
    """No patient from the host: the doctor looks a document up, finds nobody and registers the patient."""
    effort = open_clinic(page, demo, patient="")
    first_field(effort, "#document_number")
    effort.type(str(random.randrange(10**9, 10**10)))  # a document Osigu does not know: registration is offered
    effort.frame.locator("#new-first_name").wait_for()
    effort.tab_into("#new-first_name")  # the form came with the results: the focus is still in the search
    effort.type("Elena")
    effort.tab_into("#new-last_name")
    effort.type("Soto")
    effort.tab_into("#new-date_of_birth")  # document type and number are the search's
    effort.type("15/03/1982")
    effort.press("Enter")
    effort.wait_step("diagnoses")
    effort.wait_focus("#diagnosis-query")
    diagnosis(effort, "R51", "R51")
    effort.press("Enter")
    effort.wait_step("medications")
    effort.wait_focus("#medication-query")
    medicine(effort, "Panadol", "7", 1)
    return effort, issue_from_medications(effort)


def repeat_from_list(page, demo, code):
    """The diagnoses step lists the patient's recent prescriptions: one click on Repeat, Enter on the review."""
    effort = open_clinic(page, demo)
    effort.click(effort.frame.get_by_role("button", name=f"Repetir {code}"))
    effort.wait_step("review")
    effort.wait_focus("[data-osigu-primary]")
    effort.press("Enter")
    return effort, effort.finish()


def repeat_from_context(page, demo, prescription_id):
    """The HIS passes `repeat_of`: the widget opens on the review, where Enter issues once its first step has the
    focus; without it one click on Issue is cheaper than Tabbing into the frame."""
    effort = mount_with_token(page, demo, demo.session("demo-his-api-key", {"patient": ANA,
                                                                           "repeat_of": prescription_id}))
    effort.wait_step("review")
    issue = effort.frame.locator("[data-osigu-primary]")
    issue.wait_for()
    if effort.frame.locator("[data-osigu-primary]:focus").count():
        effort.wait_focus("[data-osigu-primary]")
        effort.press("Enter")
    else:
        effort.click(issue)
    return effort, effort.finish()


def save_favourite(page, demo):
    """Setup, not measured: the doctor saves Amoxil (1 capsule every 8 h for 7 days) as a favourite, and cancels."""
    effort = open_clinic(page, demo)
    first_field(effort, "#diagnosis-query")
    diagnosis(effort, "R51", "R51")
    effort.press("Enter")
    effort.wait_step("medications")
    medicine(effort, "Amoxil", "7", 1)
    effort.frame.get_by_role("button", name=re.compile("^Guardar .* como favorito")).click()
    effort.frame.get_by_role("button", name=re.compile("^Guardar .* como favorito")).wait_for(state="detached")
    effort.frame.get_by_role("button", name="Cancelar receta").click()
    page.locator("#osigu iframe").wait_for(state="detached")


def favourite_line(page, demo):
    """A medicine line from a favourite: on the medications step the favourites come before the search, so
    Shift+Tab from the search reaches its Add, and Enter adds it. Counted from the medications step."""
    effort = open_clinic(page, demo)
    first_field(effort, "#diagnosis-query")
    diagnosis(effort, "R51", "R51")
    effort.press("Enter")
    effort.wait_step("medications")
    effort.wait_focus("#medication-query")
    line = Effort(page, demo.bff)
    add = line.frame.locator("ul[aria-labelledby=favourites-title] button")
    for _ in range(6):
        if add.evaluate("b => b === document.activeElement"):
            break
        line.press("Shift+Tab")
    line.press("Enter")
    line.frame.locator("ul[aria-labelledby=lines-title] > li").first.wait_for()
    line.wait_focus("#medication-query")
    line.seconds = time.perf_counter() - line.started
    page.remove_listener("request", line._count_request)
    line.shown = ["medications"]
    issue_from_medications(effort)
    return line


def counter(page, demo, code):
    """The pharmacy page's Dispense (the host's, not counted) mounts the widget on its code step; the code is
    scanned, then each pack; Enter completes. A click puts the focus where the widget does not."""
    page.goto(f"{demo.host}/pharmacy?lang=es")
    effort = Effort(page, demo.bff)
    page.locator("#dispense button[type=submit]").click()
    code_field = effort.frame.locator("#dispensing-code")
    code_field.wait_for()
    if not effort.frame.locator("#dispensing-code:focus").count():
        effort.click(code_field)  # the first step leaves the page's focus; two Tabs away, a click is cheaper
    effort.wait_focus("#dispensing-code")
    effort.scan(code)
    effort.wait_step("products")
    for index, (_, gtin) in enumerate(COUNTER_LINES):
        if not effort.frame.locator("#dispensing-scan:focus").count():
            effort.click(effort.frame.locator("#dispensing-scan"))  # focus is on Dispense, after every line's fields
        effort.wait_focus("#dispensing-scan")
        effort.scan(f"01{gtin}17301231" f"10LOT-{index}{GS}21SN{index:04d}")
        effort.frame.locator(f"[name=lot-{index}][value='LOT-{index}']").wait_for()
    effort.wait_focus("#dispensing-scan, [data-osigu-primary]")  # Dispense, or the empty scan field that dispenses
    effort.press("Enter")
    return effort, effort.finish()


def goal_a(row, _):
    met = row["keystrokes"] <= 28 and row["special"] <= 6 and row["focus-only Tabs"] == 0 and row["screens"] <= 4
    return "≤ 28 keys, ≤ 6 special, 0 Tabs, ≤ 4 screens", met


def goal_repeat(row, _):
    return "≤ 5 keys or ≤ 3 clicks, ≤ 2 screens", row["keystrokes"] <= 5 and row["clicks"] <= 3 and row["screens"] <= 2


def goal_favourite(row, _):
    return "≤ 12 keys", row["keystrokes"] <= 12


def goal_consent(row, same_without):
    added = row["keystrokes"] - same_without["keystrokes"]
    return f"consent adds ≤ 1 key (adds {added})", added <= 1


def goal_counter(row, _):
    return "≤ 3 scans + 2 keys", row["scans"] <= 3 and row["keystrokes"] <= 2


def measure(page, demo, only=None):
    """Each scenario in turn on one page: (name, effort, goal, the row the goal compares with)."""
    effort, issued = scenario_a(page, demo)
    yield "A: host's patient, 1 diagnosis, 1 medicine", effort, goal_a, None
    if only == "A":
        return
    a = effort
    effort, _ = scenario_b(page, demo)
    yield "B: 2 diagnoses, 3 medicines", effort, None, None
    effort, _ = scenario_c(page, demo)
    yield "C: unknown patient registered in the widget", effort, None, None
    effort, _ = scenario_a(page, demo, "v1.1", consent=True)
    yield "D: v1.1 (Portugal), consent asked", effort, goal_consent, a
    effort, _ = scenario_a(page, demo, "v1.1")
    yield "D: v1.1 (Portugal), consent on file", effort, goal_consent, a
    effort, _ = scenario_a(page, demo, "v2")
    yield "D: v2 (Spain, signed)", effort, None, None
    effort, _ = repeat_from_list(page, demo, issued["prescription_code"])
    yield "Repeat of A: *Repeat* in the recent list", effort, goal_repeat, None
    effort, _ = repeat_from_context(page, demo, issued["prescription_id"])
    yield "Repeat of A: context `repeat_of`", effort, goal_repeat, None
    save_favourite(page, demo)
    yield "A medicine line from a favourite", favourite_line(page, demo), goal_favourite, None
    effort, _ = counter(page, demo, demo.two_line_prescription())
    yield "Counter: a two-line RX, code and packs scanned", effort, goal_counter, None


def run(only=None):
    """Every scenario in one browser against one demo (after one unreported A, to warm the servers); their rows."""
    demo = Demo()
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
            page = browser.new_context(locale="es-ES").new_page()
            page.add_init_script(RECORD_MESSAGES)
            scenario_a(page, demo)
            for name, effort, goal, compared in measure(page, demo, only):
                row = effort.row(name)
                if goal:
                    row["goal"], met = goal(row, compared and compared.row(""))
                    row["met"] = "yes" if met else "**no**"
                rows.append(row)
            browser.close()
    finally:
        demo.stop()
    return rows


def table(rows):
    """The rows as a Markdown table, then the steps each showed."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[column]) for column in COLUMNS) + " |" for row in rows]
    lines += ["", "Steps shown:", ""] + [f"- {row['scenario']}: {row['steps']}" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["A"], help="run scenario A alone (a quick check)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    arguments = parser.parse_args()
    rows = run(arguments.only)
    print(json.dumps(rows, ensure_ascii=False) if arguments.json else table(rows))


if __name__ == "__main__":
    main()
