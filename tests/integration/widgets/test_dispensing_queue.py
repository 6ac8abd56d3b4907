"""The dispensing widget's worklist (context mode "queue") over HTTP: the hospital pharmacy's queue, each entry
dispensed line by line on bff/pharmacy's rules, every refusal shown in place."""

import base64
import re
from datetime import date, timedelta

import pytest
import requests
from widget_client import ORIGIN, invalid, step_of, trigger_of

from bff.db import OutboxMessage
from bff.db import db as bff_db
from bff.pharmacy import inventory
from bff.redemption import Redemption
from simulator.db import db as sim_db
from simulator.db import utcnow
from simulator.models import Dispensation

TENANT = "demo-hospital"  # his-a and his-cb act with the BFF's own credentials: the demo hospital's
PARACETAMOL = {"product_code": "MED-042", "quantity": 30, "posology": "1 tablet every 8 h"}
ALBENDAZOLE = {"product_code": "MED-043", "quantity": 20, "posology": "1 tablet every 12 h"}
SOON, LATER = date.today() + timedelta(days=60), date.today() + timedelta(days=400)
LAST_MONTH = date.today() - timedelta(days=30)
PARACETAMOL_GTIN = "07709990000429"
TRAMADOL = {"product_code": "MED-069", "quantity": 10, "posology": "1 capsule every 12 h"}  # controlled: verified


@pytest.fixture
def host_apps(host_apps):
    """The widget tests' host apps, and his-cb, which wants callbacks (owed in the outbox; nothing listens)."""
    return [*host_apps, {"id": "his-cb", "api_key": "his-cb-api-key-0123456789", "origins": [ORIGIN],
                         "callback_url": "http://127.0.0.1:9/callbacks",
                         "callback_secret": "whsec_aGlzLWNiLWNhbGxiYWNrLXNlY3JldC0xMjM0NTY3ODkw"}]


@pytest.fixture
def stock(bff_app):
    """Paracetamol in two lots (the earlier one first), a generic paracetamol, and an expired lot."""
    rows = ["productCode,batchNumber,expiryDate,quantity", f"MED-042,PCT-EARLY,{SOON},12",
            f"MED-042,PCT-LATE,{LATER},100", f"MED-046,GEN-1,{LATER},50", f"MED-043,ALB-OLD,{LAST_MONTH},40"]
    with bff_app.app_context():
        assert inventory.import_csv(TENANT, rows) == (4, [])
        bff_db.session.remove()


@pytest.fixture
def pharmacist(widget):
    """A pharmacist's worklist session: pharmacist("ph-1", locale="en", host_app="his-cb", **context)."""

    def open_session(user_id="ph-1", locale="en", host_app="his-cb", role="PHARMACIST", **context):
        return widget(host_app=host_app, widget="dispensing", locale=locale, context={"mode": "queue"} | context,
                      user={"id": user_id, "name": f"Farm. {user_id.upper()}", "role": role})

    return open_session


