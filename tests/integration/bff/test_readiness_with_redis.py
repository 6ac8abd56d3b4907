"""/readyz with BFF_REDIS_URL: Redis is one more dependency, named when it fails."""

import json

import requests


def test_readyz_pings_redis_and_names_it_once_it_stops(make_bff, serve_wsgi, simulator_url, host_apps, redis_server):
    app = make_bff(environ={"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "test-key",
                            "BFF_HOST_APPS": json.dumps(host_apps), "BFF_REDIS_URL": redis_server.url},
                   READY_CACHE_SECONDS=0)
    url = serve_wsgi(app)
    up = requests.get(f"{url}/readyz", timeout=10)
    assert up.status_code == 200
    assert up.json() == {"status": "ready", "checks": {"database": "ok", "upstream": "ok", "redis": "ok"}}

    redis_server.terminate()
    redis_server.wait(timeout=10)
    down = requests.get(f"{url}/readyz", timeout=10)
    assert down.status_code == 503
    assert down.json() == {"status": "not ready",
                           "checks": {"database": "ok", "upstream": "ok", "redis": "failing: ConnectionError"}}


def test_readyz_without_redis_configured_checks_no_redis(bff_url):
    assert "redis" not in requests.get(f"{bff_url}/readyz", timeout=10).json()["checks"]
