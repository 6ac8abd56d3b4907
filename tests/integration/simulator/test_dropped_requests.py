"""A dropped connection breaks off at once, whatever the request carried: the client is never left waiting."""

import pytest
import requests


@pytest.mark.parametrize("simulator_config", [{"FAULTS": [{"path_prefix": "/dispensing/", "drop_rate": 1}]}])
def test_a_post_with_a_body_is_dropped_at_once_every_time(pharmacy):
    failures = []
    for _ in range(20):  # the server used to wait for more of the body it had not read, now and then
        with pytest.raises(requests.RequestException) as dropped:
            pharmacy.post("/dispensing/v1/dispensations", json={"code": "RX-2026-000001", "note": "x" * 200},
                          timeout=(3, 2))
        failures.append(dropped.value)
    assert [error for error in failures if "timed out" in str(error)] == []
