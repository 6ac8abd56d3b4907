"""Start-up configuration: clear refusals instead of failures at the first request."""

import json

import pytest

from bff.config import ConfigError, from_environment, is_public_address

APP = {"id": "his", "api_key": "k" * 20, "origins": ["https://his.example.com"]}
CALLBACK_SECRET = "whsec_" + "aGlzLWEtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Njc4OTA="  # 32 bytes
SANDBOX = {"OSIGU_ENV": "sandbox", "BFF_SECRET_KEY": "0f3c9a7e5b2d4c6a8e1f3b5d7c9a2e4f", "OSIGU_CLIENT_ID": "cid",
           "OSIGU_CLIENT_SECRET": "secret", "BFF_HOST_APPS": json.dumps([APP])}


def test_local_needs_no_configuration():
    config = from_environment({})
    assert config["OSIGU_BASE_URL"] == "http://127.0.0.1:8070"
    # One demo host app per prescription market; Spain's (v2) signs with the simulator's demo key; and the EHR.
    assert [(app.id, app.prescription_version) for app in config["HOST_APPS"]] == [
        ("demo-his", "v1"), ("demo-his-eu", "v1.1"), ("demo-his-es", "v2"), ("demo-ehr", "v1")]


def test_sandbox_uses_osigus_sandbox_url():
    assert from_environment(SANDBOX)["OSIGU_BASE_URL"] == "https://sandbox.osigu.com"
    assert from_environment(SANDBOX | {"OSIGU_ENV": "production"})["OSIGU_BASE_URL"] == "https://api.osigu.com"
    assert from_environment(SANDBOX | {"OSIGU_BASE_URL": "https://proxy.internal/"})["OSIGU_BASE_URL"] == \
        "https://proxy.internal"


@pytest.mark.parametrize("change, words", [
    ({"BFF_SECRET_KEY": ""}, "BFF_SECRET_KEY is required"),
    ({"OSIGU_ENV": "staging"}, "OSIGU_ENV must be one of"),
    ({"BFF_HOST_APPS": ""}, "non-empty JSON list"),
    ({"BFF_HOST_APPS": "{not json"}, "not valid JSON"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"origins": ["https://his.example.com/app"]}])}, "exact origins"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"api_key": "short"}])}, "too short"),
    ({"BFF_HOST_APPS": json.dumps([APP, APP | {"id": "other"}])}, "used by another host app"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"callback_url": "https://his.example.com/cb"}])}, "go together"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"colour": "blue"}])}, "unknown fields: colour"),
    ({"OSIGU_CLIENT_SECRET": ""}, "OSIGU_CLIENT_ID and OSIGU_CLIENT_SECRET go together"),
    ({"OSIGU_CLIENT_ID": "", "OSIGU_CLIENT_SECRET": ""}, "have no Osigu credentials"),
    ({"OSIGU_ENV": "production", "OSIGU_BASE_URL": "http://api.osigu.com"}, "https in production"),
    ({"BFF_SESSION_TTL_SECONDS": "5"}, "between 60 and 86400"),
    ({"BFF_REDIS_URL": "http://redis.internal:6379"}, "BFF_REDIS_URL must be a redis:// or rediss://"),
    ({"BFF_SESSION_TTL_SECONDS": "7200", "BFF_SESSION_MAX_SECONDS": "3600"}, "at least BFF_SESSION_TTL_SECONDS"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"prescription_version": "v3"}])}, "must be one of v1, v1.1, v2"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"prescription_version": "v2"}])}, "set OSIGU_NATIONAL_REPOSITORY_ID"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"prescription_version": "v2"}]), "OSIGU_NATIONAL_REPOSITORY_ID": "ES-1",
      "OSIGU_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, "cannot be read"),
])
def test_bad_settings_are_refused_with_a_clear_message(change, words):
    with pytest.raises(ConfigError, match=words):
        from_environment(SANDBOX | change)


