"""Seed 002 over HTTP: every endpoint, every error code, every row of the status table, tenants apart."""

import threading
from datetime import date, timedelta

import pytest
import requests

from bff import outbox
from bff.db import OutboxMessage, db

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()
LAST_MONTH = (date.today() - timedelta(days=30)).isoformat()
PARACETAMOL = {"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}
ALBENDAZOLE = {"product_code": "MED-043", "quantity": 20, "posology": "1 tablet every 12 h"}


def refused(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["error_code"] == code
    return response.json()


def started(api, entry):
    response = api.post(f"/api/dispensing/{entry['id']}/start")
    assert response.status_code == 200, response.text
    return response.json()


def dispense(api, entry, *items):
    return api.post(f"/api/dispensing/{entry['id']}/dispense", json={"medicines": list(items)})


def line(record, product_code="MED-042"):
    return next(medicine for medicine in record["medicines"] if medicine["productCode"] == product_code)


class TestAuth:
    def test_no_token_a_bad_token_and_another_widgets_session(self, anonymous, session_for, bearing):
        refused(anonymous.get("/api/dispensing/pending"), 401, "UNAUTHORIZED")
        refused(bearing("not-a-token").get("/api/dispensing/pending"), 401, "UNAUTHORIZED")
        doctor = session_for("dr-7", role="doctor", widget="prescription")
        refused(doctor.get("/api/dispensing/pending"), 403, "FORBIDDEN")

    def test_read_only_users_read_and_nothing_more(self, session_for, queued, stock):
        entry = queued()
        nurse = session_for("nurse-1", role="NURSE")
        assert nurse.get("/api/dispensing/pending").status_code == 200
        assert nurse.get(f"/api/dispensing/{entry['id']}").status_code == 200
        refused(nurse.post(f"/api/dispensing/{entry['id']}/start"), 403, "FORBIDDEN")
        refused(nurse.post("/api/dispensing/pending", json={"code": entry["prescriptionId"]}), 403, "FORBIDDEN")

    def test_granted_permissions_replace_the_roles_defaults(self, session_for, queued):
        entry = queued()
        technician = session_for("tech-1", role="TECHNICIAN", permissions=["DISPENSING:READ", "DISPENSING:CREATE"])
        refused(technician.post(f"/api/dispensing/{entry['id']}/start"), 403, "FORBIDDEN")  # PHARMACIST role too
        limited = session_for("ph-9", permissions=["DISPENSING:READ", "DISPENSING:CREATE"])
        started(limited, entry)
        refused(limited.post(f"/api/dispensing/{entry['id']}/return", json={"reason": "x"}), 403, "FORBIDDEN")
        blind = session_for("ph-8", permissions=[])
        refused(blind.get("/api/dispensing/pending"), 403, "FORBIDDEN")

    def test_an_unknown_permission_is_refused_at_session_creation(self, host):
        response = host.post("/v1/widget-sessions", json={
            "widget": "dispensing", "origin": "http://127.0.0.1:9001",
            "user": {"id": "ph-1", "name": "P", "role": "PHARMACIST", "permissions": ["DISPENSING:DELETE"]}})
        assert response.status_code == 422

    def test_a_host_app_sees_only_its_tenants_queue(self, queued, session_for):
        entry = queued()
        elsewhere = session_for("ph-b", api_key="pms-b-api-key-0123456789", origin="http://localhost:9002")
        assert elsewhere.get("/api/dispensing/pending").json()["data"] == []
        refused(elsewhere.get(f"/api/dispensing/{entry['id']}"), 404, "NOT_FOUND")
        refused(elsewhere.post(f"/api/dispensing/{entry['id']}/start"), 404, "NOT_FOUND")
        assert elsewhere.get("/api/dispensing/history").json()["pagination"]["total"] == 0


class TestQueue:
    def test_the_pending_list_its_filters_sort_and_summary(self, pharmacist, queued):
        routine = queued(priority="ROUTINE", department_id="ward-3")
        urgent = queued(PARACETAMOL, ALBENDAZOLE, priority="URGENT", department_id="icu")
        stat = queued(priority="STAT", department_id="icu")
        listed = pharmacist.get("/api/dispensing/pending").json()
        assert [row["id"] for row in listed["data"]] == [routine["id"], urgent["id"], stat["id"]]  # createdAt asc
        assert listed["summary"] == {"totalPending": 3, "urgent": 2, "averageWaitTime": 0}
        assert listed["pagination"] == {"page": 1, "limit": 20, "total": 3, "totalPages": 1}
        row = listed["data"][1]
        assert row["prescriptionId"].startswith("RX-") and row["medicineCount"] == 2 and row["waitingTime"] == 0
        assert row["patient"]["name"] == "Ana López" and row["priority"] == "URGENT"

        later_urgent = queued(priority="URGENT")
        by_priority = pharmacist.get("/api/dispensing/pending", params={"sortBy": "priority", "sortOrder": "desc"})
        assert [row["id"] for row in by_priority.json()["data"]] == [  # oldest first within a priority
            stat["id"], urgent["id"], later_urgent["id"], routine["id"]]
        lower_case = pharmacist.get("/api/dispensing/pending", params={"priority": "urgent", "sortOrder": "DESC"})
        assert [row["id"] for row in lower_case.json()["data"]] == [later_urgent["id"], urgent["id"]]
        icu = pharmacist.get("/api/dispensing/pending", params={"departmentId": "icu"}).json()
        assert [row["id"] for row in icu["data"]] == [urgent["id"], stat["id"]] and icu["summary"]["totalPending"] == 2
        urgent_only = pharmacist.get("/api/dispensing/pending", params={"priority": "URGENT"}).json()
        assert [row["id"] for row in urgent_only["data"]] == [urgent["id"], later_urgent["id"]]
        second = pharmacist.get("/api/dispensing/pending", params={"page": 2, "limit": 3}).json()
        assert [row["id"] for row in second["data"]] == [later_urgent["id"]]
        assert second["pagination"] == {"page": 2, "limit": 3, "total": 4, "totalPages": 2}
        started(pharmacist, urgent)
        assert pharmacist.get("/api/dispensing/pending").json()["summary"]["totalPending"] == 3

    @pytest.mark.parametrize("params", [{"page": "0"}, {"limit": "500"}, {"limit": "x"}, {"priority": "LOW"},
                                        {"sortBy": "name"}, {"sortOrder": "up"}])
    def test_a_malformed_query_is_invalid_request(self, pharmacist, params):
        refused(pharmacist.get("/api/dispensing/pending", params=params), 400, "INVALID_REQUEST")

    def test_queuing_a_code_reads_it_from_osigu_once(self, pharmacist, queued, prescribe, upstream_dispensations):
        entry = queued(PARACETAMOL, ALBENDAZOLE, priority="URGENT", department_id="icu")
        assert [(m["productCode"], m["prescribedQuantity"], m["status"]) for m in entry["medicines"]] == [
            ("MED-042", 30, "PENDING"), ("MED-043", 20, "PENDING")]
        assert entry["patient"]["id"] == "pat_01HXE0000000000000000ANA01" and entry["status"] == "PENDING"
        assert upstream_dispensations(entry["prescriptionId"]) == ["VOIDED"]  # read, and the code left free
        again = pharmacist.post("/api/dispensing/pending", json={"code": entry["prescriptionId"]})
        assert again.status_code == 200 and again.json()["id"] == entry["id"]
        refused(pharmacist.post("/api/dispensing/pending", json={"code": "RX-2026-000000"}), 404, "NOT_FOUND")
        refused(pharmacist.post("/api/dispensing/pending", json={"code": "not a code"}), 400, "INVALID_REQUEST")
        refused(pharmacist.post("/api/dispensing/pending", json={}), 400, "INVALID_REQUEST")
        refused(pharmacist.post("/api/dispensing/pending", json={"code": prescribe(), "priority": "LOW"}), 400,
                "INVALID_REQUEST")


class TestTransitions:
    def test_pending_to_dispensing_locks_it_to_the_pharmacist(self, pharmacist, other_pharmacist, queued, stock):
        stock(("MED-042", "L1", NEXT_YEAR, 100))
        entry = queued()
        record = started(pharmacist, entry)
        assert record["status"] == "DISPENSING" and record["assignedTo"] == {
            "id": "ph-1", "name": "Pharmacist ph-1", "role": "PHARMACIST"}
        assert record["startedAt"] and line(record)["availableStock"] == 100 and line(record)["status"] == "PENDING"
        assert line(record)["suggestedBatches"] == [{"batchNumber": "L1", "expiryDate": NEXT_YEAR, "quantity": 30,
                                                     "available": 100}]
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/start"), 400, "ALREADY_STARTED")
        refused(other_pharmacist.post(f"/api/dispensing/{entry['id']}/start"), 400, "ALREADY_STARTED")
        medicine = {"medicineId": line(record)["id"], "dispensedQuantity": 1}
        refused(dispense(other_pharmacist, entry, medicine), 403, "NOT_ASSIGNED")
        refused(other_pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={}), 403, "NOT_ASSIGNED")
        refused(other_pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable",
                                      json={"medicineId": medicine["medicineId"], "reason": "x"}), 403,
                "NOT_ASSIGNED")
        refused(other_pharmacist.post(f"/api/dispensing/{entry['id']}/return", json={"reason": "x"}), 403,
                "NOT_ASSIGNED")

    def test_dispensing_back_to_pending_releases_the_lock(self, pharmacist, other_pharmacist, queued):
        entry = queued()
        started(pharmacist, entry)
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/return", json={}), 400, "INVALID_REQUEST")
        returned = pharmacist.post(f"/api/dispensing/{entry['id']}/return", json={"reason": "Need a second check"})
        assert returned.status_code == 200, returned.text
        assert returned.json() | {"returnedAt": None} == {"id": entry["id"], "prescriptionId": entry["prescriptionId"],
                                                          "status": "PENDING", "returnedAt": None}
        record = started(other_pharmacist, entry)  # anyone may take it now
        assert record["assignedTo"]["id"] == "ph-2"

    def test_no_return_once_anything_was_dispensed(self, pharmacist, queued, stock):
        stock(("MED-042", "L1", NEXT_YEAR, 100))
        entry = queued()
        record = started(pharmacist, entry)
        assert dispense(pharmacist, entry, {"medicineId": line(record)["id"], "dispensedQuantity": 5}).ok
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/return", json={"reason": "x"}), 400,
                "PARTIALLY_DISPENSED")

    def test_dispensing_to_dispensed_to_collected(self, pharmacist, queued, stock, upstream_dispensations):
        stock(("MED-042", "L1", NEXT_YEAR, 100))
        entry = queued()
        record = started(pharmacist, entry)
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={}), 400, "INCOMPLETE_DISPENSING")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/collect", json={}), 400, "INVALID_STATUS")
        assert dispense(pharmacist, entry, {"medicineId": line(record)["id"], "dispensedQuantity": 30}).ok
        done = pharmacist.post(f"/api/dispensing/{entry['id']}/complete",
                               json={"notes": "Take with food", "patientCounseled": True})
        assert done.status_code == 200, done.text
        done = done.json()
        assert done["status"] == "DISPENSED" and done["completedAt"] and done["notes"] == "Take with food"
        assert done["completedBy"]["id"] == "ph-1" and done["patientCounseled"] is True
        assert done["redemption"]["status"] == "DISPENSED"
        assert upstream_dispensations(entry["prescriptionId"]) == ["VOIDED", "DISPENSED"]
        again = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={})
        refused(again, 400, "INVALID_STATUS")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/start"), 400, "ALREADY_STARTED")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/return", json={"reason": "x"}), 400, "INVALID_STATUS")
        collected = pharmacist.post(f"/api/dispensing/{entry['id']}/collect", json={"collectedBy": "Nurse Gil"})
        assert collected.status_code == 200 and collected.json()["status"] == "COLLECTED"
        assert collected.json()["collectedBy"] == "Nurse Gil"
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/collect", json={}), 400, "INVALID_STATUS")
        history = pharmacist.get(f"/api/dispensing/{entry['id']}").json()["history"]
        assert [(event["action"], event["fromStatus"], event["toStatus"]) for event in history] == [
            ("queued", None, "PENDING"), ("started", "PENDING", "DISPENSING"),
            ("dispensed", "DISPENSING", "DISPENSING"), ("completed", "DISPENSING", "DISPENSED"),
            ("collected", "DISPENSED", "COLLECTED")]
        assert {event["hostAppId"] for event in history} == {"his-a"}
        assert history[1]["user"] == {"id": "ph-1", "name": "Pharmacist ph-1", "role": "PHARMACIST"}

    def test_pending_to_cancelled_when_osigu_says_so(self, pharmacist, queued, send_webhook):
        entry, held = queued(), queued()
        started(pharmacist, held)
        for index, cancelled in enumerate((entry, held)):
            send_webhook(f"msg_cancel_{index}", "prescription.cancelled",
                         {"prescription_code": cancelled["prescriptionId"], "status": "PRESCRIPTION_CANCELLED",
                          "reason": "Wrong patient"})
        record = pharmacist.get(f"/api/dispensing/{entry['id']}").json()
        assert record["status"] == "CANCELLED" and record["cancelledAt"]
        assert record["history"][-1]["action"] == "cancelled" and record["history"][-1]["user"] is None
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/start"), 400, "PRESCRIPTION_CANCELLED")
        # Being dispensed: no DISPENSING → CANCELLED in the table, so it is flagged and cannot be completed.
        kept = pharmacist.get(f"/api/dispensing/{held['id']}").json()
        assert kept["status"] == "DISPENSING" and kept["prescription"]["cancelledByPrescriber"] is True
        medicine = line(kept)["id"]
        assert pharmacist.post(f"/api/dispensing/{held['id']}/unavailable",
                               json={"medicineId": medicine, "reason": "Cancelled"}).ok
        refused(pharmacist.post(f"/api/dispensing/{held['id']}/complete", json={}), 400, "PRESCRIPTION_CANCELLED")

    @pytest.mark.parametrize("attempt", range(3))  # a race: one try could pass by luck
    def test_two_pharmacists_racing_to_start_one_wins(self, pharmacist, other_pharmacist, queued, attempt):
        entry = queued()
        barrier, answers = threading.Barrier(2), {}

        def take(name, api):
            barrier.wait()
            answers[name] = api.post(f"/api/dispensing/{entry['id']}/start")

        threads = [threading.Thread(target=take, args=item) for item in
                   (("ph-1", pharmacist), ("ph-2", other_pharmacist))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(answer.status_code for answer in answers.values())
        assert statuses == [200, 400]
        winner = next(name for name, answer in answers.items() if answer.status_code == 200)
        loser = next(answer for answer in answers.values() if answer.status_code == 400)
        assert loser.json()["code"] == "ALREADY_STARTED" and loser.json()["details"]["assignedTo"]["id"] == winner
        assert pharmacist.get(f"/api/dispensing/{entry['id']}").json()["assignedTo"]["id"] == winner


class TestDispensing:
    def test_partial_substitution_unavailable_then_osigu_redeems_what_was_handed_over(
            self, bff_app, pharmacist, queued, stock, upstream_products, callback_receiver):
        stock(("MED-042", "OLD", NEXT_YEAR, 4), ("MED-042", "NEW", (date.today() + timedelta(days=700)).isoformat(),
                                                   50), ("MED-043", "IB1", NEXT_YEAR, 5))
        entry = queued({**PARACETAMOL, "substitution_allowed": True}, ALBENDAZOLE)
        record = started(pharmacist, entry)
        paracetamol, albendazole = line(record)["id"], line(record, "MED-043")["id"]
        assert line(record)["suggestedBatches"] == [
            {"batchNumber": "OLD", "expiryDate": NEXT_YEAR, "quantity": 4, "available": 4},
            {"batchNumber": "NEW", "expiryDate": line(record)["suggestedBatches"][1]["expiryDate"], "quantity": 26,
             "available": 50}]

        partial = dispense(pharmacist, entry, {"medicineId": paracetamol, "dispensedQuantity": 10})  # FEFO: 4 + 6
        assert partial.status_code == 200, partial.text
        body = partial.json()
        assert (body["totalDispensed"], body["totalPending"]) == (1, 1)
        assert line(body)["status"] == "PARTIALLY_DISPENSED" and line(body)["batches"] == [
            {"batchNumber": "OLD", "expiryDate": NEXT_YEAR, "quantity": 4},
            {"batchNumber": "NEW", "expiryDate": line(body)["batches"][1]["expiryDate"], "quantity": 6}]
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable",
                                json={"medicineId": paracetamol, "reason": "x"}), 400, "ALREADY_DISPENSED")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable", json={"medicineId": albendazole}), 400,
                "INVALID_REQUEST")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable",
                                json={"medicineId": "med_nope", "reason": "x"}), 404, "NOT_FOUND")
        marked = pharmacist.post(f"/api/dispensing/{entry['id']}/unavailable", json={
            "medicineId": albendazole, "reason": "Out of stock until Monday",
            "alternativeSuggested": "Mebendazole 100 mg"})
        assert marked.status_code == 200, marked.text
        assert marked.json() == {"medicineId": albendazole, "status": "UNAVAILABLE",
                                 "reason": "Out of stock until Monday", "alternativeSuggested": "Mebendazole 100 mg"}

        done = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={"patientCounseled": False})
        assert done.status_code == 200, done.text
        assert [(m["productCode"], m["dispensedQuantity"], m["status"]) for m in done.json()["medicines"]] == [
            ("MED-042", 10, "PARTIALLY_DISPENSED"), ("MED-043", 0, "UNAVAILABLE")]
        assert upstream_products(entry["prescriptionId"]) == [("MED-042", "MED-042", 10), ("MED-043", "MED-043", 0)]
        inventory = pharmacist.get("/api/inventory").json()["data"]
        assert [(lot["batchNumber"], lot["quantity"]) for lot in inventory] == [("OLD", 0), ("NEW", 44), ("IB1", 5)]

        with bff_app.app_context():  # the prescriber's host app is told, through its callback
            assert outbox.deliver_due(0.05) == 2
            assert db.session.scalars(db.select(OutboxMessage.status).where(
                OutboxMessage.event_type == "widget.dispensing.medicine_unavailable")).all() == ["DELIVERED"]
        completed = [payload["data"] for _, payload in list(callback_receiver.received.queue)
                     if payload["type"] == "widget.dispensing.completed"]
        assert completed[0]["lines"] == [{"product_code": "MED-042", "quantity": 10, "lot": "OLD",
                                          "expiry": NEXT_YEAR}]
        assert (completed[0]["entry_id"], completed[0]["status"], completed[0]["user_id"]) == (
            entry["id"], "DISPENSED", "ph-1")
        received = [payload for _, payload in list(callback_receiver.received.queue)
                    if payload["type"] == "widget.dispensing.medicine_unavailable"]
        assert received[0]["data"] | {"entry_id": None, "medicine_id": None} == {
            "entry_id": None, "prescription_id": None, "prescription_code": entry["prescriptionId"],
            "doctor_id": None, "medicine_id": None, "product_code": "MED-043", "reason": "Out of stock until Monday",
            "alternative_suggested": "Mebendazole 100 mg"}

    def test_a_documented_substitution_is_redeemed_as_such(self, pharmacist, queued, stock, upstream_products):
        # MED-042 paracetamol 500 mg tablet; on the shelf only MED-046, Panadol: the same INN, strength and form.
        stock(("MED-046", "PAN1", NEXT_YEAR, 40))
        entry = queued({**PARACETAMOL, "substitution_allowed": True})
        medicine = line(started(pharmacist, entry))["id"]
        substitution = {"medicineId": medicine, "dispensedQuantity": 30, "substituted": True, "productCode": "MED-046"}
        refused(dispense(pharmacist, entry, substitution), 400, "INVALID_REQUEST")  # no note
        answer = dispense(pharmacist, entry, substitution | {"substituteNote": "Generic out; same INN and strength"})
        assert answer.status_code == 200, answer.text
        assert line(answer.json())["substituted"] is True and line(answer.json())["dispensedProductCode"] == "MED-046"
        done = pharmacist.post(f"/api/dispensing/{entry['id']}/complete", json={})
        assert done.status_code == 200, done.text
        assert upstream_products(entry["prescriptionId"]) == [("MED-042", "MED-046", 30)]

    def test_every_refusal_of_dispense(self, pharmacist, queued, stock):
        stock(("MED-042", "L1", NEXT_YEAR, 5), ("MED-042", "EXP", LAST_MONTH, 50))
        entry = queued()
        medicine = line(started(pharmacist, entry))["id"]
        refused(dispense(pharmacist, entry, {"medicineId": medicine}), 400, "INVALID_REQUEST")
        refused(pharmacist.post(f"/api/dispensing/{entry['id']}/dispense", json={}), 400, "INVALID_REQUEST")
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 31}), 400,
                "QUANTITY_EXCEEDS_PRESCRIBED")
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 6, "batchNumber": "L1"}),
                400, "INSUFFICIENT_STOCK")
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 6}), 400,
                "INSUFFICIENT_STOCK")  # the expired lot's 50 units do not count
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 1, "batchNumber": "EXP"}),
                400, "EXPIRED_BATCH")
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 1, "batchNumber": "NOPE"}),
                400, "INSUFFICIENT_STOCK")
        refused(dispense(pharmacist, entry, {"medicineId": "med_nope", "dispensedQuantity": 1}), 404, "NOT_FOUND")
        refused(pharmacist.post("/api/dispensing/dq_nope/dispense", json={"medicines": [
            {"medicineId": medicine, "dispensedQuantity": 1}]}), 404, "NOT_FOUND")
        # Two lines in one request are one change: the second's refusal undoes the first's stock.
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 5, "batchNumber": "L1"},
                         {"medicineId": "med_nope", "dispensedQuantity": 1}), 404, "NOT_FOUND")
        assert pharmacist.get("/api/inventory", params={"productCode": "MED-042"}).json()["data"][1]["quantity"] == 5
        ok = dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 5, "batchNumber": "L1",
                                          "expiryDate": NEXT_YEAR})
        assert ok.status_code == 200 and line(ok.json())["batchNumber"] == "L1"
        refused(dispense(pharmacist, entry, {"medicineId": medicine, "dispensedQuantity": 1}), 400,
                "INSUFFICIENT_STOCK")

    def test_not_found_for_an_unknown_prescription(self, pharmacist):
        for method, path in (("get", ""), ("post", "/start"), ("post", "/complete"), ("post", "/collect")):
            refused(getattr(pharmacist, method)(f"/api/dispensing/dq_unknown{path}", json={}), 404, "NOT_FOUND")
        refused(pharmacist.post("/api/dispensing/dq_unknown/return", json={"reason": "x"}), 404, "NOT_FOUND")
        refused(pharmacist.post("/api/dispensing/dq_unknown/unavailable", json={"medicineId": "m", "reason": "x"}),
                404, "NOT_FOUND")


