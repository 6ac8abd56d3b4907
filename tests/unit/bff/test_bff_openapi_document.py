"""The BFF's OpenAPI document describes every route and method of its HTTP surface, and is valid OpenAPI."""

import re

import pytest
from openapi_spec_validator import validate

import bff
from bff.openapi import document
from bff.proxy import ROUTES

DESCRIBED = ("/v1/", "/api/", "/cds-services", "/healthz", "/readyz")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return bff.create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path_factory.mktemp('bff')}/bff.sqlite3",
                           "OUTBOX_WORKER": False, "RETENTION_WORKER": False, "REDEMPTION_RESUME_ON_START": False})


def template(path):
    """A path with its parameters unnamed: /api/dispensing/<prescription_id> and /api/dispensing/{id} agree."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_route_and_method_under_the_described_prefixes_is_in_the_document(app):
    described = {(template(path), method.upper()) for path, item in document()["paths"].items()
                 for method in item if method in ("get", "post", "put", "patch", "delete")}
    routes = {(template(rule.rule), method) for rule in app.url_map.iter_rules() if rule.rule.startswith(DESCRIBED)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - described == set()
    assert len(routes) > 20  # the prefixes still match the routes


def test_every_call_the_proxy_forwards_is_an_operation_of_its_own():
    paths = document()["paths"]
    for method, route, _ in ROUTES:
        assert method.lower() in paths[_find(paths, "/v1/osigu/" + route)]


def _find(paths, route):
    return next(path for path in paths if template(path) == template(route))


def test_the_document_is_valid_openapi_and_served(app):
    validate(document())
    answer = app.test_client().get("/v1/openapi.json")
    assert answer.status_code == 200 and answer.json == document()
