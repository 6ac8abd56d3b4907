"""A route of the API asked with a method it does not answer is 405 with Allow, not the unknown route's 404."""

import requests


def test_an_unanswered_method_on_a_route_is_405_naming_the_ones_it_answers(pharmacist, bff_url):
    headers = {"Authorization": pharmacist.headers["Authorization"]}
    for method, path, allowed in (("PUT", "/api/dispensing/history", "GET"), ("DELETE", "/api/dispensing/pending",
                                                                               "GET, POST"),
                                  ("GET", "/api/dispensing/dq_1/start", "POST")):
        answer = requests.request(method, f"{bff_url}{path}", headers=headers, timeout=10)
        assert answer.status_code == 405 and answer.headers["Allow"] == allowed, (method, path, answer.text)
        assert answer.json()["code"] == answer.json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert requests.put(f"{bff_url}/api/nowhere", headers=headers, timeout=10).json()["code"] == "NOT_FOUND"
