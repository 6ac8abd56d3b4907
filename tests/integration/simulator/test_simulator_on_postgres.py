"""The simulator seeded and used on PostgreSQL: OAuth, the registry's partial index, prescribing, dispensing."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import simulator
from simulator import background
from simulator.db import db


@pytest.fixture
def simulator_app(postgres_database):
    app = simulator.create_app({"SECRET_KEY": "test", "BACKGROUND_WORKER": False,
                                "SQLALCHEMY_DATABASE_URI": postgres_database})
    yield app
    background.stop(app)
    with app.app_context():
        db.engine.dispose()


def test_the_simulator_runs_on_postgres(simulator_app, clinic, hospital, pharmacy, api):
    with simulator_app.app_context():
        assert db.engine.dialect.name == "postgresql"
    assert clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"}).status_code == 201
    assert clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"}).status_code == 409
    assert clinic.delete("/arc/v1/providers/products/MED-042").status_code == 204
    assert clinic.post("/arc/v1/providers/products", json={"product_code": "MED-042"}).status_code == 201
    code = hospital.post("/ehr/v1/prescriptions", json={
        "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
        "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}],
    }).json()["prescription_code"]
    dispensation = pharmacy.post("/dispensing/v1/dispensations", json={"code": code}).json()
    done = pharmacy.post(f"/dispensing/v1/dispensations/{dispensation['dispensation_id']}/complete",
                         headers={"Idempotency-Key": "pg-complete"})
    assert done.json()["status"] == "DISPENSED"
    assert api().post("/sandbox/v1/reset").json() == {"status": "reset"}



def cancel_while_starting(hospital, pharmacy, prescription):
    """Send the prescriber's cancel and a pharmacy's start at the same moment; return both answers."""
    ready = threading.Barrier(2)

    def at_once(send, *args, **kwargs):
        ready.wait()
        return send(*args, **kwargs)

    with ThreadPoolExecutor(2) as pool:
        cancel = pool.submit(at_once, hospital.post, f"/ehr/v1/prescriptions/{prescription['prescription_id']}/cancel")
        start = pool.submit(at_once, pharmacy.post, "/dispensing/v1/dispensations",
                            json={"code": prescription["prescription_code"]})
        return cancel.result(), start.result()


def test_cancel_and_start_racing_on_postgres_never_both_win(simulator_app, hospital, pharmacy):
    for _ in range(8):
        prescription = hospital.post("/ehr/v1/prescriptions", json={
            "patient_id": "pat_01HXE0000000000000000ANA01", "diagnoses": [{"diagnosis_code": "R51"}],
            "medications": [{"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}],
        }).json()
        cancel, start = cancel_while_starting(hospital, pharmacy, prescription)
        assert (cancel.status_code, start.status_code) in {(200, 409), (409, 201)}, (cancel.text, start.text)
        # The loser is told why: cancelled before the pharmacy started, or being dispensed already.
        loser = start if cancel.status_code == 200 else cancel
        assert loser.json()["error_code"] == ("081-124" if loser is start else "081-123")
