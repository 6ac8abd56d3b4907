"""Measure what the BFF itself costs, the current code side by side with a previous commit, in one run.

The previous commit is checked out with `git worktree add` into a temporary directory; both BFFs run
as `osigu-widgets serve` (waitress, 8 threads) in their own processes against the same simulator.

1. BFF CPU per proxied call (a catalogue search through /v1/osigu), from the process's own CPU time.
2. BFF CPU per widget request, over whole prescription flows by one doctor (session + 8 steps).
3. Flows per second at 10 and 50 concurrent doctors (the simulator's registry limit lifted, so the
   BFF's own cost is what is measured).
4. The same doctors under the simulator's real limit (50 registry calls a minute per client), each BFF
   on a fresh simulator for a fixed time: prescriptions issued, flows told to retry, /healthz latency.

Run: python benchmarks/bff_cost.py [--base ebd9bf4] [--calls 400] [--flows 20] [--limited-seconds 30]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from bff_proxy import PARAMS, SEARCH, free_port, percentile, start

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "demo-his-api-key"
ORIGIN = "http://127.0.0.1:8090"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NO_LIMIT = "1000000/minute"
LINE = {"product_code": "MED-042", "quantity": "30", "dose": "1", "unit": "tablet", "every_hours": "8",
        "duration_days": "10"}
BUSY = re.compile(r"Osigu is busy, try again in (\d+) s")


def cpu_seconds(process):
    """User + system CPU the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class TellsToRetry(Exception):
    """The widget showed an error the doctor can retry (Osigu busy or not answering)."""


class Widget(requests.Session):
    """What static/widget.js sends: htmx's header, the session token and the page's origin."""

    def __init__(self, bff, token):
        super().__init__()
        self.bff = bff
        self.headers.update({"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": ORIGIN})

    def request(self, method, url, *args, **kwargs):
        return super().request(method, f"{self.bff}/widgets/prescription{url}", *args, timeout=60, **kwargs)


def step(widget, method, path, form=None):
    """One widget request as a doctor makes it; a BFF-BUSY answer is retried after the second it asks for."""
    while True:
        answer = widget.request(method, path, data=form)
        if answer.status_code >= 500:
            answer.raise_for_status()
        busy = BUSY.search(answer.text)
        if busy and "BFF-BUSY" in answer.text:
            time.sleep(int(busy.group(1)))
            continue
        if "osigu-alert" in answer.text:
            raise TellsToRetry()
        return answer


def prescribe(bff, doctor):
    """One doctor's whole prescription; returns 'issued' or 'told to retry'."""
    session = requests.post(f"{bff}/v1/widget-sessions", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60,
                            json={"widget": "prescription", "origin": ORIGIN, "locale": "en",
                                  "user": {"id": f"dr-{doctor}", "name": "Dr. Bench", "role": "doctor"}})
    session.raise_for_status()
    with Widget(bff, session.json()["token"]) as widget:
        try:
            step(widget, "GET", "/resume")
            found = step(widget, "GET", "/patient/search?document_type=CC&document_number=1000000001")
            patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)
            step(widget, "POST", "/patient/select", {"patient_id": patient_id})
            step(widget, "POST", "/diagnoses/add", {"diagnosis_code": "R51", "description": "Headache"})
            step(widget, "GET", "/medications/search?q=paracetamol+500")
            step(widget, "GET", "/medications/line?product_code=MED-042")
            step(widget, "POST", "/medications/add", LINE)
            issued = step(widget, "POST", "/issue")
        except TellsToRetry:
            return "told to retry"
    assert "osigu:success" in issued.headers.get("HX-Trigger", ""), issued.text
    return "issued"


REQUESTS_PER_FLOW = 9  # the session, then 8 widget steps


def attempt(bff, doctor):
    """A prescription that may fail outright (a 5xx, a timeout): 'failed' then, counted, not fatal."""
    try:
        return prescribe(bff, doctor)
    except (requests.RequestException, AssertionError):
        return "failed"


