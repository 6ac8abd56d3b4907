"""Generated hostile input (hypothesis) against the BFF over real HTTP: its API and every widget form field.

Never a 5xx but Osigu's own error passed on (or Osigu out of reach), and nothing typed echoed unescaped.
Bounded for CI: the "ci" profile, a fixed seed and no shrinking (a failure reports the input it failed on,
shrinking it would cost minutes of HTTP calls). Run it longer with HYPOTHESIS_PROFILE=long (README "Security").
"""

import http.client
import json
import os
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from widget_client import FORMS, HOSTILE, Widget, Widgets, fill_in_ana_with_paracetamol

from bff.contexts import DOCUMENT_NUMBER, DOCUMENT_TYPES, DOSE_UNITS, EVERY_HOURS, ICD10_CODE, PRODUCT_CODE, UPSTREAM_ID
from bff.proxy import ROUTES

OSIGU_WEBHOOK_SECRET = "whsec_" + "b3NpZ3Utd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzLTE="  # tests/integration/bff/conftest.py
ORIGIN = "http://127.0.0.1:9001"

_BOUNDED = {"deadline": None, "phases": [Phase.explicit, Phase.generate],
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=20, derandomize=True, **_BOUNDED)  # the same inputs every run
settings.register_profile("long", max_examples=1000, **_BOUNDED)  # new inputs every run
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# A failing example may hold 60 kB of text: hypothesis warns about printing it, and it should print it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# Text HTTP can carry (no surrogates); control characters, other scripts and unicode digits included.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# What a hostile value carries; the markup of each (MARKERS) must never reach a response unescaped.
PAYLOADS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "'\"><svg/onload=alert(1)>",
            "</textarea><script>alert(1)</script>", "javascript:alert(1)", "{{7*7}}${7*7}%s%n{0}", "\x00\x1b[31m",
            "١٢٣٤", "Ｒ５１", "𝟗𝟗", "../../../sandbox/v1/messages", "%2e%2e%2f", "' OR 1=1 --"]
MARKERS = re.compile(r"<script>alert|<img src=x|<svg/onload", re.IGNORECASE)
HOSTILE_TEXT = st.one_of(
    TEXT,
    st.sampled_from(HOSTILE + PAYLOADS),
    st.builds(lambda head, payload, tail: head + payload + tail, TEXT, st.sampled_from(PAYLOADS), TEXT),
    st.builds(lambda unit, times: unit * times, st.text(min_size=1, max_size=3), st.integers(100, 20_000)),
)
NUMBERS = st.one_of(st.integers(), st.sampled_from([-1, 0, 10**400, -(10**400)]),
                    st.floats(allow_nan=True, allow_infinity=True))  # NaN and Infinity: not JSON at all
HOSTILE_VALUE = st.one_of(HOSTILE_TEXT, NUMBERS, st.none(), st.booleans(), st.just([]), st.just({}))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
NESTED = st.builds(lambda depth, leaf: json.loads("[" * depth + json.dumps(leaf) + "]" * depth),
                   st.integers(1, 31), st.one_of(st.none(), st.text(max_size=5)))  # up to the depth limit, in a body

SESSION = {"widget": "prescription", "origin": ORIGIN, "locale": "en", "timezone": "America/Bogota",
           "user": {"id": "dr-7", "name": "Dra. Ruiz", "role": "doctor"},
           "theme": {"primary_color": "#0055aa", "font_family": "Inter, sans-serif", "radius": "8px"},
           "context": {"patient": {"document_type": "CC", "document_number": "1000000001"}, "priority": "ROUTINE",
                       "department": {"id": "cardio", "name": "Cardiología"}, "diagnoses": ["R51"],
                       "medications": [{"product_code": "MED-042", "quantity": 30, "posology": {
                           "dose": 1, "unit": "tablet", "every_hours": 8, "duration_days": 10}}],
                       "repeat_of": None}}


def leaves(value, path=()):
    """The paths to every value of a JSON document (containers included), to replace one at a time."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def leaves_of(document):
    """Every string in a JSON document."""
    values = [document]
    for value in values:
        if isinstance(value, dict | list):
            values.extend(value.values() if isinstance(value, dict) else value)
        elif isinstance(value, str):
            yield value


def replaced(document, path, value):
    """A deep copy of document with the value at path replaced (the whole document for an empty path)."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return copy


