"""Start-up configuration: clear refusals instead of failures at the first request."""

import json

import pytest

from bff.config import ConfigError, from_environment

APP = {"id": "his", "api_key": "k" * 20, "origins": ["https://his.example.com"]}
SANDBOX = {"OSIGU_ENV": "sandbox", "BFF_SECRET_KEY": "s" * 32, "OSIGU_CLIENT_ID": "cid",
           "OSIGU_CLIENT_SECRET": "secret", "BFF_HOST_APPS": json.dumps([APP])}


def test_local_needs_no_configuration():
    config = from_environment({})
    assert config["OSIGU_BASE_URL"] == "http://127.0.0.1:8070"
    # One demo host app per prescription market; Spain's (v2) signs with the simulator's demo key.
    assert [(app.id, app.prescription_version) for app in config["HOST_APPS"]] == [
        ("demo-his", "v1"), ("demo-his-eu", "v1.1"), ("demo-his-es", "v2")]


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