class TestHistoryAndInventory:
    def test_history_filters(self, pharmacist, other_pharmacist, queued, stock):
        stock(("MED-042", "L1", NEXT_YEAR, 100))
        first, second = queued(), queued()
        for api, entry in ((pharmacist, first), (other_pharmacist, second)):
            record = started(api, entry)
            assert dispense(api, entry, {"medicineId": line(record)["id"], "dispensedQuantity": 30}).ok
        assert pharmacist.post(f"/api/dispensing/{first['id']}/complete", json={}).ok
        everything = pharmacist.get("/api/dispensing/history").json()
        assert [row["id"] for row in everything["data"]] == [second["id"], first["id"]]  # newest first
        mine = pharmacist.get("/api/dispensing/history", params={"pharmacistId": "ph-2"}).json()["data"]
        assert [row["id"] for row in mine] == [second["id"]]
        done = pharmacist.get("/api/dispensing/history", params={"status": "DISPENSED"}).json()["data"]
        assert [row["id"] for row in done] == [first["id"]]
        today = date.today().isoformat()
        assert pharmacist.get("/api/dispensing/history", params={
            "startDate": today, "endDate": today, "patientId": "pat_01HXE0000000000000000ANA01"}).json()[
            "pagination"]["total"] == 2
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        assert pharmacist.get("/api/dispensing/history", params={"startDate": tomorrow}).json()["data"] == []
        assert pharmacist.get("/api/dispensing/history", params={"patientId": "pat_other"}).json()["data"] == []
        refused(pharmacist.get("/api/dispensing/history", params={"startDate": "yesterday"}), 400, "INVALID_REQUEST")
        refused(pharmacist.get("/api/dispensing/history", params={"status": "DONE"}), 400, "INVALID_REQUEST")

    def test_inventory_lists_lots_paginated(self, pharmacist, stock):
        stock(("MED-043", "B", NEXT_YEAR, 3), ("MED-042", "A", NEXT_YEAR, 7), ("MED-042", "X", LAST_MONTH, 2))
        listed = pharmacist.get("/api/inventory", params={"limit": 2}).json()
        assert listed["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2}
        assert listed["data"] == [
            {"productCode": "MED-042", "batchNumber": "X", "expiryDate": LAST_MONTH, "quantity": 2, "expired": True},
            {"productCode": "MED-042", "batchNumber": "A", "expiryDate": NEXT_YEAR, "quantity": 7, "expired": False}]


def test_the_document_is_served(bff_url):
    response = requests.get(f"{bff_url}/api/openapi.yaml", timeout=10)
    assert response.status_code == 200 and "Dispensing" in response.text and "/api/dispensing/pending" in response.text