def proxy_cpu(bffs, calls):
    """CPU ms per proxied search and the p50 latency, batches interleaved so drift hits both."""
    cpu, latencies = {name: 0.0 for name in bffs}, {name: [] for name in bffs}
    sessions = {name: requests.Session() for name in bffs}
    for _ in range(8):
        for name, (url, process) in bffs.items():
            before = cpu_seconds(process)
            for _ in range(calls // 8):
                started = time.perf_counter()
                sessions[name].get(f"{url}/v1/osigu{SEARCH}", params=PARAMS, timeout=30,
                                   headers={"Authorization": f"Bearer {API_KEY}"}).raise_for_status()
                latencies[name].append((time.perf_counter() - started) * 1000)
            cpu[name] += cpu_seconds(process) - before
    return {name: (cpu[name] * 1000 / len(latencies[name]), statistics.median(latencies[name])) for name in bffs}


def flow_cpu(bffs, flows):
    """CPU ms per widget request over whole flows by one doctor."""
    result = {}
    for name, (url, process) in bffs.items():
        prescribe(url, 0)  # warm caches and connections
        before = cpu_seconds(process)
        for doctor in range(flows):
            assert prescribe(url, doctor) == "issued"
        result[name] = (cpu_seconds(process) - before) * 1000 / (flows * REQUESTS_PER_FLOW)
    return result


def flows_per_second(bffs, doctors, flows, rounds=4):
    """Prescriptions issued per second by `doctors` at once, and the flows that failed, per BFF.

    The BFFs take turns, a quarter of the flows at a time, so the machine's load drifts over both.
    """
    issued, failed, seconds = ({name: 0 for name in bffs} for _ in range(3))
    for _ in range(rounds):
        for name, (url, _) in bffs.items():
            started = time.perf_counter()
            with ThreadPoolExecutor(doctors) as pool:
                outcomes = list(pool.map(lambda n, url=url: attempt(url, n), range(max(flows // rounds, 1))))
            seconds[name] += time.perf_counter() - started
            issued[name] += outcomes.count("issued")
            failed[name] += outcomes.count("failed")
    return {name: (issued[name] / seconds[name], failed[name]) for name in bffs}


def under_the_real_limit(url, doctors, seconds):
    """Doctors prescribe for `seconds` (then finish what they started); /healthz is polled all along."""
    deadline, outcomes, health, stop = time.monotonic() + seconds, [], [], threading.Event()

    def doctor(n):
        while time.monotonic() < deadline:
            outcomes.append(attempt(url, n))

    def probe():
        with requests.Session() as session:
            while not stop.wait(0.05):
                started = time.perf_counter()
                session.get(f"{url}/healthz", timeout=120)
                health.append((time.perf_counter() - started) * 1000)

    prober = threading.Thread(target=probe)
    prober.start()
    with ThreadPoolExecutor(doctors) as pool:
        list(pool.map(doctor, range(doctors)))
    stop.set()
    prober.join()
    return outcomes, health


def start_simulator(workdir, name, rate_limit):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["simulator", "--port", str(port), "--db", os.path.join(workdir, f"{name}.sqlite3")],
                    f"{url}/healthz", env={"SIM_PROVIDER_PRODUCTS_RATE_LIMIT": rate_limit})
    return url, process


def start_bff(workdir, tree, simulator, name, options=()):
    """Start the BFF of a source tree on simulator (its own code first on the path), `serve` given options;
    returns (url, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator, "PYTHONPATH": str(tree),
           "BFF_DATABASE_URL": f"sqlite:///{os.path.join(workdir, f'{name}.sqlite3')}",
           "BFF_RATE_LIMIT_SESSIONS": NO_LIMIT, "BFF_RATE_LIMIT_PROXY": NO_LIMIT}
    return url, start(["serve", "--port", str(port), *options], f"{url}/healthz", env=env, cwd=tree)


def stop(processes):
    for process in processes:
        process.terminate()
        process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="ebd9bf4", help="the previous commit to compare with")
    parser.add_argument("--calls", type=int, default=400, help="proxied searches per BFF")
    parser.add_argument("--flows", type=int, default=20, help="flows per BFF for the CPU cost of a step")
    parser.add_argument("--concurrent-flows", type=int, default=100, help="flows per BFF and concurrency")
    parser.add_argument("--limited-seconds", type=int, default=30, help="seconds per BFF under the real limit")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="osigu-bench-cost-")
    base_tree = Path(workdir) / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base_tree), args.base],
                   check=True)
    processes = []
    try:
        simulator, process = start_simulator(workdir, "simulator", NO_LIMIT)
        processes.append(process)
        trees = {"previous": base_tree, "current": ROOT}
        bffs = {name: start_bff(workdir, tree, simulator, f"bff-{name}") for name, tree in trees.items()}
        processes += [process for _, process in bffs.values()]
        print(f"# BFF cost: {args.base} (previous) and the working tree (current), {os.cpu_count()} cores\n")
        print(f"## BFF CPU per proxied search ({args.calls} each) and per widget request ({args.flows} flows, "
              f"{REQUESTS_PER_FLOW} requests each)\n")
        print("| BFF | CPU ms / proxied call | proxied p50 ms | CPU ms / widget request |")
        print("|---|---|---|---|")
        proxied, widget = proxy_cpu(bffs, args.calls), flow_cpu(bffs, args.flows)
        for name in bffs:
            print(f"| {name} | {proxied[name][0]:.2f} | {proxied[name][1]:.1f} | {widget[name]:.2f} |")
        print(f"\n## Prescriptions per second, registry limit lifted ({args.concurrent_flows} flows per cell, "
              "in turns)\n")
        print("| doctors at once | previous flows/s | current flows/s | ratio | failed flows (previous, current) |")
        print("|---|---|---|---|---|")
        for doctors in (10, 50):
            runs = flows_per_second(bffs, doctors, args.concurrent_flows)
            (before, before_failed), (after, after_failed) = runs["previous"], runs["current"]
            print(f"| {doctors} | {before:.2f} | {after:.2f} | {after / before:.2f}x | "
                  f"{before_failed}, {after_failed} |")
        stop(processes)
        processes = []

        print(f"\n## 10 doctors for {args.limited_seconds} s under the real limit (50 registry calls a minute)\n")
        print("| BFF | issued | told to retry | failed | /healthz p50 ms | /healthz p99 ms | /healthz max ms |")
        print("|---|---|---|---|---|---|---|")
        for name, tree in trees.items():
            simulator, process = start_simulator(workdir, f"limited-{name}", "50/minute")
            url, bff = start_bff(workdir, tree, simulator, f"limited-bff-{name}")
            processes += [process, bff]
            outcomes, health = under_the_real_limit(url, 10, args.limited_seconds)
            print(f"| {name} | {outcomes.count('issued')} | {outcomes.count('told to retry')} | "
                  f"{outcomes.count('failed')} | {statistics.median(health):.1f} | {percentile(health, 0.99):.1f} | "
                  f"{max(health):.1f} |")
            stop(processes)
            processes = []
    finally:
        stop(processes)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
