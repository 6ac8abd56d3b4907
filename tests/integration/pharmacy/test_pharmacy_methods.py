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


def test_options_names_the_methods_of_the_apis_own_route(pharmacist, bff_url):
    headers = {"Authorization": pharmacist.headers["Authorization"]}
    for path, allowed in (("/api/inventory", "GET, OPTIONS"), ("/api/dispensing/pending", "GET, POST, OPTIONS"),
                          ("/api/dispensing/dq_1/dispense", "POST, OPTIONS")):
        answer = requests.options(f"{bff_url}{path}", headers=headers, timeout=10)
        assert answer.status_code == 204 and answer.headers["Allow"] == allowed, (path, answer.headers)
    assert requests.options(f"{bff_url}/api/nowhere", headers=headers, timeout=10).status_code == 404
    assert requests.options(f"{bff_url}/api/inventory", timeout=10).status_code == 401


def test_a_path_with_a_line_break_is_the_apis_not_found(pharmacist, bff_url):
    headers = {"Authorization": pharmacist.headers["Authorization"]}
    answer = requests.patch(f"{bff_url}/api/a%0Ab", headers=headers, timeout=10)
    assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND", answer.text
    assert requests.get(f"{bff_url}/api/a%0Ab", timeout=10).json()["code"] == "UNAUTHORIZED"