SESSION_PATHS = [path for path in leaves(SESSION) if path]
CONTEXT_PATHS = [path for path in SESSION_PATHS if path[0] == "context"]
MEDICATION, POSOLOGY = ("context", "medications", 0), ("context", "medications", 0, "posology")
# Values of the right shape that Osigu has never seen (and free text), so that sessions are made and their
# steps have to show them: a context accepted at creation must not fail a step later (issue 17, item 11).
SHAPED = {
    ("user", "id"): HOSTILE_TEXT, ("user", "name"): HOSTILE_TEXT, ("user", "role"): HOSTILE_TEXT,
    ("context", "department", "id"): HOSTILE_TEXT, ("context", "department", "name"): HOSTILE_TEXT,
    ("context", "patient"): st.one_of(
        st.fixed_dictionaries({"patient_id": st.from_regex(UPSTREAM_ID, fullmatch=True)}),
        st.fixed_dictionaries({"document_type": st.sampled_from(DOCUMENT_TYPES),
                               "document_number": st.from_regex(DOCUMENT_NUMBER, fullmatch=True)})),
    ("context", "diagnoses"): st.lists(st.from_regex(ICD10_CODE, fullmatch=True), max_size=10),
    (*MEDICATION, "product_code"): st.from_regex(PRODUCT_CODE, fullmatch=True),
    (*MEDICATION, "quantity"): st.integers(1, 1000),
    (*POSOLOGY, "dose"): st.floats(0, 1000, exclude_min=True),
    (*POSOLOGY, "unit"): st.sampled_from(DOSE_UNITS),
    (*POSOLOGY, "every_hours"): st.sampled_from(EVERY_HOURS),
    (*POSOLOGY, "duration_days"): st.integers(1, 365),
    ("context", "repeat_of"): st.from_regex(UPSTREAM_ID, fullmatch=True),
}
SHAPED_SESSION = st.one_of(*(st.builds(replaced, st.just(SESSION), st.just(path), values)
                             for path, values in SHAPED.items()))


@pytest.fixture
def host_apps():
    """his-a shares the BFF's Osigu credentials; his-eu prescribes v1.1 (the consent form); pms-b has its own."""
    base = {"origins": [ORIGIN]}
    return [base | {"id": "his-a", "api_key": "his-a-api-key-0123456789"},
            base | {"id": "his-eu", "api_key": "his-eu-api-key-0123456789", "prescription_version": "v1.1"},
            base | {"id": "pms-b", "api_key": "pms-b-api-key-0123456789", "osigu_client_id": "demo-pharmacy",
                    "osigu_client_secret": "demo-pharmacy-secret"}]


@pytest.fixture
def widget(bff_url):
    """Open widget sessions for the host apps above."""
    return Widgets(bff_url)


@pytest.fixture
def bff_config():
    """Limits high enough that every generated request reaches the code under test rather than a 429."""
    return {"RATE_LIMIT_SESSIONS": "100000/minute", "RATE_LIMIT_PROXY": "100000/minute"}


@pytest.fixture
def simulator_config():
    return {"PROVIDER_PRODUCTS_RATE_LIMIT": "100000/minute"}


