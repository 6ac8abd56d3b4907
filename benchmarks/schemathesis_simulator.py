"""Run schemathesis, every check and phase, against a fresh simulator at 100 examples per operation.

The test suite runs the same configuration (schemathesis.toml) at a few examples; this is the long run.
Each seed starts its own simulator from the seed data, as its own process on loopback.

Run: python benchmarks/schemathesis_simulator.py [--examples 100] [--seeds 1 2]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bff_proxy import free_port, start

ROOT = Path(__file__).parents[1]


def run(examples, seed):
    """Start a simulator, run schemathesis against it, and return (cases, failures line, seconds, exit code)."""
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        simulator = start(["simulator", "--port", str(port), "--db", os.path.join(workdir, "sim.sqlite3")],
                          f"{url}/healthz")
        try:
            started = time.perf_counter()
            # One worker: CPython 3.11 can fail compiling from two threads at once (see the test module).
            result = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(ROOT / "schemathesis.toml"),
                 "--no-color", "run", f"{url}/openapi.json", "--max-examples", str(examples),
                 "--seed", str(seed), "--workers", "1"],
                capture_output=True, text=True, cwd=ROOT,
            )
            elapsed = time.perf_counter() - started
        finally:
            simulator.kill()
            simulator.wait()
    cases = re.search(r"^\s+(\d+) generated", result.stdout, re.MULTILINE)
    failures = re.search(r"(\d+) unique failures", result.stdout)
    if result.returncode and not failures:
        print(result.stdout[-3000:], file=sys.stderr)
    return (int(cases.group(1)) if cases else None, int(failures.group(1)) if failures else 0,
            elapsed, result.returncode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"# schemathesis {args.examples} examples per operation, all checks and phases — "
          f"{os.cpu_count()} cores\n")
    print("| seed | test cases | failures | exit code | seconds |")
    print("|---|---|---|---|---|")
    worst = 0
    for seed in args.seeds:
        cases, failures, elapsed, code = run(args.examples, seed)
        worst = max(worst, code)
        print(f"| {seed} | {cases} | {failures} | {code} | {elapsed:.0f} |", flush=True)
    sys.exit(worst)


if __name__ == "__main__":
    main()
