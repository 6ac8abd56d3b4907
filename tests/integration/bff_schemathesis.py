"""Schemathesis against a running BFF: its OpenAPI document, and every widget form endpoint described from its routes.

Shared by tests/integration/bff/test_bff_schemathesis.py (bounded) and benchmarks/schemathesis_bff.py (long).
Requests carry real credentials (auth below), so they get past authentication to the code behind it.
"""

import collections
import json
import re
import uuid
from datetime import UTC, datetime

import schemathesis
from schemathesis.engine import Status, events
from standardwebhooks.webhooks import Webhook
from widget_client import Widgets, fill_in_ana_at_seguros_andinos, fill_in_ana_with_paracetamol, open_a_prescription

# Markup a hostile value carries: it must never come back as markup (the check below).
PAYLOADS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "'\"><svg/onload=alert(1)>",
            "</textarea><script>alert(1)</script>", "javascript:alert(1)", "{{7*7}}${7*7}", "\x00", "Ｒ５１"]
MARKERS = re.compile(r"<script>alert|<img src=x|<svg/onload", re.IGNORECASE)
BFF_TITLE = "osigu-widgets BFF"
WIDGET_TITLE = "osigu-widgets widget forms"
ORIGIN = "http://127.0.0.1:9001"

# What each widget's pages let a browser send (the name= of their fields, the query of their links), with
# values that reach past the form checks into the flow; any string, and the PAYLOADS, are sent as well.
VALID = {
    "q": ["cefalea", "paracetamol", "R51", "MED-042", "seguros"], "document_type": ["CC", "PASSPORT", "TI"],
    "document_number": ["1000000001", "1000000002"], "patient_id": ["pat_01HXE0000000000000000ANA01"],
    "first_name": ["Eva"], "last_name": ["Gil"], "date_of_birth": ["1980-01-01", "2030-02-30"],
    "email": ["ana@example.org", ""], "diagnosis_code": ["R51", "J45.9"], "description": ["Headache"],
    "product_code": ["MED-042", "MED-001", "LAB-001", "MED-999"], "quantity": ["1", "30", "0", "-1", "1e9"],
    "dose": ["1", "0.5"], "unit": ["tablet", "ml"], "every_hours": ["8", "24"], "duration_days": ["10", "400"],
    "quantity_confirmed": ["30"], "substitution_allowed": ["on"], "patient_data_consent": ["yes", "no"],
    "prescription_id": ["rx_nope"], "otp": ["123456", "000000"], "modality": ["FINGERPRINT", "FACE"],
    "reading": ["aGVsbG8="], "code": ["RX-2026-000001", "AUT-2026-000001", "rx-x"],
    "scan": ["(01)07701234567891(17)281231(10)L1", "]d2010770123456789117281231"],
    "product_code-0": ["MED-042"], "quantity-0": ["1", "30"], "batch_number-0": ["L1"], "expiry_date-0": ["2030-01-01"],
    "entry": ["dq_nope"], "medicine": ["m_nope"], "medicine_id": ["m_nope"], "reason": ["out of stock"],
    "alternative": ["ibuprofen"], "collected_by": ["Nurse"], "notes": ["3 weeks"], "patient_counseled": ["on"],
    "batch_number": ["L1"], "expiry_date": ["2030-01-01"], "substitute_note": ["same INN"],
    "priority": ["URGENT", "ROUTINE"], "department": ["icu"], "status": ["PENDING", "DISPENSED"],
    "sort": ["urgent", "oldest"], "departmentId": ["icu"], "patientId": ["pat_01HXE0000000000000000ANA01"],
    "pharmacistId": ["ph-1"], "startDate": ["2026-11-29", "yesterday"], "endDate": ["2026-11-30"], "page": ["1", "2"],
    "sponsor_slug": ["seguros-andinos", "eps-vital", "nope"], "policy_number": ["SA-10000001"],
    "card_number": ["00100000041"], "employee_number": ["EMP-00042"], "document_id": ["doc_nope"],
    "wait": ["1", "-5", "x"], "origin": [ORIGIN], "channel": ["c1"], "locale": ["en", "xx"],
}
KIT = ["q", "diagnosis_code", "description", "otp", "modality", "reading"]
FIELDS = {
    "prescription": KIT + ["document_type", "document_number", "patient_id", "first_name", "last_name",
                           "date_of_birth", "email", "product_code", "quantity", "dose", "unit", "every_hours",
                           "duration_days", "quantity_confirmed", "substitution_allowed", "patient_data_consent",
                           "prescription_id"],
    "dispensing": KIT + ["code", "scan", "product_code-0", "quantity-0", "batch_number-0", "expiry_date-0", "entry",
                         "medicine", "medicine_id", "product_code", "quantity", "reason", "alternative", "collected_by",
                         "notes", "patient_counseled", "batch_number", "expiry_date", "substitute_note", "priority",
                         "departmentId", "status", "sort", "patientId", "pharmacistId", "startDate", "endDate", "page"],
    "preauth": KIT + ["sponsor_slug", "policy_number", "document_type", "document_number", "card_number",
                      "employee_number", "date_of_birth", "product_code", "quantity", "notes", "document_id",
                      "document_type", "wait"],
}
WIDGET_STATUSES = {
    "200": "The step or fragment (a step shown again with something to fix carries X-Osigu-Status: 422).",
    "303": "The shell page's redirect.", "400": "A request the widget cannot read.",
    "401": "No, a bad or an expired session.", "403": "Another widget's session, or another page's.",
    "404": "Nothing here.", "409": "A step that is not the flow's.", "413": "A form over 8 KB.",
    "422": "A refusal.", "429": "Osigu is busy.",
}