def post_json(url, body, **headers):
    """POST a JSON document as a host app's back end would, NaN and 10**400 included (json.dumps writes them);
    bytes are sent as they are."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(url, data=data, timeout=15, headers={"Content-Type": "application/json"} | headers)


def assert_error_shape(response):
    """Every error is the one shape: {"error_code", "message", "retryable"?, "details"?}."""
    body = response.json()
    assert isinstance(body, dict) and {"error_code", "message"} <= set(body) <= {
        "error_code", "message", "retryable", "details"}, response.text[:300]
    assert isinstance(body["error_code"], str) and isinstance(body["message"], str)


def assert_nothing_unescaped(response, value):
    """A typed value with markup in it never comes back as markup."""
    text = response.text
    assert not MARKERS.search(text), (value[:80], MARKERS.search(text).group(), text[:300])
    if isinstance(value, str) and len(value) >= 4 and ("<" in value or '"' in value):
        assert value not in text, (value[:80], text[:300])


def assert_refused_or_served(response, *allowed):
    """No 5xx; an error answer is the one error shape."""
    assert response.status_code < 500 or response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
        assert_error_shape(response)


def test_generated_session_requests_are_201_or_a_4xx_in_the_error_shape(bff_url):
    url, headers = f"{bff_url}/v1/widget-sessions", {"Authorization": "Bearer his-a-api-key-0123456789"}

    @PROFILE
    @given(st.one_of(
        SHAPED_SESSION,
        st.builds(replaced, st.just(SESSION), st.sampled_from(SESSION_PATHS), st.one_of(HOSTILE_VALUE, JSON, NESTED)),
        st.builds(lambda key, value: SESSION | {key: value}, TEXT, JSON),  # an unknown field
        JSON,  # any JSON at all
        st.binary(max_size=200),  # and what is not JSON, or not UTF-8
    ))
    def check(body):
        response = post_json(url, body, **headers)
        assert response.status_code == 201 or 400 <= response.status_code < 500, (
            response.status_code, response.text[:300])
        if response.status_code != 201:
            assert_error_shape(response)

    check()


def test_a_generated_context_is_refused_at_creation_or_every_step_serves_it(bff_url):
    """Item 11 of issue 17: a context accepted with 201 must not make the steps fail later."""
    url, headers = f"{bff_url}/v1/widget-sessions", {"Authorization": "Bearer his-a-api-key-0123456789"}

    @PROFILE
    @given(st.one_of(SHAPED_SESSION, st.builds(replaced, st.just(SESSION), st.sampled_from(CONTEXT_PATHS),
                                                st.one_of(HOSTILE_VALUE, JSON))))
    def check(body):
        response = post_json(url, body, **headers)
        assert response.status_code in (201, 422), (response.status_code, response.text[:300])
        if response.status_code == 422:
            assert_error_shape(response)
            return
        w = Widget(bff_url, response.json()["token"])
        for step in [w.get("/resume"), w.get("/diagnoses"), w.get("/medications"), w.get("/review")]:
            assert step.status_code == 200, (step.url, step.status_code, step.text[:300])
            for value in leaves_of(body):
                assert_nothing_unescaped(step, value)

    check()


def raw_request(base_url, method, target, headers, body):
    """Send a request exactly as given (requests would normalise dot segments, quote the path, trim headers)."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=15)
    try:
        connection.request(method, target, body=body, headers=headers)
        answer = connection.getresponse()
        response = requests.Response()
        response.status_code, response._content = answer.status, answer.read()
        response.headers.update(answer.getheaders())
        response.encoding = "utf-8"
        return response
    finally:
        connection.close()


def signed(body, webhook_id="msg_fuzz"):
    """Standard Webhooks headers for a body, signed now with the BFF's Osigu webhook secret."""
    now = datetime.now(UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(OSIGU_WEBHOOK_SECRET).sign(webhook_id, now, body)}


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
EVENT = st.fixed_dictionaries({"type": st.one_of(st.sampled_from(
    ["prescription.issued", "dispensing.completed", "claim.settled"]), HOSTILE_TEXT),
    "timestamp": st.one_of(st.just("2026-11-22T10:00:00Z"), HOSTILE_TEXT),
    "data": st.one_of(st.fixed_dictionaries({}, optional={
        "prescription_id": HOSTILE_VALUE, "dispensation_id": HOSTILE_VALUE, "claim_id": HOSTILE_VALUE,
        "authorization_code": HOSTILE_VALUE, "status": HOSTILE_VALUE}), JSON)})


def test_generated_webhooks_signed_or_not_are_never_a_5xx(bff_url):
    @PROFILE
    @given(st.one_of(EVENT, JSON, NESTED), st.sampled_from(["signed", "unsigned", "forged"]),
           st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=120),
           st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]), HEADER_TEXT))
    def check(payload, how, webhook_id, forged):
        body = json.dumps(payload)
        headers = {"signed": signed(body, webhook_id), "unsigned": {}, "forged": signed(body, webhook_id) | forged}
        sent = headers[how] | {"Content-Type": "application/json"}
        response = raw_request(bff_url, "POST", "/v1/webhooks/osigu",
                               {name: value.encode("latin-1") for name, value in sent.items()}, body.encode())
        assert_refused_or_served(response)
        if how == "unsigned":
            assert response.status_code == 400

    check()


