"""One host app, idle connections or a slow Osigu cannot take the BFF offline (waitress, its real thread pool)."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bff.config import ConfigError

HIS_A = {"Authorization": "Bearer his-a-api-key-0123456789"}
PMS_B = {"Authorization": "Bearer pms-b-api-key-0123456789"}
SESSION = {"widget": "prescription", "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"}}
SLOW_SEARCH = "/v1/osigu/medical-catalogs/v1/diagnoses"


def healthz_seconds(url):
    started = time.perf_counter()
    assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
    return time.perf_counter() - started


@pytest.mark.parametrize("bff_config", [{"RATE_LIMIT_SESSIONS": "3/minute"}])
def test_session_minting_is_limited_per_host_app(bff_url):
    mint = lambda headers, origin: requests.post(  # noqa: E731
        f"{bff_url}/v1/widget-sessions", json=SESSION | {"origin": origin}, headers=headers, timeout=10)
    assert [mint(HIS_A, "http://127.0.0.1:9001").status_code for _ in range(3)] == [201] * 3
    limited = mint(HIS_A, "http://127.0.0.1:9001")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error_code"] == "BFF-RATE-LIMITED" and limited.json()["retryable"] is True
    assert mint(PMS_B, "http://localhost:9002").status_code == 201  # another host app has its own allowance
    unknown = mint({"Authorization": "Bearer not-a-key-0123456789"}, "http://127.0.0.1:9001")
    assert unknown.status_code == 401  # an unknown key is refused as such, not counted against anyone


@pytest.mark.parametrize("bff_config", [{"RATE_LIMIT_PROXY": "2/minute"}])
def test_the_proxy_is_limited_per_host_app(bff_url):
    search = lambda headers: requests.get(f"{bff_url}/v1/osigu/medical-catalogs/v1/medications",  # noqa: E731
                                          params={"query": "paracetamol"}, headers=headers, timeout=10)
    assert [search(HIS_A).status_code for _ in range(2)] == [200, 200]
    limited = search(HIS_A)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert set(limited.json()) == {"error_code", "message", "retryable"}
    assert search(PMS_B).status_code == 200
    assert "Retry-After" not in search(PMS_B).headers  # only a limited answer tells the caller to wait


@pytest.mark.parametrize("bff_config", [{"RATE_LIMIT_PROXY": "1/second"}])
def test_a_limited_host_app_is_served_again_in_the_next_window(bff_url, eventually):
    search = lambda: requests.get(f"{bff_url}/v1/osigu/medical-catalogs/v1/medications",  # noqa: E731
                                  params={"query": "ibu"}, headers=HIS_A, timeout=10).status_code
    eventually(lambda: search() == 429, timeout=5)
    eventually(lambda: search() == 200, timeout=5, interval=0.2)


@pytest.mark.parametrize("setting", ["RATE_LIMIT_SESSIONS", "RATE_LIMIT_PROXY"])
def test_a_malformed_rate_limit_is_refused_at_start_up(make_bff, setting):
    with pytest.raises(ConfigError, match=f"BFF_{setting}"):
        make_bff(**{setting: "lots"})


def test_idle_connections_do_not_take_the_bff_offline(bff_app, serve_waitress):
    url = serve_waitress(bff_app, channel_timeout=1)
    port = int(url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(150)]  # 110 used to be enough
    try:
        assert healthz_seconds(url) < 1
        idle[0].settimeout(10)
        assert idle[0].recv(1) == b""  # and an idle connection is closed after channel_timeout
    finally:
        for connection in idle:
            connection.close()


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [
    {"path_prefix": "/medical-catalogs/v1/diagnoses", "latency_ms": 4000}]}])
def test_healthz_answers_while_osigu_holds_every_call(bff_app, serve_waitress, eventually):
    url = serve_waitress(bff_app, threads=8)
    slow = lambda _: requests.get(f"{url}{SLOW_SEARCH}", params={"query": "R51"},  # noqa: E731
                                  headers=HIS_A, timeout=30)
    with ThreadPoolExecutor(24) as pool:
        calls = [pool.submit(slow, n) for n in range(24)]  # three times the threads, all waiting on Osigu
        busy = eventually(lambda: next((call for call in calls if call.done()), None)).result()
        assert busy.status_code == 503 and busy.json()["error_code"] == "BFF-BUSY" and busy.json()["retryable"]
        assert busy.headers["Retry-After"] == "1"
        assert max(healthz_seconds(url) for _ in range(5)) < 1  # while four of his-a's calls still wait
        other_tenant = requests.get(f"{url}/v1/osigu/medical-catalogs/v1/medications", params={"query": "ibu"},
                                    headers=PMS_B, timeout=10)
        assert other_tenant.status_code == 200  # his-a's slow calls leave room for pms-b
        assert not all(call.done() for call in calls)
        statuses = sorted(call.result().status_code for call in calls)
    assert statuses.count(200) >= 4 and set(statuses) == {200, 503}


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [
    {"path_prefix": "/medical-catalogs/v1/diagnoses", "latency_ms": 4000}]}])
def test_readyz_does_not_wait_for_a_slow_osigu(bff_url):
    started = time.perf_counter()
    answer = requests.get(f"{bff_url}/readyz", timeout=30)
    assert answer.status_code == 503 and answer.json()["checks"]["upstream"] == "failing: UpstreamError"
    assert time.perf_counter() - started < 3.5  # one probe with a 2 s read timeout, never retried