def field_schema(name):
    """A form field: values that go deep, any string, or a payload."""
    return {"anyOf": [{"enum": VALID.get(name, ["x"])}, {"type": "string", "maxLength": 300}, {"enum": PAYLOADS}]}


def widget_forms_document(app):
    """An OpenAPI document of every /widgets/<widget>/… route of app, each with its widget's fields."""
    paths = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/widgets/"):
            continue
        widget = rule.rule.split("/")[2]
        fields = sorted(set(FIELDS.get(widget, ["origin", "channel", "locale"])))
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        item = paths.setdefault(path, {})
        if rule.arguments:
            item["parameters"] = [{"name": name, "in": "path", "required": True,
                                   "schema": {"enum": list(FIELDS)} if name == "widget" else {"type": "string"}}
                                  for name in sorted(rule.arguments)]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = {"security": [{"session": []}], "responses": {
                status: {"description": text, "content": {"*/*": {"schema": {}}}}
                for status, text in WIDGET_STATUSES.items()}}
            if method == "GET":
                operation["parameters"] = [{"name": name, "in": "query", "schema": field_schema(name)}
                                           for name in fields]
            else:
                form = {"type": "object", "properties": {name: field_schema(name) for name in fields}}
                content = {"application/x-www-form-urlencoded": {"schema": form}}
                if path.endswith("/documents"):
                    content["multipart/form-data"] = {"schema": form | {"properties": form["properties"] | {
                        "file": {"type": "string", "format": "binary"}}}}
                operation["requestBody"] = {"content": content}
            item[method.lower()] = operation
    return {"openapi": "3.1.0", "info": {"title": WIDGET_TITLE, "version": "1"}, "paths": paths,
            "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "header",
                                                           "name": "X-Osigu-Session"}}}}


def strings_sent(case):
    """Every string a generated request carried (query, path, headers, form or JSON body)."""
    pending = [case.query, case.path_parameters, case.headers, case.body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str):
            yield value


@schemathesis.check
def nothing_rendered_unescaped(ctx, response, case):
    """A generated value with markup in it never comes back as markup in a page or fragment."""
    if case.operation.schema.raw_schema.get("info", {}).get("title") not in (BFF_TITLE, WIDGET_TITLE):
        return None  # another suite's schema (the simulator's)
    if "html" not in response.headers.get("content-type", [""])[0]:
        return None
    found = MARKERS.search(response.text)
    if found:
        raise AssertionError(f"markup came back unescaped: {found.group()!r}")
    for value in strings_sent(case):
        if len(value) >= 4 and ("<" in value or '"' in value) and value in response.text:
            raise AssertionError(f"a value sent came back unescaped: {value[:80]!r}")
    return None


def describe(failure, interaction):
    """Say what failed, on which request, and what the server answered (the BFF, or the simulator's run)."""
    text = f"{failure.operation}: {failure.title}\n{failure.message}"
    if interaction is not None:
        request, response = interaction.request, interaction.response
        text += f"\n{request.method} {request.uri} {(request.body or b'')[:300]!r}"
        if response is not None:
            text += f"\n-> {response.status_code} {response.content[:300]!r}"
    return text


# Webhooks carry Osigu's signature over the body as sent (Credentials signs whatever was generated), so a request
# schemathesis means to send without it, or with headers it made invalid, is sent signed; one without the headers
# at all is a 400 (README "The BFF"), not a 401.
WEBHOOK_CHECKS = [{"include-path": "/v1/webhooks/osigu", "checks": {
    "ignored_auth": {"enabled": False}, "negative_data_rejection": {"enabled": False}}}]


