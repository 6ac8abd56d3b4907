"""A host app's `smart` block (DESIGN.md, Interoperability): read whole, or refused at start-up saying why."""

import json

import pytest

from bff.config import ConfigError, parse_host_apps

SMART = {"issuers": ["https://ehr.example.org/fhir/"], "client_id": "osigu", "identifier_system": "urn:oid:1.2"}


def app(smart, **rest):
    return {"id": "ehr", "api_key": "k" * 20, "origins": ["https://ehr.example.org"], "smart": smart} | rest


def test_a_smart_block_is_read_with_its_issuers_without_a_trailing_slash():
    (found,) = parse_host_apps(json.dumps([app(SMART | {"client_secret": "s3cret"})]), local=False)
    assert found.smart.issuers == ("https://ehr.example.org/fhir",)
    assert found.smart.client_secret == "s3cret" and "s3cret" not in repr(found)


@pytest.mark.parametrize("smart, words", [
    ({"issuers": []} | {k: v for k, v in SMART.items() if k != "issuers"}, "FHIR base URLs"),
    (SMART | {"issuers": ["http://ehr.example.org/fhir"]}, "https outside OSIGU_ENV=local"),
    ({k: v for k, v in SMART.items() if k != "identifier_system"}, "identifier_system"),
    (SMART | {"scope": "x"}, "identifier_system"),
    (SMART | {"jwks_private_key": "{}"}, "one private JWK as a JSON object"),
])
def test_a_bad_smart_block_is_refused(smart, words):
    with pytest.raises(ConfigError, match=words):
        parse_host_apps(json.dumps([app(smart)]), local=False)


def test_an_issuer_belongs_to_one_host_app():
    other = app(SMART, id="ehr-2", api_key="j" * 20)
    with pytest.raises(ConfigError, match="one host app only"):
        parse_host_apps(json.dumps([app(SMART), other]), local=False)
