"""Whatever a caller sends, the API answers a 4xx in its own error shape, never a 500."""

from urllib.parse import quote

import pytest

HOSTILE = ["<script>alert(1)</script>", "../../../sandbox/v1/messages", "%2e%2e%2f", "x" * 3000, "\x00", "Ｒ５１",
           "{{7*7}}", "' OR 1=1 --"]


@pytest.mark.parametrize("body", [
    "not json", "[]", "null", '{"medicines": [null]}', '{"medicines": {"a": 1}}', '{"medicines": "x"}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": true}]}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": 1e308}]}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": -1}]}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": 1, "extra": 1}]}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": 1, "batchNumber": "../x"}]}',
    '{"medicines": [{"medicineId": "m", "dispensedQuantity": 1, "expiryDate": "2030-13-45", "batchNumber": "L"}]}',
])
def test_a_malformed_dispense_body(pharmacist, queued, body):
    entry = queued()
    assert pharmacist.post(f"/api/dispensing/{entry['id']}/start").ok
    answer = pharmacist.post(f"/api/dispensing/{entry['id']}/dispense", data=body,
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "INVALID_REQUEST", answer.text


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)  # PostgreSQL refuses NUL
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_paths_queries_and_bodies(pharmacist, queued, value):
    assert pharmacist.get(f"/api/dispensing/{quote(value, safe='')}").status_code == 404
    for name in ("departmentId", "priority", "sortBy", "page"):
        assert pharmacist.get("/api/dispensing/pending", params={name: value}).status_code in (200, 400)
    for name in ("pharmacistId", "patientId", "startDate", "status"):
        assert pharmacist.get("/api/dispensing/history", params={name: value}).status_code in (200, 400)
    assert pharmacist.get("/api/inventory", params={"productCode": value}).status_code in (200, 400)
    refused = pharmacist.post("/api/dispensing/pending", json={"code": value})
    assert refused.status_code == 400 and refused.json()["code"] == "INVALID_REQUEST"
    entry = queued()
    assert pharmacist.post(f"/api/dispensing/{entry['id']}/start").ok
    medicine = entry["medicines"][0]["id"]
    for body in ({"medicineId": value, "reason": "x"}, {"medicineId": medicine, "reason": value},
                 {"medicineId": medicine, "reason": "x", "alternativeSuggested": value}):
        answer = pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable", json=body)
        assert answer.status_code in (200, 400, 404), answer.text
    assert pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={"notes": value}).status_code in (200, 400)
