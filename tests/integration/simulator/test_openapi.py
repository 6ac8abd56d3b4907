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


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                yield method.upper(), path, operation


def statuses_it_can_answer(document, path, operation):
    """The statuses the simulator's shared machinery gives an operation, whatever its own logic adds."""
    parameters = operation.get("parameters", [])
    refs = {parameter.get("$ref", "").rsplit("/", 1)[-1] for parameter in parameters}
    query = [parameter for parameter in parameters if parameter.get("in") == "query"]
    statuses = set()
    if "IdempotencyKey" in refs:
        statuses |= {"400", "409", "422"}  # key out of bounds; same key still running; same key, other request
    # A signed link answers 403 for any id it was not signed for, so it never tells which ids exist.
    if "{" in path and not any(parameter["name"] == "signature" for parameter in query):
        statuses.add("404")
    if operation.get("security", document["security"]):
        statuses.add("401")
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        statuses.add("422")
    constraints = {"enum", "const", "pattern", "minimum", "maximum", "format", "$ref"}
    if refs & {"Page", "PageSize"} or any(constraints & set(parameter["schema"]) for parameter in query):
        statuses.add("422")
    return statuses


def test_every_operation_documents_the_statuses_the_shared_machinery_can_answer():
    document = simulator.load_openapi()
    missing = {f"{method} {path}": sorted(statuses_it_can_answer(document, path, operation)
                                          - set(operation["responses"]))
               for method, path, operation in operations(document)}
    assert {operation: codes for operation, codes in missing.items() if codes} == {}


def test_every_documented_error_has_the_one_error_shape():
    document = simulator.load_openapi()
    shapes = {"#/components/responses/Error", "#/components/responses/RateLimited", "#/components/responses/OAuthError"}
    odd = {f"{method} {path} {status}" for method, path, operation in operations(document)
           for status, response in operation["responses"].items()
           if status.startswith(("4", "5")) and response.get("$ref") not in shapes}
    assert odd == set()