def test_a_host_app_may_bring_its_own_credentials_instead():
    app = APP | {"osigu_client_id": "own", "osigu_client_secret": "own-secret"}
    config = from_environment(SANDBOX | {"OSIGU_CLIENT_ID": "", "OSIGU_CLIENT_SECRET": "",
                                         "BFF_HOST_APPS": json.dumps([app])})
    assert config["HOST_APPS"][0].osigu_client_id == "own"


def test_secrets_do_not_show_in_a_host_apps_repr():
    app = from_environment(SANDBOX)["HOST_APPS"][0]
    assert "k" * 20 not in repr(app)


def with_callback(url, secret=CALLBACK_SECRET, **environ):
    return SANDBOX | {"BFF_HOST_APPS": json.dumps([APP | {"callback_url": url, "callback_secret": secret}])} | environ


@pytest.mark.parametrize("environ", [{"OSIGU_BASE_URL": "https://api.osigu.com"},
                                     {"OSIGU_ENV": "local", "OSIGU_BASE_URL": "http://simulator.internal:8070"}])
def test_the_demo_defaults_are_only_for_a_simulator_on_this_machine(environ):
    with pytest.raises(ConfigError, match="OSIGU_ENV is local .* set OSIGU_ENV=sandbox or production"):
        from_environment(environ)


@pytest.mark.parametrize("base_url", ["http://localhost:9000", "http://127.0.0.1:8070", "http://[::1]:8070"])
def test_local_runs_against_a_simulator_on_this_machine(base_url):
    config = from_environment({"OSIGU_BASE_URL": base_url})
    assert config["OSIGU_CLIENT_ID"] == "demo-hospital" and config["CALLBACKS_PUBLIC_ONLY"] is False


