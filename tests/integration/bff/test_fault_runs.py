"""Whole widget flows against an Osigu that fails (5xx, 429 bursts, dropped connections) and a BFF killed -9 mid-call:
users who press again end with every object once upstream, and every one reported (a bounded benchmarks/fault_runs.py).
"""

import json
import socket

import pytest
from faulty_users import (
    BffProcess,
    Tally,
    audit_dispensations,
    audit_prescriptions,
    dispense,
    doctor_of,
    fault_rules,
    kill_mid_complete,
    kill_mid_issue,
    prescribe,
    set_faults,
    upstream_records,
)

API_KEY = "his-a-api-key-0123456789"


@pytest.fixture
def simulator_config():
    return {"ADMIN_ENABLED": True}  # the faults are changed at runtime (PUT /sandbox/v1/faults)


@pytest.fixture
def simulator_database(simulator_app, tmp_path):
    return tmp_path / "simulator.sqlite3"  # the simulator_app fixture's own copy of the seeded database


@pytest.fixture
def bff(simulator_url, host_apps, tmp_path):
    """`osigu-widgets serve` in its own process, on its own SQLite database, calling back his-a's receiver."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = BffProcess(port, {
        "OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "fault-runs",
        "BFF_DATABASE_URL": f"sqlite:///{tmp_path / 'bff.sqlite3'}", "BFF_HOST_APPS": json.dumps(host_apps),
    }, tmp_path / "bff.log").start()
    yield process
    process.stop()


@pytest.fixture
def callbacks(callback_receiver, eventually):
    """The callbacks his-a's back end received, as (event, data), once at least `count` distinct ones arrived."""
    received = {}

    def wait_for(count):
        def enough():
            while not callback_receiver.received.empty():
                webhook_id, payload = callback_receiver.received.get()
                received[webhook_id] = (payload["type"], payload["data"])
            return len(received) >= count

        eventually(enough, timeout=30)
        return list(received.values())

    return wait_for


def test_ten_prescriptions_and_ten_dispensations_under_faults_are_each_made_once_and_reported(
        bff, simulator_url, simulator_database, callbacks):
    prescriptions, dispensations = Tally(), Tally()
    for flow in range(10):
        if flow % 10 == 0:  # a 429 burst before every tenth flow, as in the benchmark
            set_faults(simulator_url, fault_rules(error_rate=0.1, drop_rate=0.05, burst=5))
        prescribe(bff.url, API_KEY, flow, prescriptions)
    codes = [outcome["prescription_code"] for outcome in prescriptions.reported.values()]
    for flow, code in enumerate(codes):
        if flow % 10 == 0:  # a 429 burst before every tenth flow, as in the benchmark
            set_faults(simulator_url, fault_rules(error_rate=0.1, drop_rate=0.05, burst=5))
        dispense(bff.url, API_KEY, flow, code, dispensations)
    set_faults(simulator_url, [])

    for tally in (prescriptions, dispensations):
        assert tally.stuck == [] and tally.bff_errors == 0
        assert len(tally.reported) == 10
        assert tally.retries["429"] >= 1  # a burst reached the users: they pressed again
    assert sum(prescriptions.retries.values()) + sum(dispensations.retries.values()) > 2
    received = callbacks(20)
    held_prescriptions, held_dispensations = upstream_records(simulator_database)
    assert sorted(held_prescriptions) == sorted(doctor_of(flow) for flow in range(10))
    assert audit_prescriptions(prescriptions.reported, held_prescriptions, received) == (0, 0)
    assert audit_dispensations(dispensations.reported, held_dispensations, codes, received) == (0, 0)


def test_a_bff_killed_mid_issue_then_pressed_again_issues_one_prescription(
        bff, simulator_url, simulator_database, callbacks):
    killed, outcome, held = kill_mid_issue(bff, simulator_url, simulator_database, API_KEY, 0, Tally())

    assert killed == -9
    assert held == [outcome["prescription_id"]]  # Osigu made it while the BFF was dead; the retry replayed it
    assert [data["prescription_id"] for _, data in callbacks(1)] == [outcome["prescription_id"]]


def test_a_bff_killed_mid_complete_then_pressed_again_dispenses_once(
        bff, simulator_url, simulator_database, prescribe, callbacks):
    code = prescribe()
    killed, outcome, held = kill_mid_complete(bff, simulator_url, simulator_database, API_KEY, 0, code, Tally())

    assert killed == -9
    assert held == [(outcome["dispensation_id"], "DISPENSED")] and outcome["code"] == code
    assert [data["dispensation_id"] for _, data in callbacks(1)] == [outcome["dispensation_id"]]
