"""Behind a reverse proxy: X-Forwarded-* changes what the BFF sees only when it comes from a configured proxy."""

import ipaddress

import pytest
import requests
from flask import request

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "bff.example.org"}


def what_the_app_sees(make_bff, serve_wsgi, headers, **settings):
    """Serve a BFF with a probe route that echoes the client, scheme and host the app sees; call it with headers."""
    app = make_bff(**settings)
    app.add_url_rule("/test-probe/seen", "test_probe_seen", lambda: {
        "client": request.remote_addr, "scheme": request.scheme, "host": request.host, "url": request.url_root})
    return requests.get(serve_wsgi(app) + "/test-probe/seen", headers=headers, timeout=10).json()


def test_forwarded_headers_are_ignored_by_default(make_bff, serve_wsgi):
    seen = what_the_app_sees(make_bff, serve_wsgi, FORWARDED)
    assert seen["client"] == "127.0.0.1" and seen["scheme"] == "http" and seen["host"].startswith("127.0.0.1:")


def test_a_trusted_proxy_tells_the_app_the_client_scheme_and_host(make_bff, serve_wsgi):
    seen = what_the_app_sees(make_bff, serve_wsgi, FORWARDED,
                             TRUSTED_PROXIES=(ipaddress.ip_network("127.0.0.0/8"),), PROXY_HOPS=1)
    assert seen == {"client": "203.0.113.7", "scheme": "https", "host": "bff.example.org",
                    "url": "https://bff.example.org/"}


def test_a_peer_that_is_not_the_configured_proxy_is_not_believed(make_bff, serve_wsgi):
    seen = what_the_app_sees(make_bff, serve_wsgi, FORWARDED,
                             TRUSTED_PROXIES=(ipaddress.ip_network("10.0.0.5"),), PROXY_HOPS=1)
    assert seen["client"] == "127.0.0.1" and seen["scheme"] == "http"


@pytest.mark.parametrize("hops, client", [(1, "203.0.113.7"), (2, "198.51.100.1")])
def test_only_as_many_hops_as_configured_are_believed(make_bff, serve_wsgi, hops, client):
    # The client forged the first address; each proxy appended the address it saw.
    forged = {"X-Forwarded-For": "6.6.6.6, 198.51.100.1, 203.0.113.7"}
    seen = what_the_app_sees(make_bff, serve_wsgi, forged,
                             TRUSTED_PROXIES=(ipaddress.ip_network("127.0.0.1"),), PROXY_HOPS=hops)
    assert seen["client"] == client
