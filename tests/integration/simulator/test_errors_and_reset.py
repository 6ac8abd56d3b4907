"""Generic errors keep the one error shape; the sandbox can be reset to its seed."""

NEW_PATIENT = {"first_name": "Pilar", "last_name": "Ruiz", "document_type": "DNI",
               "document_number": "11111111H", "date_of_birth": "1960-05-05"}


def test_unknown_path_is_404_in_the_error_shape(clinic):
    response = clinic.get("/ehr/v9/nothing")
    assert response.status_code == 404
    assert response.json()["error_code"] == "000-404"


def test_wrong_method_is_405_with_allow(clinic):
    response = clinic.delete("/ehr/v1/prescriptions")
    assert response.status_code == 405
    assert response.json()["error_code"] == "000-405"
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_422_not_500(clinic):
    response = clinic.post("/ehr/v1/patients", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error_code"] == "000-422"


def test_a_json_array_body_is_422(clinic):
    response = clinic.post("/arc/v1/providers/products", json=["MED-042"])
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "body"


def test_reset_returns_the_sandbox_to_its_seed(clinic, api):
    created = clinic.post("/ehr/v1/patients", json=NEW_PATIENT).json()
    assert api().post("/sandbox/v1/reset").json() == {"status": "reset"}
    assert clinic.login("demo-clinic").get(f"/ehr/v1/patients/{created['patient_id']}").status_code == 404
    ana = clinic.get("/ehr/v1/patients", params={"document_number": "1000000001"}).json()["data"]
    assert [p["first_name"] for p in ana] == ["Ana"]


def test_a_database_from_another_version_is_reseeded(tmp_path):
    import sqlite3

    import simulator
    from simulator import background
    from simulator.db import db

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # what an earlier version left behind: a table with fewer columns
        old.execute("CREATE TABLE dispensation (id VARCHAR(40) PRIMARY KEY, code VARCHAR(30))")
        old.execute("CREATE TABLE legacy_thing (id INTEGER)")
    app = simulator.create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "BACKGROUND_WORKER": False})
    with app.app_context():
        tables = db.inspect(db.engine).get_table_names()
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("dispensation")}
        db.engine.dispose()
    background.stop(app)
    assert "legacy_thing" not in tables and "provider" in tables
    assert "authorization_id" in columns
