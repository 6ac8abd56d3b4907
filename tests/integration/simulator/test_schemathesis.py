"""Schemathesis, all checks, against a simulator on a real socket: the OpenAPI document and the API agree.

A bounded run (fixed seed, few examples per operation) of the configuration in schemathesis.toml; the
long run is benchmarks/schemathesis_simulator.py.
"""

import tomllib
from pathlib import Path

import schemathesis
from bff_schemathesis import describe
from schemathesis.engine import Status, events

CONFIG = Path(__file__).parents[3] / "schemathesis.toml"
SEED = 20
EXAMPLES_PER_OPERATION = 5


def run_schemathesis(base_url, seed, examples):
    """Run every phase of schemathesis against base_url; return the failures as readable lines.

    One worker: Hypothesis's lazy imports and CPython 3.11's compiler are not safe from two threads at once.
    """
    settings = tomllib.loads(CONFIG.read_text()) | {"seed": seed, "workers": 1}
    settings["generation"] = settings.get("generation", {}) | {"max-examples": examples, "database": "none"}
    config = schemathesis.Config.from_dict(settings)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    failures, errors = set(), []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                failures |= {describe(check.failure_info.failure, event.recorder.interactions.get(case_id))
                             for check in checks if check.status == Status.FAILURE}
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(str(getattr(event, "value", None) or getattr(event, "exception", event)))
    return sorted(failures), errors


def test_schemathesis_finds_no_failure_in_the_simulator(simulator_url):
    failures, errors = run_schemathesis(simulator_url, SEED, EXAMPLES_PER_OPERATION)
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