def configured(document, base_url, seed, examples, phases, widgets=False):
    """A schema for document at base_url: every check, the phases asked for, no cache, one worker.

    Checks that need a valid request to be accepted are left to the widget and pharmacy tests: schemathesis
    cannot know which of the ids it makes up exist, nor which step a draft is on. A widget answers a form it
    refuses with the step shown again (200, X-Osigu-Status: 422: README "Writing a widget"), so for widgets
    "invalid data rejected with a 4xx" does not apply either.
    """
    config = schemathesis.Config.from_dict({
        "seed": seed, "workers": 1, "base-url": base_url, "cache": {"enabled": False},
        "generation": {"max-examples": examples, "database": "none"},
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
        "operations": [] if widgets else WEBHOOK_CHECKS,
        "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False},
                   "missing_required_header": {"enabled": False},
                   "negative_data_rejection": {"enabled": not widgets}},
    })
    return schemathesis.openapi.from_dict(document, config=config)


PHARMACIST = {"id": "ph-1", "name": "Marta Gil", "role": "PHARMACIST"}


def walked_sessions(bff_url, host_app="his-a"):
    """A session token per widget, each walked into the middle of its flow (queue: the pharmacist's worklist)."""
    widgets = Widgets(bff_url)
    prescription, preauth = widgets(host_app, locale="en"), widgets(host_app, locale="en", widget="preauth")
    fill_in_ana_with_paracetamol(prescription)
    fill_in_ana_at_seguros_andinos(preauth)
    counter = widgets(host_app, locale="en", widget="dispensing")
    open_a_prescription(counter)
    queue = widgets(host_app, locale="en", widget="dispensing", context={"mode": "queue"}, user=PHARMACIST)
    return {"prescription": prescription.token, "preauth": preauth.token, "dispensing": counter.token,
            "queue": queue.token}


class Credentials:
    """What each generated request carries to get past authentication: the host app's API key, the pharmacist's
    session (hospital-pharmacy API), each widget's session in mid-flow, the EHR's JWT for the request's URL
    (CDS Hooks), and Osigu's signature on the very bytes of a webhook."""

    def __init__(self, base_url, api_key, sessions, ehr, webhook_secret):
        self.base_url, self.api_key, self.sessions = base_url, api_key, sessions
        self.ehr, self.webhook_secret = ehr, webhook_secret

    def headers(self, case):
        path = case.formatted_path
        if path.startswith("/api/"):
            return {"Authorization": f"Bearer {self.sessions['queue']}"}
        if path.startswith("/widgets/"):
            widget = "queue" if path.startswith("/widgets/dispensing/queue") else path.split("/")[2]
            token = self.sessions.get(widget, self.sessions["prescription"])
            return {"X-Osigu-Session": token, "HX-Request": "true", "X-Osigu-Origin": ORIGIN}
        if path.startswith("/cds-services/"):
            return {"Authorization": f"Bearer {self.ehr.token(self.base_url + path)}"}
        if path == "/v1/webhooks/osigu":
            return self._signed(case)
        return {"Authorization": f"Bearer {self.api_key}"}

    def _signed(self, case):
        """Standard Webhooks headers over the body as it will be sent (JSON, as requests writes it)."""
        try:
            body = case.body if isinstance(case.body, bytes) else json.dumps(case.body, allow_nan=False).encode()
            text = body.decode()  # Standard Webhooks signs text
        except (TypeError, ValueError):  # UnicodeDecodeError included
            return {}  # neither JSON nor UTF-8: sent unsigned, refused as such
        case.body = body  # sent as these bytes, the ones signed
        webhook_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(self.webhook_secret).sign(webhook_id, now, text)}


def authenticate(schema, credentials):
    """Send each request with what credentials.headers(case) gives it."""

    @schema.auth()
    class Provider:
        def get(self, case, ctx):
            return credentials

        def set(self, case, data, ctx):
            case.headers = {**(case.headers or {}), **data.headers(case)}


def run(schema):
    """Run schemathesis; return (failures as readable lines, errors, requests per operation)."""
    failures, errors, requests = set(), [], collections.Counter()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            for case_id in recorder.interactions:
                requests[recorder.cases[case_id].value.operation.label] += 1
            for case_id, checks in recorder.checks.items():
                failures |= {describe(check.failure_info.failure, recorder.interactions.get(case_id))
                             for check in checks if check.status == Status.FAILURE}
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(str(getattr(event, "value", None) or getattr(event, "exception", event)))
    return sorted(failures), errors, requests
