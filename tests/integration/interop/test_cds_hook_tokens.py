"""The EHR's CDS Hooks JWT is single-use and short-lived: a replayed jti, a token without exp or one that lives
too long are refused, across every replica (the spent ids are in the database)."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from test_cds_hooks import SIGN, hook_body

from bff import retention
from bff.cds_replay import SpentToken
from bff.db import db, utcnow


def quiet_body():
    """A hook call with no Osigu sponsor in its prefetch: answered at once with no cards."""
    return hook_body("LAB-001") | {"prefetch": {}}


def test_a_replayed_token_is_refused_and_a_new_one_accepted(call_hook, ehr, bff_url, make_bff, serve_wsgi):
    url = f"{bff_url}/cds-services/{SIGN}"
    token = ehr.token(url)
    assert call_hook(SIGN, quiet_body(), token=token).json() == {"cards": []}
    replayed = call_hook(SIGN, quiet_body(), token=token)
    assert replayed.status_code == 401 and replayed.json()["error_code"] == "CDS-401"
    assert "replay" in replayed.json()["message"] and "new jti" in replayed.json()["message"]
    assert call_hook(SIGN, quiet_body(), token=ehr.token(url)).status_code == 200  # another jti
    # Another replica on the same database, behind the same name (the load balancer's), refuses it too.
    replica = serve_wsgi(make_bff())
    again = requests.post(f"{replica}/cds-services/{SIGN}", json=quiet_body(), timeout=15, headers={
        "Authorization": f"Bearer {token}", "Host": urlsplit(bff_url).netloc})
    assert again.status_code == 401 and "replay" in again.json()["message"]


def test_a_replay_is_refused_on_postgres(make_bff, postgres_database, serve_wsgi, ehr):
    url = f"{serve_wsgi(make_bff(SQLALCHEMY_DATABASE_URI=postgres_database))}/cds-services/{SIGN}"
    headers = {"Authorization": f"Bearer {ehr.token(url)}"}
    statuses = [requests.post(url, json=quiet_body(), headers=headers, timeout=15).status_code for _ in range(2)]
    assert statuses == [200, 401]


@pytest.mark.parametrize("changes", [{"expires_in": -120}, {"exp": None}, {"expires_in": 3600}, {"jti": None},
                                     {"jti": "j" * 300}, {"jti": 7}],
                         ids=["expired", "no exp", "lives an hour", "no jti", "a jti too long", "a jti not a string"])
def test_a_token_that_is_not_short_lived_and_identified_is_refused(call_hook, ehr, bff_url, changes):
    refused = call_hook(SIGN, quiet_body(), token=ehr.token(f"{bff_url}/cds-services/{SIGN}", **changes))
    assert refused.status_code == 401 and refused.json()["error_code"] == "CDS-401", refused.text


def test_a_token_of_five_minutes_from_a_clock_a_little_ahead_is_accepted(call_hook, ehr, bff_url):
    now = int(time.time())
    token = ehr.token(f"{bff_url}/cds-services/{SIGN}", iat=now + 30, exp=now + 330)
    assert call_hook(SIGN, quiet_body(), token=token).status_code == 200


def test_spent_tokens_are_forgotten_once_expired(call_hook, ehr, bff_url, bff_app):
    for _ in range(2):
        assert call_hook(SIGN, quiet_body()).status_code == 200
    with bff_app.app_context():
        [expiring, _] = db.session.scalars(db.select(SpentToken.id)).all()
        db.session.execute(db.update(SpentToken).where(SpentToken.id == expiring)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert retention.purge()["spent_cds_tokens"] == 1
        assert db.session.scalars(db.select(SpentToken.id)).all() != [expiring]
        assert db.session.scalar(db.select(db.func.count()).select_from(SpentToken)) == 1
