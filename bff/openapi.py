"""The OpenAPI document of the BFF's own HTTP surface, served at GET /v1/openapi.json.

bff/openapi.yaml describes the BFF's routes; the hospital-pharmacy API keeps its own document
(bff/pharmacy/openapi.yaml, also served alone), merged in here; the proxy's calls are one operation each,
made from the table the proxy itself obeys (ROUTES), so the document cannot drift from it.
"""

import copy
import functools
import re
from pathlib import Path

import yaml
from flask import Blueprint

from . import proxy
from .pharmacy import api as pharmacy_api

bp = Blueprint("openapi", __name__)
DOCUMENT = Path(__file__).with_name("openapi.yaml")
SHARED_OPERATIONS = ("x-proxied-operation", "x-pharmacy-not-found")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@bp.get("/v1/openapi.json")
def openapi_document():
    """This document (public: it holds no data)."""
    return document()


@functools.cache
def document():
    """The BFF's document with the pharmacy API's paths and components and the proxy's calls merged in."""
    found = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    pharmacy = yaml.safe_load(pharmacy_api.OPENAPI.read_text(encoding="utf-8"))
    for section, items in pharmacy["components"].items():
        mine = found["components"].setdefault(section, {})
        clashes = set(mine) & set(items)
        if clashes:
            raise ValueError(f"bff/openapi.yaml and the pharmacy document both define components.{section}: {clashes}")
        mine.update(items)
    for path, item in pharmacy["paths"].items():
        # The pharmacy document's default security (its session) written on each of its operations.
        found["paths"][path] = {key: {"security": pharmacy["security"]} | value if key in METHODS else value
                                for key, value in item.items()}
    found["paths"].update(_proxied_calls(found["components"]["x-proxied-operation"]))
    shared = {name: found["components"].pop(name) for name in SHARED_OPERATIONS}
    for item in found["paths"].values():
        for method, operation in item.items():
            if method in METHODS and "$ref" in operation:
                item[method] = copy.deepcopy(shared[operation["$ref"].rsplit("/", 1)[1]])
    return found


def _proxied_calls(operation):
    """One operation per call in proxy.ROUTES, its ids and codes as path parameters of Osigu's shape."""
    paths = {}
    for method, template, _rule in proxy.ROUTES:
        path = "/v1/osigu/" + template.replace("{_}", "{ref}")
        names = re.findall(r"\{(\w+)\}", path)
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": f"^{proxy.SEGMENT.pattern}$", "maxLength": 100}}
                      for name in names]
        paths.setdefault(path, {"parameters": parameters} if parameters else {})[method.lower()] = \
            copy.deepcopy(operation) | {"summary": f"{method} /{template} at Osigu"}
    return paths
