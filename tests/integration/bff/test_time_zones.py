"""Times in the widget are the user's: the zone the host gave, else the browser's, and always named."""

import re

import pytest
import requests

ANA = {"patient": {"document_type": "CC", "document_number": "1000000001"}}


@pytest.fixture
def issue_with(bff_url, new_session):
    """Issue a prescription in a session made with body, sending headers; return the done step's text."""

    def issue(headers=None, **body):
        token = new_session(locale="en", context=ANA, **body)
        w = requests.Session()
        w.headers.update({"HX-Request": "true", "X-Osigu-Session": token, "X-Osigu-Origin": "http://127.0.0.1:9001"}
                         | (headers or {}))
        base = f"{bff_url}/widgets/prescription"
        w.get(f"{base}/resume", timeout=15)
        w.post(f"{base}/diagnoses/add", data={"diagnosis_code": "R51", "description": "Headache"}, timeout=15)
        w.post(f"{base}/medications/add", timeout=15, data={"product_code": "MED-042", "quantity": "30", "dose": "1",
                                                            "unit": "tablet", "every_hours": "8",
                                                            "duration_days": "10"})
        done = w.post(f"{base}/issue", timeout=15)
        assert 'data-osigu-step="done"' in done.text, done.text
        return re.search(r"Issued (.+?)\. The pharmacy", done.text).group(1)

    return issue


def test_the_browsers_zone_is_used_and_named(issue_with):
    assert issue_with({"X-Osigu-Timezone": "America/Bogota"}).endswith("(Colombia Time)")


def test_the_zone_the_host_gave_wins_over_the_browsers(issue_with):
    assert issue_with({"X-Osigu-Timezone": "America/Bogota"}, timezone="Europe/Madrid").endswith(
        "(Central European Time)")


@pytest.mark.parametrize("header", [None, "Mars/Olympus", "../../etc/passwd"])
def test_without_a_known_zone_the_time_says_it_is_utc(issue_with, header):
    assert issue_with({"X-Osigu-Timezone": header} if header else {}).endswith("(UTC)")


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "/etc/localtime", "x" * 65, 5])
def test_a_session_with_an_unknown_zone_is_refused(host, timezone):
    response = host.post("/v1/widget-sessions", json={
        "widget": "prescription", "origin": "http://127.0.0.1:9001", "timezone": timezone,
        "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}})
    assert response.status_code == 422 and "timezone" in [d["field"] for d in response.json()["details"]]
