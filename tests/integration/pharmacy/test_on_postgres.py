"""The queue's filters on PostgreSQL, whose JSON operators differ from SQLite's."""

import pytest

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def test_department_pharmacist_and_patient_filters(pharmacist, queued):
    icu, ward = queued(department_id="icu"), queued(department_id="ward-3")
    assert pharmacist.post(f"/api/dispensing/{icu['id']}/start").ok
    pending = pharmacist.get("/api/dispensing/pending", params={"departmentId": "ward-3"}).json()["data"]
    assert [row["id"] for row in pending] == [ward["id"]]
    mine = pharmacist.get("/api/dispensing/history", params={"pharmacistId": "ph-1"}).json()["data"]
    assert [row["id"] for row in mine] == [icu["id"]]
    anas = pharmacist.get("/api/dispensing/history", params={"patientId": "pat_01HXE0000000000000000ANA01"}).json()
    assert anas["pagination"]["total"] == 2
