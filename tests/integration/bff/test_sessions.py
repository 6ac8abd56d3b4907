"""Widget sessions: created server to server, refused clearly, bound to their own objects."""

import time

import pytest
from flask import Blueprint, g
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bff import ownership, sessions
from bff.db import WidgetSession, db, utcnow
from widgets.session import protect

VALID = {"widget": "dispensing", "origin": "http://127.0.0.1:9001", "locale": "en",
         "user": {"id": "ph-1", "name": "Farm. Gil", "role": "pharmacist"}}


def test_create_returns_token_expiry_and_widget(host):
    response = host.post("/v1/widget-sessions", json=VALID | {"context": {"code": "RX-2026-123456"},
                                                              "theme": {"primary_color": "#0055aa"}})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "widget"} and body["widget"] == "dispensing"
    assert body["expires_at"].endswith("Z")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key-0123456789", "Basic his-a-api-key-0123456789"])
def test_a_bad_api_key_is_401(host, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    if not authorization:
        host.headers.pop("Authorization")
    response = host.post("/v1/widget-sessions", json=VALID, headers=headers)
    assert response.status_code == 401 and response.json()["error_code"] == "BFF-401"


@pytest.mark.parametrize("change, field", [
    ({"origin": "http://localhost:9002"}, "origin"),  # pms-b's origin, not his-a's
    ({"origin": "http://127.0.0.1:9001/page"}, "origin"),
    ({"widget": "claims"}, "widget"),
    ({"locale": "fr"}, "locale"),
    ({"user": {"id": "x"}}, "user.name"),
    ({"theme": {"primary_color": "red; background: url(//evil)"}}, "theme.primary_color"),
    ({"theme": {"css": "body{}"}}, "theme.css"),
    ({"context": {"notes": "x" * 5000}}, "context"),
])
def test_refusals_are_422_naming_the_field(host, change, field):
    response = host.post("/v1/widget-sessions", json=VALID | change)
    assert response.status_code == 422
    assert field in [detail["field"] for detail in response.json()["details"]]


def test_a_malformed_body_is_422(host):
    response = host.post("/v1/widget-sessions", data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_the_session_endpoint_is_not_open_to_browsers(host):
    preflight = host.options("/v1/widget-sessions", headers={"Origin": "http://127.0.0.1:9001",
                                                              "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.fixture
def bff_app(make_bff):
    """A BFF with a stand-in widget, guarded as the widgets are."""
    app = make_bff()
    probe = Blueprint("probe", __name__)

    protect(probe, "prescription")

    @probe.post("/probe/objects/<upstream_id>")
    def create(upstream_id):
        ownership.bind("prescription", upstream_id)
        db.session.commit()
        return {"owner": g.widget_session.id}, 201

    @probe.get("/probe/objects/<upstream_id>")
    def read(upstream_id):
        ownership.require_own("prescription", upstream_id)
        return {"upstream_id": upstream_id}

    app.register_blueprint(probe)
    return app


def probe(host, token, upstream_id, method="get"):
    headers = {sessions.HEADER: token, "HX-Request": "true", "X-Osigu-Origin": "http://127.0.0.1:9001"}
    return getattr(host, method)(f"/probe/objects/{upstream_id}", headers=headers)


def test_a_session_reaches_only_its_own_objects(host, new_session):
    mine, theirs = new_session(), new_session()
    assert probe(host, mine, "rx_1", "post").status_code == 201
    assert probe(host, mine, "rx_1").status_code == 200
    assert probe(host, theirs, "rx_1").status_code == 404
    taken = probe(host, theirs, "rx_1", "post")
    assert taken.status_code == 409


def test_a_session_is_for_one_widget(host, new_session):
    response = probe(host, new_session("dispensing"), "rx_1")
    assert response.status_code == 403 and response.json()["error_code"] == "SESSION_WRONG_WIDGET"


def test_a_missing_or_tampered_token_is_401(host, new_session):
    missing = host.post("/probe/objects/rx_1")
    assert missing.status_code == 401 and missing.json()["error_code"] == "SESSION_MISSING"
    token = new_session()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = probe(host, tampered, "rx_1")
    assert response.status_code == 401 and response.json()["error_code"] == "SESSION_INVALID"


def test_a_token_signed_with_another_key_is_401(host):
    forged = URLSafeTimedSerializer("not-the-key", salt="osigu-widget-session").dumps(
        {"sid": "x", "app": "his-a", "widget": "prescription"})
    assert probe(host, forged, "rx_1").json()["error_code"] == "SESSION_INVALID"


def test_an_old_token_is_expired(host, bff_app, new_session):
    token = new_session()
    claims = URLSafeTimedSerializer("test-key", salt="osigu-widget-session").loads(token)

    class LongAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - bff_app.config["SESSION_MAX_SECONDS"] - 5

    old = URLSafeTimedSerializer("test-key", salt="osigu-widget-session", signer=LongAgo).dumps(claims)
    response = probe(host, old, "rx_1")
    assert response.status_code == 401 and response.json()["error_code"] == "SESSION_EXPIRED"


def test_a_session_past_its_expiry_is_expired(host, bff_app, new_session):
    token = new_session()
    with bff_app.app_context():
        db.session.execute(db.update(WidgetSession).values(expires_at=utcnow()))
        db.session.commit()
    assert probe(host, token, "rx_1").json()["error_code"] == "SESSION_EXPIRED"
