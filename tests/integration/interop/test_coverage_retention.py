"""Coverage assertions are purged after BFF_RETENTION_DAYS, except one an open preauth session still names."""

from datetime import timedelta

import pytest
import requests

from bff import retention
from bff.coverage import CoverageAssertion
from bff.db import WidgetSession, db, utcnow

OLD = timedelta(days=31)  # just past the default retention of 30 days


@pytest.fixture(params=["sqlite", "postgres"])
def bff_app(request, make_bff):
    """The BFF on SQLite and on PostgreSQL: the purge reads the sessions' JSON contexts."""
    if request.param == "sqlite":
        return make_bff()
    return make_bff(SQLALCHEMY_DATABASE_URI=request.getfixturevalue("postgres_database"))


def assert_coverage(bff_url):
    checked = requests.post(f"{bff_url}/v1/coverage-check", timeout=15,
                            headers={"Authorization": "Bearer ehr-a-api-key-0123456789"},
                            json={"sponsor": "seguros-andinos", "products": [{"product_code": "LAB-001"}]})
    assert checked.status_code == 200, checked.text
    return checked.json()["coverage_assertion_id"]


def stored(bff_app):
    with bff_app.app_context():
        return set(db.session.scalars(db.select(CoverageAssertion.id)))


def test_old_assertions_go_unless_a_live_preauth_session_names_them(bff_app, bff_url, widget):
    old, in_use, in_ended_session, recent = (assert_coverage(bff_url) for _ in range(4))
    widget(host_app="ehr-a", widget="preauth", locale="en", context={"coverage_assertion_id": in_use})
    widget(host_app="ehr-a", widget="preauth", locale="en", context={"coverage_assertion_id": in_ended_session})
    with bff_app.app_context():
        db.session.execute(db.update(CoverageAssertion).where(CoverageAssertion.id.in_(
            [old, in_use, in_ended_session])).values(created_at=utcnow() - OLD))
        db.session.execute(db.update(WidgetSession).where(
            WidgetSession.context["coverage_assertion_id"].as_string() == in_ended_session)
            .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert retention.purge()["coverage_assertions"] == 2
    assert stored(bff_app) == {in_use, recent}