@pytest.fixture
def queued(bff_url, prescribe):
    """Queue a prescription the hospital issued, as a ward's system does over the pharmacy API; return its row."""

    def queue(*medications, priority="ROUTINE", department=None, host_app="his-cb"):
        session = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10, json={
            "widget": "dispensing", "origin": ORIGIN, "user": {"id": "ward-1", "name": "Ward", "role": "PHARMACIST"}},
            headers={"Authorization": f"Bearer {host_app}-api-key-0123456789"}).json()["token"]
        body = {"code": prescribe(*medications), "priority": priority}
        if department:
            body |= {"departmentId": department[0], "departmentName": department[1]}
        response = requests.post(f"{bff_url}/api/dispensing/pending", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {session}"})
        assert response.status_code == 201, response.text
        return response.json()

    return queue


@pytest.fixture
def callbacks(bff_app):
    """The callbacks the BFF owes his-cb: [(event type, payload)]."""

    def owed():
        with bff_app.app_context():
            found = bff_db.session.scalars(bff_db.select(OutboxMessage).filter_by(host_app_id="his-cb")
                                           .order_by(OutboxMessage.created_at)).all()
            result = [(message.event_type, message.payload["data"]) for message in found]
            bff_db.session.remove()
            return result

    return owed


def entries_listed(response, section="Prescriptions waiting"):
    """The entry ids a worklist table lists, in order."""
    table = re.search(rf"<caption>{section}</caption>.*?</table>", response.text, re.S)
    return re.findall(r'<tr data-osigu-entry="([^"]+)"', table.group(0)) if table else []


def line_of(response, product_code):
    """One medicine's card of an entry."""
    card = re.search(rf'<div class="osigu-card" id="line-(med_\w+)" data-osigu-medicine="{product_code}".*?'
                     rf'(?=<div class="osigu-card" id="line-|<form class="osigu-form" hx-post="[^"]+/complete"|$)',
                     response.text, re.S)
    assert card, response.text
    return card.group(1), card.group(0)


def selected(html, name):
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected', select).group(1)


def status_of(response):
    return re.search(r'data-osigu-entry-status="([A-Z]+)"', response.text).group(1)


def dispense(w, entry_id, medicine_id, quantity, lot, product_code="MED-042", note="", expiry=""):
    return w.post("/queue/dispense", data={"entry": entry_id,
        "medicine_id": medicine_id, "product_code": product_code, "quantity": str(quantity), "batch_number": lot,
        "expiry_date": expiry, "substitute_note": note})


class TestWorklist:
    def test_queue_mode_opens_the_worklist_urgent_first_with_its_summary_refreshing_itself(self, pharmacist,
                                                                                          queued):
        routine = queued(department=("ward-3", "Ward 3"))
        urgent = queued(PARACETAMOL, ALBENDAZOLE, priority="URGENT", department=("icu", "ICU"))
        page = pharmacist().get("/resume")
        assert step_of(page) == "queue" and "Pharmacy worklist" in page.text
        assert entries_listed(page) == [urgent["id"], routine["id"]]
        assert re.search(r"data-osigu-total-pending>2<", page.text) and re.search(r"data-osigu-urgent>1<", page.text)
        assert "data-osigu-average-wait>0 min<" in page.text
        first_start = re.search(r'<button[^>]*id="start-([^"]+)"[^>]*>', page.text)
        assert first_start.group(1) == urgent["id"] and "data-osigu-primary" in first_start.group(0)
        assert page.text.count("data-osigu-primary") == 1
        # The list is its own fragment, polled with the filters the pharmacist chose.
        poll = re.search(r'<div id="queue-list"[^>]*>', page.text).group(0)
        assert 'hx-trigger="every 10s"' in poll and 'hx-include="#queue-filters"' in poll

    def test_filters_sort_and_the_sessions_department(self, pharmacist, queued):
        routine = queued(department=("ward-3", "Ward 3"))
        urgent = queued(priority="URGENT", department=("icu", "ICU"))
        stat = queued(priority="STAT", department=("icu", "ICU"))
        w = pharmacist()
        assert entries_listed(w.get("/queue/list", params={"priority": "URGENT"})) == [urgent["id"]]
        ward = w.get("/queue/list", params={"departmentId": "ward-3"})
        assert entries_listed(ward) == [routine["id"]] and "data-osigu-total-pending>1<" in ward.text
        oldest = w.get("/queue/list", params={"sort": "oldest"})
        assert entries_listed(oldest) == [routine["id"], urgent["id"], stat["id"]]
        assert entries_listed(w.get("/queue/list")) == [stat["id"], urgent["id"], routine["id"]]
        icu_session = pharmacist("ph-3", department_id="icu").get("/resume")
        assert entries_listed(icu_session) == [stat["id"], urgent["id"]]
        assert re.search(r'<option value="icu" selected>ICU</option>', icu_session.text)
        assert entries_listed(w.get("/queue/list", params={"priority": "LOW", "sort": "x"})) == [
            stat["id"], urgent["id"], routine["id"]]  # a value that is not a choice is no filter

    def test_a_long_queue_is_paged_with_its_filters(self, pharmacist, bff_app):
        from bff.pharmacy import queue

        with bff_app.app_context():  # codes from elsewhere, queued as the API queues them
            for number in range(23):
                queue.add(tenant=TENANT, host_app_id="his-cb", source="api", code=f"RX-2026-{number:06d}",
                          code_type="PRESCRIPTION", upstream_id=None, priority="URGENT" if number % 2 else None,
                          department=None, patient={"id": f"pat-{number}"}, doctor={"id": None, "name": None},
                          medicines=[queue.new_medicine("MED-042", "Paracetamol", 10)])
            bff_db.session.commit()
            bff_db.session.remove()
        w = pharmacist()
        first = w.get("/resume")
        assert len(entries_listed(first)) == 20 and "Page 1 of 2" in first.text
        assert 'hx-get="/widgets/dispensing/queue/list?page=2"' in first.text
        second = w.get("/queue/list", params={"page": "2"})
        assert len(entries_listed(second)) == 3 and "Page 2 of 2" in second.text
        assert 'hx-get="/widgets/dispensing/queue/list?page=2"' in second.text  # it polls the page it shows
        urgent = w.get("/queue/list", params={"priority": "URGENT"})
        assert len(entries_listed(urgent)) == 11 and "Page 1" not in urgent.text

    def test_an_empty_queue_says_so_and_offers_a_refresh(self, pharmacist):
        page = pharmacist().get("/resume")
        assert "No prescriptions are waiting." in page.text
        assert re.search(r"<button[^>]*data-osigu-primary[^>]*>Refresh</button>", page.text)

    def test_spanish_and_portuguese(self, pharmacist, queued):
        queued(priority="URGENT")
        assert "Lista de trabajo de la farmacia" in pharmacist(locale="es").get("/resume").text
        assert "Urgente" in pharmacist("ph-2", locale="pt").get("/resume").text


class TestLock:
    def test_a_started_entry_is_the_pharmacists_and_nobody_elses(self, pharmacist, queued, stock):
        entry = queued(priority="URGENT")
        mine, theirs = pharmacist("ph-1"), pharmacist("ph-2")
        started = mine.post("/queue/start", data={"entry": entry["id"]})
        assert step_of(started) == "queue_entry" and status_of(started) == "DISPENSING"
        medicine_id, card = line_of(started, "MED-042")
        assert "Dispense" in card and "data-osigu-primary" in card

        listed = theirs.get("/queue/list")
        assert entries_listed(listed) == [] and entries_listed(listed, "Being dispensed") == [entry["id"]]
        assert "Farm. PH-1" in listed.text and f'id="continue-{entry["id"]}"' not in listed.text
        assert f'id="continue-{entry["id"]}"' in mine.get("/queue/list").text

        looked = theirs.get("/queue/entry", params={"entry": entry["id"]})
        assert "Farm. PH-1 is dispensing this prescription. Only they can change it." in looked.text
        assert "/dispense" not in looked.text and "/complete" not in looked.text
        again = theirs.post("/queue/start", data={"entry": entry["id"]})
        assert invalid(again) and "Farm. PH-1 is already dispensing this prescription." in again.text
        assert trigger_of(again)["osigu:error"]["problem"]["code"] == "ALREADY_STARTED"
        touched = dispense(theirs, entry["id"], medicine_id, 5, "PCT-EARLY")
        assert invalid(touched) and "Farm. PH-1 holds this prescription: only they can change it." in touched.text
        for action, data in (("unavailable", {"medicine_id": medicine_id, "reason": "none"}),
                             ("return", {"reason": "mine now"}), ("complete", {})):
            refused = theirs.post(f"/queue/{action}", data={"entry": entry["id"]} | data)
            assert trigger_of(refused)["osigu:error"]["problem"]["code"] == "NOT_ASSIGNED", action
        assert status_of(mine.get("/queue/entry", params={"entry": entry["id"]})) == "DISPENSING"

    def test_a_user_without_the_pharmacist_role_reads_but_cannot_start(self, pharmacist, queued):
        entry = queued()
        nurse = pharmacist("nurse-1", role="NURSE")
        assert entries_listed(nurse.get("/resume")) == [entry["id"]]
        refused = nurse.post("/queue/start", data={"entry": entry["id"]})
        assert invalid(refused) and "Your user may not do this." in refused.text
        assert status_of(refused) == "PENDING"

    def test_return_to_the_queue_needs_a_reason_and_releases_the_lock(self, pharmacist, queued):
        entry = queued()
        w = pharmacist()
        w.post("/queue/start", data={"entry": entry["id"]})
        no_reason = w.post("/queue/return", data={"entry": entry["id"], "reason": " "})
        assert invalid(no_reason) and 'id="queue-return-reason-error"' in no_reason.text
        returned = w.post("/queue/return", data={"entry": entry["id"], "reason": "The ward changes the dose"})
        assert step_of(returned) == "queue" and f"{entry['prescriptionId']} is back in the queue." in returned.text
        assert entries_listed(returned) == [entry["id"]]
        assert step_of(pharmacist("ph-2").post("/queue/start", data={"entry": entry["id"]})) == "queue_entry"


class TestDispensing:
    def test_partial_with_a_substitution_unavailable_complete_and_collect(self, pharmacist, queued, stock,
                                                                         callbacks):
        entry = queued(PARACETAMOL, ALBENDAZOLE, priority="URGENT", department=("icu", "ICU"))
        w = pharmacist()
        started = w.post("/queue/start", data={"entry": entry["id"]})
        paracetamol, card = line_of(started, "MED-042")
        assert selected(card, "batch_number") == "PCT-EARLY"  # first to expire first
        assert selected(card, "product_code") == "MED-042" and 'value="MED-046"' in card
        assert re.search(r'name="quantity"[^>]*value="30"', card)

        generic = w.get("/queue/line", params={"entry": entry["id"], "medicine": paracetamol,
                                               "product_code": "MED-046"})
        assert selected(generic.text, "product_code") == "MED-046" and selected(generic.text, "batch_number") == "GEN-1"
        no_note = dispense(w, entry["id"], paracetamol, 10, "GEN-1", product_code="MED-046")
        assert invalid(no_note) and "Say why you substitute the prescribed product." in no_note.text
        assert status_of(no_note) == "DISPENSING" and selected(line_of(no_note, "MED-042")[1], "product_code") == \
            "MED-046"  # what was typed is kept beside what to fix
        partial = dispense(w, entry["id"], paracetamol, 10, "GEN-1", product_code="MED-046",
                           note="Brand out of stock; same INN and strength")
        assert not invalid(partial), partial.text
        card = line_of(partial, "MED-042")[1]
        assert "10 of 30 handed over" in card and "Partly dispensed" in card and "GEN-1 (10)" in card
        assert "Substituted by MED-046: Brand out of stock; same INN and strength" in card

        albendazole, card = line_of(partial, "MED-043")
        assert "No stock of this product" in card  # its only lot has expired
        missing_reason = w.post("/queue/unavailable", data={"entry": entry["id"], "medicine_id": albendazole})
        assert invalid(missing_reason) and f'id="reason-{albendazole}-error"' in missing_reason.text
        marked = w.post("/queue/unavailable", data={"entry": entry["id"],
            "medicine_id": albendazole, "reason": "Out of stock", "alternative": "Mebendazole 100 mg"})
        card = line_of(marked, "MED-043")[1]
        assert "Unavailable: Out of stock · alternative suggested: Mebendazole 100 mg" in card
        assert re.search(r'<button type="submit" data-osigu-primary[^>]*>Complete dispensing', marked.text)
        assert [payload["reason"] for kind, payload in callbacks()
                if kind == "widget.dispensing.medicine_unavailable"] == ["Out of stock"]

        not_back = w.post("/queue/return", data={"entry": entry["id"], "reason": "x"})
        assert invalid(not_back) and "cannot go back to the queue" in not_back.text
        again = w.post("/queue/unavailable", data={"entry": entry["id"], "medicine_id": paracetamol, "reason": "x"})
        assert invalid(again) and "it can no longer be marked unavailable" in again.text

        done = w.post("/queue/complete", data={"entry": entry["id"], "notes": "Counselled at the bedside",
                                                               "patient_counseled": "yes"})
        assert status_of(done) == "DISPENSED", done.text
        outcome = trigger_of(done)["osigu:success"]["outcome"]
        assert outcome["code"] == entry["prescriptionId"] and outcome["status"] == "DISPENSED"
        assert outcome["lines"] == [{"product_code": "MED-046", "quantity": 10, "lot": "GEN-1",
                                     "expiry": LATER.isoformat(), "substituted_for": "MED-042"}]
        assert [payload["dispensation_id"] for kind, payload in callbacks()
                if kind == "widget.dispensing.completed"] == [outcome["dispensation_id"]]
        twice = w.post("/queue/complete", data={"entry": entry["id"]})
        assert status_of(twice) == "DISPENSED" and "osigu:success" not in trigger_of(twice)

        listed = w.get("/queue/list")
        assert entries_listed(listed, "Ready for collection") == [entry["id"]]
        collected = w.post("/queue/collect", data={"entry": entry["id"], "collected_by": "Nurse Marta"})
        assert status_of(collected) == "COLLECTED" and "Collected." in collected.text
        assert entries_listed(w.get("/queue/list"), "Ready for collection") == []

    def test_a_line_whose_prescriber_forbade_substitution_offers_no_equivalent(self, pharmacist, queued, stock):
        entry = queued(PARACETAMOL | {"substitution_allowed": False})
        w = pharmacist()
        medicine_id, card = line_of(w.post("/queue/start", data={"entry": entry["id"]}), "MED-042")
        assert 'name="product_code"' in card and "<select" not in card.split('name="quantity"')[0]
        refused = dispense(w, entry["id"], medicine_id, 5, "GEN-1", product_code="MED-046", note="generic")
        assert invalid(refused) and "one of the equivalents offered" in refused.text

    def test_a_gs1_scan_fills_lot_and_expiry_of_its_line(self, pharmacist, queued, stock):
        entry = queued()
        w = pharmacist()
        medicine_id = line_of(w.post("/queue/start", data={"entry": entry["id"]}), "MED-042")[0]
        yymmdd = LATER.strftime("%y%m%d")
        scanned = w.post("/queue/scan", data={"entry": entry["id"],
                                              "scan": f"]d201{PARACETAMOL_GTIN}17{yymmdd}10PCT-LATE"})
        card = line_of(scanned, "MED-042")[1]
        assert selected(card, "batch_number") == "PCT-LATE"
        assert f'name="expiry_date" value="{LATER.isoformat()}"' in card
        assert "Lot and expiry filled in for" in scanned.text
        wrong = (LATER + timedelta(days=31)).strftime("%y%m%d")
        mismatch = w.post("/queue/scan", data={"entry": entry["id"],
                                               "scan": f"(01){PARACETAMOL_GTIN}(17){wrong}(10)PCT-LATE"})
        expiry = re.search(r'name="expiry_date" value="([^"]+)"', mismatch.text).group(1)
        refused = dispense(w, entry["id"], medicine_id, 30, "PCT-LATE", expiry=expiry)
        assert invalid(refused) and trigger_of(refused)["osigu:error"]["problem"]["code"] == "INVALID_REQUEST"
        unreadable = w.post("/queue/scan", data={"entry": entry["id"], "scan": "hello"})
        assert invalid(unreadable) and "not a GS1 pack code" in unreadable.text
        expired = w.post("/queue/scan", data={"entry": entry["id"],
            "scan": f"(01){PARACETAMOL_GTIN}(17){LAST_MONTH.strftime('%y%m%d')}(10)OLD"})
        assert invalid(expired) and "do not hand it over" in expired.text
        done = dispense(w, entry["id"], medicine_id, 30, "PCT-LATE", expiry=LATER.isoformat())
        assert "30 of 30 handed over" in line_of(done, "MED-042")[1]

    def test_each_refusal_of_the_queue_is_shown_in_place(self, pharmacist, queued, stock):
        entry = queued(PARACETAMOL, ALBENDAZOLE)
        w = pharmacist()
        started = w.post("/queue/start", data={"entry": entry["id"]})
        paracetamol, albendazole = line_of(started, "MED-042")[0], line_of(started, "MED-043")[0]

        def code_of(response):
            assert invalid(response), response.text
            return trigger_of(response)["osigu:error"]["problem"]["code"]

        assert code_of(w.post("/queue/complete", data={"entry": entry["id"]})) == "INCOMPLETE_DISPENSING"
        assert code_of(dispense(w, entry["id"], paracetamol, 20, "PCT-EARLY")) == "INSUFFICIENT_STOCK"
        expired = dispense(w, entry["id"], albendazole, 5, "ALB-OLD", product_code="MED-043")
        assert code_of(expired) == "EXPIRED_BATCH" and "This lot has expired" in expired.text
        over = dispense(w, entry["id"], paracetamol, 31, "PCT-LATE")
        assert invalid(over) and "Type a whole number from 1 to 30" in over.text
        foreign = dispense(w, entry["id"], paracetamol, 5, "PCT-LATE", product_code="MED-001", note="why")
        assert invalid(foreign) and "one of the equivalents offered" in foreign.text
        assert code_of(w.post("/queue/start", data={"entry": "dq_nothing"})) == "NOT_FOUND"
        spanish = pharmacist("ph-1", locale="es")
        assert "Dispense cada medicamento" in spanish.post("/queue/complete", data={"entry": entry["id"]}).text
        assert "5 of 30 handed over" in line_of(dispense(w, entry["id"], paracetamol, 5, "PCT-EARLY"), "MED-042")[1]

    def test_an_entry_with_every_medicine_unavailable_completes_without_a_redemption(self, pharmacist, queued):
        entry = queued()
        w = pharmacist()
        medicine_id = line_of(w.post("/queue/start", data={"entry": entry["id"]}), "MED-042")[0]
        w.post("/queue/unavailable", data={"entry": entry["id"], "medicine_id": medicine_id, "reason": "None left"})
        done = w.post("/queue/complete", data={"entry": entry["id"]})
        assert status_of(done) == "DISPENSED" and "osigu:success" not in trigger_of(done)


@pytest.fixture
def tramadol_dispensed(pharmacist, queued, bff_app):
    """A tramadol entry started and handed over by ph-1, not yet completed: (the worklist session, the entry)."""
    with bff_app.app_context():
        assert inventory.import_csv(TENANT, ["productCode,batchNumber,expiryDate,quantity",
                                             f"MED-069,TRM-1,{LATER},20"]) == (1, [])
        bff_db.session.remove()
    entry = queued(TRAMADOL)
    w = pharmacist()
    medicine_id = line_of(w.post("/queue/start", data={"entry": entry["id"]}), "MED-069")[0]
    assert not invalid(dispense(w, entry["id"], medicine_id, 10, "TRM-1", product_code="MED-069"))
    return w, entry


@pytest.fixture
def held_for_verification(tramadol_dispensed, bff_app):
    """The tramadol entry completed: Osigu holds it until the beneficiary is verified.
    Returns (the worklist session, the entry, the answer to Complete, the entry's dispensation id)."""
    w, entry = tramadol_dispensed
    held = w.post("/queue/complete", data={"entry": entry["id"]})
    with bff_app.app_context():
        dispensation_id = bff_db.session.scalar(bff_db.select(Redemption.dispensation_id).filter_by(
            owner_kind="pharmacy", owner_id=entry["id"]).order_by(Redemption.created_at.desc()).limit(1))
        bff_db.session.remove()
    return w, entry, held, dispensation_id


def wrong(otp):
    return "111111" if otp != "111111" else "222222"


def route(url):
    """A URL the component rendered, as the session asks it (under the widget's base)."""
    return url.replace("&amp;", "&").removeprefix("/widgets/dispensing")


class TestVerification:
    def test_the_right_code_after_a_wrong_one_completes_the_entry_once(self, held_for_verification, read_otp,
                                                                       simulator_rows, callbacks):
        w, entry, held, dispensation_id = held_for_verification
        assert held.status_code == 200 and status_of(held) == "DISPENSING" and not invalid(held)
        assert "Verify the beneficiary" in held.text and "Attempts left: 3" in held.text
        assert "Complete dispensing" not in held.text and "osigu:success" not in trigger_of(held)
        otp_form = re.search(r'<form class="osigu-form" hx-post="([^"]+)"', held.text).group(1)
        assert otp_form == f"/widgets/dispensing/queue/verification/otp?entry={entry['id']}"
        reloaded = w.get("/queue/entry", params={"entry": entry["id"]})  # not a dead screen
        assert 'name="otp"' in reloaded.text and "Attempts left: 3" in reloaded.text

        otp, otp_form = read_otp(dispensation_id), route(otp_form)
        refused = w.post(otp_form, data={"otp": wrong(otp)})
        assert "That code is not right" in refused.text and "Attempts left: 2" in refused.text
        assert "HX-Retarget" not in refused.headers
        done = w.post(otp_form, data={"otp": otp})
        assert done.headers["HX-Retarget"] == "#widget" and status_of(done) == "DISPENSED", done.text
        outcome = trigger_of(done)["osigu:success"]["outcome"]
        assert outcome["code"] == entry["prescriptionId"] and outcome["dispensation_id"] == dispensation_id
        assert outcome["lines"] == [{"product_code": "MED-069", "quantity": 10, "lot": "TRM-1",
                                     "expiry": LATER.isoformat()}]
        assert simulator_rows(entry["prescriptionId"]).count("DISPENSED") == 1
        assert [payload["dispensation_id"] for kind, payload in callbacks()
                if kind == "widget.dispensing.completed"] == [dispensation_id]
        again = w.post(otp_form, data={"otp": otp})  # nothing waits any more: the entry as it stands
        assert status_of(again) == "DISPENSED" and "osigu:success" not in trigger_of(again)
        assert entries_listed(w.get("/queue/list"), "Ready for collection") == [entry["id"]]

    def test_a_matching_reading_through_the_form_fields_completes_the_entry(self, held_for_verification,
                                                                          eventually, simulator_rows):
        w, entry, held, _ = held_for_verification
        form = re.search(r"<form data-osigu-biometric .*?</form>", held.text, re.S).group(0)
        url = re.search(r'hx-post="([^"]+)"', form).group(1)
        assert url == f"/widgets/dispensing/queue/verification/biometric?entry={entry['id']}"
        assert '<input type="hidden" name="modality" value="FINGERPRINT">' in form
        assert '<input type="hidden" name="reading">' in form and "data-osigu-biometric-camera" in form
        reading = base64.b64encode(b"a fingerprint template").decode()
        waiting = w.post(route(url), data={"modality": "FINGERPRINT", "reading": reading})
        poll = route(re.search(r'hx-get="([^"]+)" hx-trigger="load delay:', waiting.text).group(1))
        answer = eventually(lambda: (polled := w.get(poll)).status_code == 286 and polled)
        assert status_of(answer) == "DISPENSED" and trigger_of(answer)["osigu:success"]["outcome"]["status"] == \
            "DISPENSED"
        assert simulator_rows(entry["prescriptionId"]).count("DISPENSED") == 1

    def test_an_api_completion_held_for_verification_is_verified_in_the_worklist(self, tramadol_dispensed, bff_url,
                                                                                 read_otp):
        w, entry = tramadol_dispensed
        token = requests.post(f"{bff_url}/v1/widget-sessions", timeout=10, json={
            "widget": "dispensing", "origin": ORIGIN, "user": {"id": "ph-1", "name": "Farm. PH-1",
                                                              "role": "PHARMACIST"}},
            headers={"Authorization": "Bearer his-cb-api-key-0123456789"}).json()["token"]
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        held = api.post(f"{bff_url}/api/dispensing/{entry['id']}/complete", json={}, timeout=30)
        assert held.status_code == 409 and held.json()["code"] == "VERIFICATION_REQUIRED", held.text
        dispensation_id = held.json()["details"]["dispensationId"]
        opened = w.get("/queue/entry", params={"entry": entry["id"]})
        otp_form = route(re.search(r'<form class="osigu-form" hx-post="([^"]+)"', opened.text).group(1))
        done = w.post(otp_form, data={"otp": read_otp(dispensation_id)})
        assert status_of(done) == "DISPENSED" and "osigu:success" in trigger_of(done)
        record = api.get(f"{bff_url}/api/dispensing/{entry['id']}", timeout=10).json()
        assert record["status"] == "DISPENSED" and record["redemption"]["status"] == "DISPENSED"
        again = api.post(f"{bff_url}/api/dispensing/{entry['id']}/complete", json={}, timeout=30)
        assert again.status_code == 400 and again.json()["code"] == "INVALID_STATUS"

    def test_a_dispensation_voided_for_idleness_while_verifying_is_completed_again(self, held_for_verification,
                                                                                 simulator_app, read_otp,
                                                                                 simulator_rows):
        w, entry, held, dispensation_id = held_for_verification
        otp_form = route(re.search(r'<form class="osigu-form" hx-post="([^"]+)"', held.text).group(1))
        with simulator_app.app_context():
            row = sim_db.session.get(Dispensation, dispensation_id)
            row.updated_at = utcnow() - timedelta(seconds=simulator_app.config["DISPENSATION_TIMEOUT_SECONDS"] + 1)
            sim_db.session.commit()
        voided = w.post(otp_form, data={"otp": read_otp(dispensation_id)})
        assert voided.headers["HX-Retarget"] == "#widget" and status_of(voided) == "DISPENSING"
        assert "left idle too long" in voided.text and "osigu:success" not in trigger_of(voided)
        assert 'name="otp"' not in voided.text and "Complete dispensing" in voided.text
        again = w.post("/queue/complete", data={"entry": entry["id"]})
        fresh = route(re.search(r'<form class="osigu-form" hx-post="([^"]+)"', again.text).group(1))
        with simulator_app.app_context():
            new_id = sim_db.session.scalar(sim_db.select(Dispensation.id).filter_by(
                code=entry["prescriptionId"], status="PENDING_VERIFICATION"))
        done = w.post(fresh, data={"otp": read_otp(new_id)})
        assert status_of(done) == "DISPENSED" and trigger_of(done)["osigu:success"]["outcome"]["dispensation_id"] \
            == new_id
        assert simulator_rows(entry["prescriptionId"]).count("DISPENSED") == 1

    def test_another_pharmacist_cannot_verify_someone_elses_entry(self, held_for_verification, pharmacist,
                                                                 read_otp):
        w, entry, _, dispensation_id = held_for_verification
        other = pharmacist("ph-2").post("/queue/verification/otp", params={"entry": entry["id"]},
                                        data={"otp": read_otp(dispensation_id)})
        assert status_of(other) == "DISPENSING" and "osigu:success" not in trigger_of(other)
        assert 'name="otp"' not in other.text
        assert 'name="otp"' in w.get("/queue/entry", params={"entry": entry["id"]}).text


class TestHistory:
    def test_the_history_and_its_filters(self, pharmacist, queued, stock):
        first, second = queued(), queued(priority="URGENT")
        w = pharmacist()
        medicine_id = line_of(w.post("/queue/start", data={"entry": first["id"]}), "MED-042")[0]
        dispense(w, first["id"], medicine_id, 30, "PCT-LATE")
        w.post("/queue/complete", data={"entry": first["id"], })
        page = w.get("/queue/history")
        assert step_of(page) == "queue_history" and "Records found: 2" in page.text
        assert re.search(r'<button type="submit" data-osigu-primary[^>]*>Show', page.text)
        dispensed = w.get("/queue/history/list", params={"status": "DISPENSED"})
        assert re.findall(r'<tr data-osigu-entry="([^"]+)"', dispensed.text) == [first["id"]]
        mine = w.get("/queue/history/list", params={"pharmacistId": "ph-1"})
        assert re.findall(r'<tr data-osigu-entry="([^"]+)"', mine.text) == [first["id"]]
        today = date.today().isoformat()
        both = w.get("/queue/history/list", params={"startDate": today, "endDate": today,
                                                    "patientId": "pat_01HXE0000000000000000ANA01"})
        assert set(re.findall(r'<tr data-osigu-entry="([^"]+)"', both.text)) == {first["id"], second["id"]}
        assert "No dispensing records match." in w.get("/queue/history/list", params={"endDate": "2020-01-01"}).text
        for params in ({"startDate": "yesterday"}, {"patientId": "pat\x00"}):
            bad = w.get("/queue/history/list", params=params)
            assert "osigu-alert" in bad.text and "INVALID_REQUEST" in bad.text, params
        assert entries_listed(w.get("/queue/list", params={"departmentId": "icu\x00"})) == [second["id"]]
        opened = w.get("/queue/entry", params={"entry": first["id"]})
        assert status_of(opened) == "DISPENSED" and "Handed to the patient" in opened.text
