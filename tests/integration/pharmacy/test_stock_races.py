"""The last units of a lot, dispensed by two pharmacists at once: one gets them, the lot never goes below zero."""

import threading
from datetime import date, timedelta

import pytest

from bff.db import db
from bff.pharmacy import Lot

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()
TEN = {"product_code": "MED-042", "quantity": 10, "posology": "1 tablet every 8 h"}


def at_once(*calls):
    """Run the calls in threads released together; return their answers in order."""
    barrier, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("attempt", range(2))  # a race: once could pass by luck
@pytest.mark.parametrize("batch", ["L1", None])  # the named lot, or first-expiry-first-out
def test_two_dispenses_of_a_lots_last_units(bff_app, session_for, queued, stock, batch, attempt):
    stock(("MED-042", "L1", NEXT_YEAR, 10))
    pharmacists = [session_for("ph-1"), session_for("ph-2")]
    calls = []
    for api in pharmacists:
        entry = queued(TEN, api=api)
        medicine = api.post(f"/api/dispensing/{entry['id']}/start").json()["medicines"][0]["id"]
        item = {"medicineId": medicine, "dispensedQuantity": 10} | ({"batchNumber": batch} if batch else {})
        calls.append(lambda api=api, entry=entry, item=item: api.post(f"/api/dispensing/{entry['id']}/dispense",
                                                                      json={"medicines": [item]}))
    answers = at_once(*calls)
    assert sorted(answer.status_code for answer in answers) == [200, 400], [answer.text for answer in answers]
    assert next(answer for answer in answers if answer.status_code == 400).json()["code"] == "INSUFFICIENT_STOCK"
    with bff_app.app_context():
        assert db.session.scalars(db.select(Lot.quantity)).all() == [0]
