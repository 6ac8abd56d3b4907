"""A widget step meets a database another writer holds: it waits its turn rather than answering 500."""

import re
import sqlite3
import threading

from tests.integration.widget_client import Widget, step_of

# Longer than the 5 s SQLite busy timeout the BFF had: under load (50 users, two `serve` workers on one SQLite
# file) writers queued that long and widget steps failed with "database is locked".
HELD_SECONDS = 6


def test_a_step_waits_for_a_writer_that_holds_the_database_longer_than_five_seconds(bff_url, new_session, tmp_path):
    widget = Widget(bff_url, new_session())
    assert step_of(widget.get("/resume")) == "patient"
    found = widget.get("/patient/search", params={"document_type": "CC", "document_number": "1000000001"})
    patient_id = re.search(r'name="patient_id"\s+value="([^"]+)"', found.text).group(1)

    other_writer = sqlite3.connect(tmp_path / "bff.sqlite3", isolation_level=None, check_same_thread=False)
    other_writer.execute("BEGIN IMMEDIATE")  # the write lock, as another process's transaction takes it
    release = threading.Timer(HELD_SECONDS, other_writer.execute, ["COMMIT"])
    release.start()
    try:
        chosen = widget.post("/patient/select", data={"patient_id": patient_id}, timeout=60)
    finally:
        release.join()
        other_writer.close()

    assert chosen.status_code == 200, chosen.text
    assert step_of(chosen) == "diagnoses"
