"""Doctors and pharmacists at once through whole widget flows, at 10, 50 and 200 concurrent users, in one run.

Starts the simulator (its registry limit lifted) and the BFF on its production server (`osigu-widgets serve`,
by default `--workers 2 --threads 8`: one gunicorn process per core) as their own processes on loopback, then:

1. the BFF's own overhead on a cheap call: a patient read by id (`GET /ehr/v1/patients/{id}`) sent straight to
   the simulator and through the BFF's proxy, one client, batches interleaved: p50 and p99 of each;
2. for each number of users, half doctors and half pharmacists, each running `--flows` whole flows without
   pause, as static/widget.js sends them (dispensing_steps.py's flows): a doctor issues a prescription (session,
   resume, patient, diagnosis, medication, review, issue); a pharmacist opens a code, scans a GS1 pack and
   completes the dispensation. Pharmacists dispense the codes the doctors issued; until there are some, codes
   issued at the simulator for the purpose. Reported: flows/s, p50 and p99 per step, errors (count and kind),
   and the CPU of the simulator, the BFF (all its processes), this driver and the whole machine (shared with
   other jobs), sampled every second from /proc.

Run: python benchmarks/load.py [--users 10,50,200] [--flows 3] [--workers 2] [--threads 8] [--requests 400]
"""

import argparse
import collections
import os
import re
import shutil
import tempfile
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from bff_cost import BUSY, CLOCK_TICKS, NO_LIMIT, ORIGIN, start_bff, start_simulator, stop
from bff_proxy import latency, percentile, simulator_token
from dispensing_steps import Timed, UnexpectedStep, dispense_prescription, prescription
from widget_ready import prescription_codes

ROOT = Path(__file__).resolve().parents[1]
CHEAP = "/ehr/v1/patients/pat_01HXE0000000000000000ANA01"  # a by-id read: no search, one row
ISSUED_CODE = re.compile(r"data-osigu-prescription-code>\s*([^<\s]+)")
ALERT_CODE = re.compile(r"\b(BFF-[A-Z0-9-]+|\d{3}-\d{3})\b")


