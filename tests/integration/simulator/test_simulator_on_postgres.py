"""The simulator seeded and used on PostgreSQL: OAuth, the registry's partial index, prescribing, dispensing."""

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
