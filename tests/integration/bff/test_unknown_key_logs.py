"""A request with an unknown API key is a plain 401: no error logged with a traceback (the rate limiter's key
function used to raise inside Flask-Limiter, which logged "Failed to rate limit" at ERROR for each one)."""

import logging

import requests


def test_an_unknown_api_key_is_401_and_logs_no_error(bff_url, caplog):
    caplog.set_level(logging.INFO)
    for path in ("/v1/widget-sessions", "/v1/osigu/arc/v1/products"):
        answer = requests.post(f"{bff_url}{path}", headers={"Authorization": "Bearer nope"}, json={}, timeout=10)
        assert answer.status_code == 401 and answer.json()["error_code"] == "BFF-401"
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
