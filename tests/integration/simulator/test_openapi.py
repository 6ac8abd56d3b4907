"""The OpenAPI document describes exactly the routes the simulator serves."""

import re

import simulator


def served_operations(app):
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        operations |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def documented_operations(document):
    methods = {"GET", "POST", "PUT", "DELETE", "PATCH"}
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item
            if method.upper() in methods}


def test_every_route_is_documented_and_every_documented_route_exists(simulator_app):
    assert served_operations(simulator_app) == documented_operations(simulator.load_openapi())


def test_the_document_is_served_with_this_server_as_its_url(api, simulator_url):
    document = api().get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": simulator_url, "description": "this simulator"}]
    assert set(document["webhooks"]) == {
        "dispensing.completed", "dispensing.cancelled", "prescription.issued", "prescription.dispensed",
        "prescription.cancelled",
        "authorization.decided", "authorization.voided", "claim.created", "settlement.status_changed"}