@pytest.mark.parametrize("change, words", [
    ({"BFF_SECRET_KEY": "x"}, r"BFF_SECRET_KEY is too weak \(1 characters"),
    ({"BFF_SECRET_KEY": "ab" * 20}, r"too weak \(40 characters, 2 different\)"),
    ({"OSIGU_BASE_URL": "http://sandbox.osigu.com"}, "must be https in sandbox"),
    ({"OSIGU_BASE_URL": "ftp://sandbox.osigu.com"}, "must be an http"),
    ({"BFF_HOST_APPS": json.dumps([APP | {"origins": ["http://his.example.com"]}])}, "origins must be https"),
    ({"OSIGU_WEBHOOK_SECRET": "not-a-whsec"}, "OSIGU_WEBHOOK_SECRET must be the whsec_"),
    ({"OSIGU_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "OSIGU_WEBHOOK_SECRET must be the whsec_"),  # 5 bytes
])
def test_weak_settings_are_refused_outside_local(change, words):
    with pytest.raises(ConfigError, match=words):
        from_environment(SANDBOX | change)


@pytest.mark.parametrize("url, words", [
    ("http://his.example.com/cb", "must be https outside"),
    ("file:///etc/passwd", "must be https outside"),
    ("gopher://his.example.com/cb", "must be https outside"),
    ("https://localhost/cb", "must not point at this machine"),
    ("https://callbacks.localhost/cb", "must not point at this machine"),
    ("https://127.0.0.1:8443/cb", "must not point at this machine"),
    ("https://[::1]/cb", "must not point at this machine"),
    ("https://10.1.2.3/cb", "loopback, private or link-local"),
    ("https://192.168.0.10/cb", "loopback, private or link-local"),
    ("https://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
    ("https://[fe80::1]/cb", "loopback, private or link-local"),
    ("https://[::ffff:10.0.0.1]/cb", "loopback, private or link-local"),
    ("https://user:pw@his.example.com/cb", "must not carry credentials"),
    ("https://his.example.com:99999/cb", "is not a valid URL"),
    ("https:///cb", "has no host"),
])
def test_a_callback_url_that_could_reach_inside_is_refused(url, words):
    with pytest.raises(ConfigError, match=f"BFF_HOST_APPS\\[0\\].callback_url .*{words}"):
        from_environment(with_callback(url))


@pytest.mark.parametrize("secret", ["not-a-whsec", "whsec_c2hvcnQ=", "whsec_!!!not base64!!!"])
def test_a_callback_secret_must_be_a_strong_standard_webhooks_secret(secret):
    with pytest.raises(ConfigError, match=r"BFF_HOST_APPS\[0\].callback_secret must be whsec_"):
        from_environment(with_callback("https://his.example.com/cb", secret))


def test_a_public_callback_url_is_accepted_and_checked_again_at_delivery():
    for url in ("https://his.example.com/osigu/callbacks", "https://93.184.216.34/cb"):
        config = from_environment(with_callback(url))
        assert config["HOST_APPS"][0].callback_url == url and config["CALLBACKS_PUBLIC_ONLY"] is True


def test_local_allows_a_callback_on_this_machine_but_no_other_scheme():
    local = {"OSIGU_ENV": "local"}
    app = APP | {"origins": ["http://127.0.0.1:8090"], "callback_secret": CALLBACK_SECRET}
    ok = from_environment(local | {"BFF_HOST_APPS": json.dumps([app | {"callback_url": "http://127.0.0.1:8090/cb"}])})
    assert ok["HOST_APPS"][0].callback_url == "http://127.0.0.1:8090/cb"
    with pytest.raises(ConfigError, match="callback_url must be http or https"):
        from_environment(local | {"BFF_HOST_APPS": json.dumps([app | {"callback_url": "file:///etc/passwd"}])})


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1%eth0", False), ("fc00::1", False), ("::ffff:127.0.0.1", False),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public
def test_admin_is_a_flag_a_host_app_opts_into():
    admin = APP | {"id": "ops", "api_key": "o" * 20, "admin": True}
    apps = from_environment(SANDBOX | {"BFF_HOST_APPS": json.dumps([APP, admin])})["HOST_APPS"]
    assert [app.admin for app in apps] == [False, True]
    with pytest.raises(ConfigError, match="admin must be true or false"):
        from_environment(SANDBOX | {"BFF_HOST_APPS": json.dumps([APP | {"admin": "yes"}])})
    # The demo's main host app is the provider's back office, so the README's provider-wide curls work.
    assert [app.id for app in from_environment({})["HOST_APPS"] if app.admin] == ["demo-his"]


def test_the_retention_is_a_month_unless_set():
    assert from_environment(SANDBOX)["RETENTION_DAYS"] == 30
    assert from_environment(SANDBOX | {"BFF_RETENTION_DAYS": "365"})["RETENTION_DAYS"] == 365
    for wrong in ("0", "forever", "-1"):
        with pytest.raises(ConfigError, match="BFF_RETENTION_DAYS must be a whole number of days"):
            from_environment(SANDBOX | {"BFF_RETENTION_DAYS": wrong})


def test_trusted_proxies_are_parsed_and_off_by_default():
    assert from_environment({})["TRUSTED_PROXIES"] == ()
    config = from_environment({"BFF_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16,::1", "BFF_PROXY_HOPS": "2"})
    assert [str(network) for network in config["TRUSTED_PROXIES"]] == ["10.0.0.5/32", "10.1.0.0/16", "::1/128"]
    assert config["PROXY_HOPS"] == 2


@pytest.mark.parametrize("environ, words", [
    ({"BFF_TRUSTED_PROXIES": "proxy.internal"}, "is not an IP address or network"),
    ({"BFF_TRUSTED_PROXIES": "10.0.0.5/24"}, "is not an IP address or network"),
    ({"BFF_TRUSTED_PROXIES": "10.0.0.5", "BFF_PROXY_HOPS": "0"}, "1 to 5"),
    ({"BFF_PROXY_HOPS": "1"}, "BFF_PROXY_HOPS needs BFF_TRUSTED_PROXIES"),
])
def test_proxy_settings_are_refused_clearly(environ, words):
    with pytest.raises(ConfigError, match=words):
        from_environment(environ)