# The proxy's own routes with hostile ids in them, and arbitrary paths.
SEGMENT_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20),  # raw on the line
    st.builds(lambda text: quote(text[:200], safe=""), HOSTILE_TEXT.filter(bool)),
    st.sampled_from(["..", ".", "%2e%2e", "%252e%252e", "a%3Fb", "a;b", "a%00b", "~", "-", "RX-2026-000001"]),
)


def filled(template, ids):
    """A proxy route template with its {id} and {_} replaced by the given segments, in order."""
    segments = iter(ids)
    return re.sub(r"\{(id|_)\}", lambda _: next(segments), template)


ROUTE_PATH = st.builds(filled, st.sampled_from([template for _, template, _ in ROUTES]),
                       st.lists(SEGMENT_TEXT, min_size=2, max_size=2))
ANY_PATH = st.lists(SEGMENT_TEXT, min_size=0, max_size=5).map("/".join)
# Query values cut so that a request line stays under the 64 KB the test server reads (it drops longer ones).
QUERY = st.lists(st.tuples(TEXT, HOSTILE_TEXT.map(lambda value: value[:1000])), max_size=3)
# What a proxied error may be: Osigu's own error passed on, or Osigu out of reach; never the BFF failing.
UPSTREAM_ERRORS = {"BFF-502", "BFF-504", "BFF-UPSTREAM-BODY", "BFF-OAUTH"}


def is_upstream_error(response):
    """A 502/503/504 in the error shape that is Osigu's error passed on (Osigu refusing a tenant's token is a 502:
    README "Upstream errors") or says Osigu failed; never the BFF's own BFF-500."""
    if response.status_code not in (502, 503, 504):
        return False
    assert_error_shape(response)
    code = response.json()["error_code"]
    return code in UPSTREAM_ERRORS or not code.startswith("BFF-")


def test_generated_proxy_calls_are_never_the_bffs_5xx_nor_echoed(bff_url):
    @PROFILE
    @given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), st.one_of(ROUTE_PATH, ANY_PATH),
           QUERY,
           st.sampled_from(["his-a", "pms-b"]),
           st.fixed_dictionaries({}, optional={"Idempotency-Key": HEADER_TEXT, "Accept-Language": HEADER_TEXT,
                                               "Content-Type": st.sampled_from(["application/json", "text/plain"])}),
           st.one_of(st.none(), JSON, NESTED))
    def check(method, path, query, host_app, headers, body):
        target = "/v1/osigu/" + path
        if query:
            target += "?" + "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in query)
        data = None if body is None else json.dumps(body).encode()
        response = raw_request(bff_url, method, target, {
            "Authorization": f"Bearer {host_app}-api-key-0123456789",
            **{name: value.encode("latin-1") for name, value in headers.items()}}, data)
        assert response.status_code < 500 or is_upstream_error(response), (
            method, target[:200], response.status_code, response.text[:300])
        if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
            assert_error_shape(response)
        for value in [path, *(value for _, value in query), *headers.values()]:
            assert_nothing_unescaped(response, value)

    check()


@pytest.mark.parametrize("method, url, form", FORMS, ids=[url for _, url, _ in FORMS])
def test_generated_text_in_every_field_of_every_widget_form_is_refused_or_escaped(widget, method, url, form):
    w = widget("his-eu", locale="en")
    fill_in_ana_with_paracetamol(w)

    @PROFILE
    @given(st.sampled_from(sorted(form)), HOSTILE_TEXT, st.sampled_from(["instead", "as well", "left out"]))
    def check(field, value, how):
        data = {"instead": [*(form | {field: value}).items()], "as well": [*form.items(), (field, value)],
                "left out": [item for item in form.items() if item[0] != field]}[how]
        answer = w.get(url, params=data) if method == "GET" else w.post(url, data=data)
        assert answer.status_code < 500, (url, field, value[:80], answer.text[:300])
        assert_nothing_unescaped(answer, value)

    check()
