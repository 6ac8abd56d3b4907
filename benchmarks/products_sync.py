"""Measure `osigu-widgets products sync` against Osigu's 50 requests/minute ceiling, beside a naive loop.

Both clients register the same codes against the simulator, one after the other in one run, at two
per-request latencies (Osigu's answer time plus the network): the naive loop sends one request after
another and sleeps out each 429's Retry-After, as seed 003 warns against; the sync runs as a user
runs it (its own process, 8 concurrent requests, its limiter). Time is compressed by --scale: the
simulator allows 50 requests per 60/scale seconds, the sync is given the same --rate, and the latency
is divided by the same factor, so every ratio is the one a real minute would show.

Run: python benchmarks/products_sync.py [--codes 300] [--scale 20]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import requests

from bff.products_sync import retry_after_seconds
from bff.upstream import UpstreamClient, UpstreamError

LIMIT = 50  # Osigu's provider-product requests per minute (seed 003)
REAL_LATENCIES_MS = (300, 2000)  # a nearby Osigu; a slow link or a busy upstream
PATH = "/arc/v1/providers/products"
NAIVE_CLIENT = ("demo-clinic", "demo-clinic-secret")
SYNC_CLIENT = ("demo-pharmacy", "demo-pharmacy-secret")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_simulator(port, window_seconds):
    env = os.environ | {"SIM_PROVIDER_PRODUCTS_RATE_LIMIT": f"{LIMIT} per {window_seconds} seconds"}
    process = subprocess.Popen([sys.executable, "-m", "bff.cli", "simulator", "--port", str(port), "--db", ":memory:",
                                "--enable-admin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the simulator did not start")


def set_latency(simulator, milliseconds):
    rule = {"path_prefix": PATH, "methods": ["POST"], "latency_ms": milliseconds}
    requests.put(f"{simulator}/sandbox/v1/faults", json={"rules": [rule]}, timeout=10).raise_for_status()


def naive_loop(simulator, codes):
    """One request after another; a 429 is slept out (Retry-After, at least 1 s) and sent again.

    Returns (seconds, 429s)."""
    client, refused = UpstreamClient(simulator, *NAIVE_CLIENT), 0
    client.access_token()
    started = time.monotonic()
    for code in codes:
        while True:
            try:
                client.request("POST", PATH, json={"product_code": code})
            except UpstreamError as error:
                if error.status == 429:
                    refused += 1
                    time.sleep(retry_after_seconds(error.retry_after, 0))  # as the sync reads it
                    continue
                if error.status != 409:  # already registered is fine
                    raise
            break
    return time.monotonic() - started, refused


def products_sync(simulator, codes, window_seconds, workdir):
    """The command as a user runs it; returns (seconds, 429s) as it reports them."""
    path = os.path.join(workdir, f"codes-{time.monotonic_ns()}.txt")
    with open(path, "w") as handle:
        handle.write("\n".join(codes) + "\n")
    env = os.environ | {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator, "OSIGU_CLIENT_ID": SYNC_CLIENT[0],
                        "OSIGU_CLIENT_SECRET": SYNC_CLIENT[1]}
    done = subprocess.run([sys.executable, "-m", "bff.cli", "products", "sync", path, "--concurrency", "8",
                           "--rate", f"{LIMIT} per {window_seconds} seconds"], capture_output=True, text=True, env=env)
    found = re.search(r"in ([\d.]+) s; (\d+) answers of 429", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"products sync failed:\n{done.stdout}{done.stderr}")
    return float(found[1]), int(found[2])


def catalogue_codes(simulator, count):
    client = UpstreamClient(simulator, *SYNC_CLIENT)
    codes, page = [], 1
    while len(codes) < count:
        body = client.get_json("/arc/v1/products", page=page, page_size=100)
        codes += [item["product_code"] for item in body["data"]]
        page += 1
    return codes[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=300, help="codes each client registers per row")
    parser.add_argument("--scale", type=int, default=20, help="time compression: a minute lasts 60/scale seconds")
    args = parser.parse_args()
    if 60 % args.scale:
        raise SystemExit("--scale must divide 60 (the simulator's window is a whole number of seconds)")
    window = 60 // args.scale
    port = free_port()
    simulator = f"http://127.0.0.1:{port}"
    process = start_simulator(port, window)
    try:
        codes = catalogue_codes(simulator, args.codes)
        print(f"# products sync vs a naive loop: {args.codes} codes, ceiling {LIMIT} requests/minute, "
              f"time compressed {args.scale}x (a minute = {window} s), {os.cpu_count()} cores\n")
        print("| latency per request | client | seconds (real-time equivalent) | requests/minute "
              "| of the ceiling | 429s met |")
        print("|---|---|---|---|---|---|")
        for latency in REAL_LATENCIES_MS:
            set_latency(simulator, latency // args.scale)
            for name, run in (("naive sequential loop", lambda: naive_loop(simulator, codes)),
                              ("products sync (8 concurrent)",
                               lambda: products_sync(simulator, codes, window, tempfile.mkdtemp()))):
                time.sleep(window)  # a fresh window for each client: the previous one's leftovers are not its own
                seconds, refused = run()
                per_minute = args.codes / (seconds * args.scale) * 60
                print(f"| {latency} ms | {name} | {seconds * args.scale:.0f} | {per_minute:.1f} "
                      f"| {per_minute / LIMIT:.0%} | {refused} |")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
