"""OPTIONS on a proxied path names the methods the proxy forwards there, not every method its route takes."""


def test_options_names_the_forwarded_methods_of_a_path(host):
    for path, allowed in (("/v1/osigu/arc/v1/products", "GET, OPTIONS"),
                          ("/v1/osigu/arc/v1/providers/products", "GET, POST, OPTIONS"),
                          ("/v1/osigu/dispensing/v1/dispensations/dsp_1", "GET, OPTIONS")):
        answer = host.options(path)
        assert answer.status_code == 204 and answer.headers["Allow"] == allowed, (path, answer.text)
    assert host.options("/v1/osigu/nowhere").json()["error_code"] == "BFF-PROXY-PATH"
    assert host.options("/v1/osigu/arc/v1/products", headers={"Authorization": "Bearer nope"}).status_code == 401