def process_tree_cpu(pid):
    """User + system CPU seconds used so far by a process and its live descendants (gunicorn's workers)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended meanwhile
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    tree, total = {pid}, 0.0
    for candidate in sorted(stats):  # a child has a higher pid than its parent unless pids wrapped
        if candidate in tree or stats[candidate][0] in tree:
            tree.add(candidate)
            total += stats[candidate][1]
    return total


def machine_cpu():
    """CPU seconds every core of the machine has been busy so far (whoever used them; /proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS  # all but idle and iowait


class CpuSampler(threading.Thread):
    """Samples each named process tree's CPU, and the whole machine's, every second; `usage()` gives the mean
    and the peak second, in % of one core."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.samples, self.done = pids | {"machine": None}, [], threading.Event()

    def sample(self):
        self.samples.append((time.monotonic(), {name: process_tree_cpu(pid) if pid else machine_cpu()
                                                for name, pid in self.pids.items()}))

    def run(self):
        self.sample()
        while not self.done.wait(1):
            self.sample()

    def usage(self):
        self.done.set()
        self.join()
        self.sample()
        (start, first), (end, last) = self.samples[0], self.samples[-1]
        peaks = {name: max(((b[name] - a[name]) / (t2 - t1) * 100 for (t1, a), (t2, b) in
                            zip(self.samples, self.samples[1:], strict=False) if t2 > t1), default=0.0)
                 for name in self.pids}
        return {name: ((last[name] - first[name]) / (end - start) * 100, peaks[name]) for name in self.pids}


class Cell:
    """What one number of users measured: each step's times, the flows finished, the errors by kind."""

    def __init__(self):
        self.steps = collections.defaultdict(list)
        self.finished = collections.Counter()
        self.errors = collections.Counter()
        self.told_to_retry = collections.Counter()  # BFF-BUSY answers, by (widget, step): the user waited, resent
        self.issued = collections.deque()  # codes the doctors issued, for the pharmacists
        self.from_pool = 0


def recorded(cell, user):
    """A Timed flow that records each step in cell as it answers (failed flows' steps included), notes in
    user.flow which flow and step it is at, and hands the prescription codes it sees to the pharmacists."""

    class Recorded(Timed):
        def __init__(self, bff, origin, widget, *args):
            self.kind, self.at, user.flow = widget, "session", self
            try:
                super().__init__(bff, origin, widget, *args)
            finally:
                self.keep("session")

        def __call__(self, name, *args, **kwargs):
            """The step as the user gets it: told Osigu is busy (the BFF's BFF-BUSY), they wait the seconds
            it asks for and send it again; the time kept runs from the first send to the last answer."""
            self.at, started = name, time.perf_counter()
            try:
                while True:
                    try:
                        answer = super().__call__(name, *args, **kwargs)
                    except UnexpectedStep as error:
                        answer = error.answer
                        if not busy_seconds(answer):
                            raise
                    if not (wait := busy_seconds(answer)):
                        break
                    cell.told_to_retry[self.kind, name] += 1
                    time.sleep(wait)
                self.times[name] = time.perf_counter() - started
            finally:
                self.keep(name)
            issued = ISSUED_CODE.search(answer.text)
            if issued:
                cell.issued.append(issued.group(1))
            return answer

        def keep(self, name):
            if name in self.times:
                cell.steps[self.kind, name].append(self.times[name] * 1000)

    return Recorded


def busy_seconds(answer):
    """The seconds a BFF-BUSY alert asks the user to wait before trying again (the dispensing widget words it
    "try again in a moment": the bulkhead's Retry-After, 1 s, then); None for any other answer."""
    if "BFF-BUSY" not in answer.text:
        return None
    busy = BUSY.search(answer.text)
    return int(busy.group(1)) if busy else 1


def error_kind(error):
    """A short name for what went wrong: the HTTP status, the BFF's error code shown, or the exception."""
    if isinstance(error, requests.HTTPError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, UnexpectedStep):
        shown = ALERT_CODE.search(error.answer.text)
        return f"alert {shown.group(1)}" if shown else "unexpected step"
    if isinstance(error, requests.RequestException):
        return type(error).__name__
    return f"unexpected answer ({type(error).__name__})"


def run_cell(bff, users, flows, pool, pids):
    """users at once, half doctors and half pharmacists, flows each, without pause; returns the cell, its seconds
    and the CPU each of pids' process trees used meanwhile. An error is counted by kind and step, and the user
    goes on to the next flow."""
    cell, doctors, pool_lock = Cell(), max(1, users // 2), threading.Lock()
    cell.issued.extend(next(pool) for _ in range(users - doctors))  # the pharmacists' first codes
    cell.from_pool = users - doctors

    def code():
        try:
            return cell.issued.popleft()
        except IndexError:
            with pool_lock:
                cell.from_pool += 1
                return next(pool)

    def user(number):
        state = types.SimpleNamespace()
        timed = recorded(cell, state)
        for _ in range(flows):
            state.flow = types.SimpleNamespace(at="a code from the pool")  # until the flow's session starts
            if number < doctors:
                kind, flow = "prescription", lambda: prescription(bff, ORIGIN, number, timed=timed)
            else:
                kind = "dispensing"
                flow = lambda: dispense_prescription(bff, ORIGIN, code(), number, timed=timed)  # noqa: E731
            try:
                flow()
            except Exception as error:  # noqa: BLE001  (counted by kind: the user goes on to the next flow)
                cell.errors[f"{kind}: {error_kind(error)} at {state.flow.at}"] += 1
            else:
                cell.finished[kind] += 1

    sampler = CpuSampler(pids)
    sampler.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(users) as executor:
        list(executor.map(user, range(users)))
    return cell, time.perf_counter() - started, sampler.usage()


def overhead(simulator, bff, requests_each):
    """The cheap call straight to the simulator and through the proxy: {'direct'|'proxy': (p50, p99, count)}."""
    return latency(simulator, bff, simulator_token(simulator), requests_each, 1, path=CHEAP, params={})


def print_overhead(result, requests_each):
    (d50, d99, _), (p50, p99, _) = result["direct"], result["proxy"]
    print(f"\n## The BFF's overhead on a cheap call (`GET {CHEAP.rsplit('/', 1)[0]}/{{id}}`, one client, "
          f"{requests_each} each, interleaved)\n")
    print("| path | p50 ms | p99 ms |")
    print("|---|---|---|")
    print(f"| straight to the simulator | {d50:.2f} | {d99:.2f} |")
    print(f"| through the BFF proxy (`/v1/osigu/...`) | {p50:.2f} | {p99:.2f} |")
    print(f"| **BFF overhead** | **{p50 - d50:.2f}** | **{p99 - d99:.2f}** |")


def print_cells(cells, cpu_names):
    print(f"\n## Throughput, errors and CPU (% of one core, mean over the cell (peak second); the machine's "
          f"{os.cpu_count()} cores: {os.cpu_count() * 100} %, shared with other jobs)\n")
    print(f"| users | doctors + pharmacists | flows finished | seconds | flows/s | errors | told to retry | "
          f"{' | '.join(f'{name} CPU %' for name in cpu_names)} | load average |")
    print("|" + "---|" * (8 + len(cpu_names)))
    for users, (cell, seconds, cpu, load) in cells.items():
        doctors = max(1, users // 2)
        finished = sum(cell.finished.values())
        usage = " | ".join(f"{cpu[name][0]:.0f} ({cpu[name][1]:.0f})" for name in cpu_names)
        print(f"| {users} | {doctors} + {users - doctors} | {finished} | {seconds:.1f} | {finished / seconds:.2f} | "
              f"{sum(cell.errors.values())} | {sum(cell.told_to_retry.values())} | {usage} | {load[0]:.1f} |")
    print("\n## Errors by kind, and the steps that told users to retry (BFF-BUSY: they waited and resent)\n")
    print("| users | error (flow: kind at step) | count |")
    print("|---|---|---|")
    for users, (cell, *_) in cells.items():
        for kind, count in cell.errors.most_common() or [("none", 0)]:
            print(f"| {users} | {kind} | {count} |")
        for (widget, step), count in cell.told_to_retry.most_common():
            print(f"| {users} | told to retry (not an error): {widget} at {step} | {count} |")
    print("\n## Each step, p50 / p99 ms (first send → answer on loopback, a BFF-BUSY wait and resend included; "
          "failed flows' answered steps too)\n")
    print("| widget | step | " + " | ".join(f"{users} users p50 | {users} users p99" for users in cells) + " |")
    print("|---|---|" + "---|---|" * len(cells))
    names = dict.fromkeys(key for cell, *_ in cells.values() for key in cell.steps)
    for widget, step in sorted(names, key=lambda key: key[0] != "prescription"):  # stable: each flow's order
        values = []
        for cell, *_ in cells.values():
            times = cell.steps.get((widget, step))
            values += [f"{percentile(times, 0.5):.0f}", f"{percentile(times, 0.99):.0f}"] if times else ["-", "-"]
        print(f"| {widget} | {step} | " + " | ".join(values) + " |")
    print("\nCodes dispensed from the pool issued at the simulator (the rest the doctors issued): " +
          ", ".join(f"{cell.from_pool} at {users} users" for users, (cell, *_) in cells.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="10,50,200", help="concurrent users per cell, comma-separated")
    parser.add_argument("--flows", type=int, default=3, help="whole flows per user and cell")
    parser.add_argument("--workers", type=int, default=2, help="BFF processes (serve --workers)")
    parser.add_argument("--threads", type=int, default=8, help="threads per BFF process (serve --threads)")
    parser.add_argument("--requests", type=int, default=400, help="cheap calls per path for the overhead")
    args = parser.parse_args()
    user_counts = [int(users) for users in args.users.split(",")]

    workdir = tempfile.mkdtemp(prefix="osigu-bench-load-")
    processes = []
    try:
        simulator, process = start_simulator(workdir, "simulator", NO_LIMIT)  # registry limit lifted
        processes.append(process)
        bff, process = start_bff(workdir, ROOT, simulator, "bff",
                                 ["--workers", str(args.workers), "--threads", str(args.threads)])
        processes.append(process)
        pids = {"simulator": processes[0].pid, "BFF": process.pid, "driver": os.getpid()}
        print(f"# Load: doctors and pharmacists through whole widget flows, {os.cpu_count()} cores, BFF `serve "
              f"--workers {args.workers} --threads {args.threads}`, {args.flows} flows per user\n")
        print("Load average before (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
        pool = prescription_codes(simulator)
        warm = run_cell(bff, 2, 1, pool, pids)[0]  # connections, caches and tokens; not reported
        if warm.errors:
            raise SystemExit(f"the warm-up flows failed: {dict(warm.errors)}")
        print_overhead(overhead(simulator, bff, args.requests), args.requests)
        cells = {}
        for users in user_counts:
            cells[users] = (*run_cell(bff, users, args.flows, pool, pids), os.getloadavg())
        print_cells(cells, [*pids, "machine"])
        print("\nLoad average after (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    finally:
        stop(processes)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
