"""The host-app keys for FHIR EHRs: outcome_format and cds.issuers, checked at start-up."""

import json

import pytest

from bff.config import ConfigError, parse_host_apps

APP = {"id": "ehr-a", "api_key": "ehr-a-api-key-0123456789", "origins": ["https://ehr.example.org"]}


def parse(*apps, local=False):
    return parse_host_apps(json.dumps(list(apps)), local=local)


def test_fhir_outcomes_and_cds_issuers_are_read():
    [app] = parse(APP | {"outcome_format": "fhir", "cds": {"issuers": {"https://ehr.example.org":
                                                                       "https://ehr.example.org/jwks"}}})
    assert app.outcome_format == "fhir" and app.cds_issuers == (("https://ehr.example.org",
                                                                 "https://ehr.example.org/jwks"),)
    assert parse(APP)[0].outcome_format == "osigu"


@pytest.mark.parametrize("entry, message", [
    ({"outcome_format": "hl7"}, "outcome_format must be one of osigu, fhir"),
    ({"cds": {"issuers": {}}}, "cds must be"),
    ({"cds": {"issuers": {"ehr": "http://ehr.example.org/jwks"}}}, "https outside OSIGU_ENV=local"),
    ({"cds": {"jwks": "https://ehr.example.org/jwks"}}, "cds must be"),
])
def test_a_bad_setting_is_refused_with_what_to_do(entry, message):
    with pytest.raises(ConfigError, match=message):
        parse(APP | entry)


def test_an_issuer_belongs_to_one_host_app():
    cds = {"cds": {"issuers": {"ehr": "https://ehr.example.org/jwks"}}}
    with pytest.raises(ConfigError, match="one host app only"):
        parse(APP | cds, APP | cds | {"id": "ehr-b", "api_key": "ehr-b-api-key-0123456789"})
