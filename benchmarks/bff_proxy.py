"""Measure the BFF side by side with the upstream it fronts, in one run.

1. A catalogue search sent straight to the simulator and the same search through the BFF's proxy:
   p50 and p99 latency at 1 and 20 concurrent clients, batches interleaved so drift hits both.
2. The token requests that 50 concurrent callers cause when the token has expired: the BFF's
   single-flight client against a plain Authlib session, counted in the simulator's token table.

Run: python benchmarks/bff_proxy.py [--requests 400] [--callers 50]
"""

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from authlib.integrations.requests_client import OAuth2Session

from bff.upstream import UpstreamClient

SEARCH = "/medical-catalogs/v1/diagnoses"
PARAMS = {"query": "headache", "page_size": 5}
API_KEY = "demo-his-api-key"
CLIENT = ("demo-hospital", "demo-hospital-secret")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(args, ready_url, env=None, cwd=None):
    process = subprocess.Popen([sys.executable, "-m", "bff.cli", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=os.environ | (env or {}), cwd=cwd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(ready_url, timeout=1).ok:
                return process
        except requests.RequestException:  # not listening yet, or too busy to answer within the second
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{ready_url} did not start")


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed_batch(url, headers, count, concurrency, params=PARAMS):
    """Send count requests with concurrency clients; return each latency in milliseconds."""
    local = threading.local()

    def one(_):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(url, params=params, headers=headers, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def latency(simulator, bff, token, total, concurrency, path=SEARCH, params=PARAMS):
    """p50, p99 and count of a GET sent straight to the simulator and through the proxy, batches interleaved."""
    targets = {
        "direct": (simulator + path, {"Authorization": f"Bearer {token}"}),
        "proxy": (bff + "/v1/osigu" + path, {"Authorization": f"Bearer {API_KEY}"}),
    }
    samples = {name: [] for name in targets}
    for url, headers in targets.values():  # warm connections and caches
        timed_batch(url, headers, 20, concurrency, params)
    batch = max(total // 8, concurrency)
    for _ in range(max(total // batch, 1)):
        for name, (url, headers) in targets.items():
            samples[name] += timed_batch(url, headers, batch, concurrency, params)
    return {name: (statistics.median(s), percentile(s, 0.99), len(s)) for name, s in samples.items()}


def simulator_token(simulator):
    """An access token from the simulator for the demo hospital, as the BFF gets one."""
    return requests.post(f"{simulator}/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT,
                         timeout=10).json()["access_token"]


def tokens_in(database):
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM oauth_token").fetchone()[0]


def token_storm(simulator, database, callers):
    """Expire the token, then let `callers` threads call at once; count the token requests each way."""
    counts = {}
    ours = UpstreamClient(simulator, *CLIENT)
    plain = OAuth2Session(*CLIENT, token_endpoint=f"{simulator}/v1/oauth/token", grant_type="client_credentials")
    plain.fetch_token()
    plain.token["expires_at"] = int(time.time()) - 1  # as after an hour of service (Authlib wants an int)
    calls = {
        "BFF client (single flight)": lambda: ours.get_json(SEARCH, **PARAMS),
        "plain Authlib OAuth2Session":
            lambda: plain.get(simulator + SEARCH, params=PARAMS, timeout=30).raise_for_status(),
    }
    for name, call in calls.items():
        before = tokens_in(database)
        barrier = threading.Barrier(callers)

        def caller(_, call=call, barrier=barrier):
            barrier.wait()
            call()

        with ThreadPoolExecutor(max_workers=callers) as pool:
            list(pool.map(caller, range(callers)))
        counts[name] = tokens_in(database) - before
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="searches per target and concurrency")
    parser.add_argument("--callers", type=int, default=50, help="concurrent callers in the token storm")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="osigu-bench-")
    database = os.path.join(workdir, "simulator.sqlite3")
    sim_port, bff_port = free_port(), free_port()
    simulator, bff = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{bff_port}"
    processes = [start(["simulator", "--port", str(sim_port), "--db", database], f"{simulator}/healthz")]
    try:
        processes.append(start(["serve", "--port", str(bff_port)], f"{bff}/healthz", env={
            "OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator,
            "BFF_DATABASE_URL": f"sqlite:///{os.path.join(workdir, 'bff.sqlite3')}"}))
        token = simulator_token(simulator)
        print(f"# BFF proxy vs direct — {os.cpu_count()} cores, {args.requests} searches per cell\n")
        print("| clients | direct p50 ms | proxy p50 ms | p50 ratio | direct p99 ms | proxy p99 ms | p99 ratio |")
        print("|---|---|---|---|---|---|---|")
        for concurrency in (1, 20):
            result = latency(simulator, bff, token, args.requests, concurrency)
            (d50, d99, _), (p50, p99, _) = result["direct"], result["proxy"]
            print(f"| {concurrency} | {d50:.1f} | {p50:.1f} | {p50 / d50:.2f}x | {d99:.1f} | {p99:.1f} | "
                  f"{p99 / d99:.2f}x |")
        print(f"\n# Token requests made by {args.callers} concurrent callers at token expiry\n")
        print("| client | token requests |")
        print("|---|---|")
        for name, count in token_storm(simulator, database, args.callers).items():
            print(f"| {name} | {count} |")
    finally:
        for process in processes:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
