"""A webhook about an object and the binding of that object, at the same time: one callback, never none."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import g

from bff import ownership, sessions
from bff.db import OutboxMessage, db


@pytest.fixture(params=["sqlite", "postgresql"])
def bff_app(request, make_bff):
    if request.param == "postgresql":
        return make_bff(SQLALCHEMY_DATABASE_URI=request.getfixturevalue("postgres_database"))
    return make_bff()


def test_each_event_about_an_owned_object_is_one_callback_whatever_comes_first(bff_app, new_session,
                                                                                send_webhook):
    token = new_session("dispensing")
    dispensations = [f"dsp_race{number}" for number in range(24)]

    def bind(upstream_id):
        with bff_app.test_request_context():
            g.widget_session = sessions.load_session(token, "dispensing")
            ownership.bind("dispensation", upstream_id)
            db.session.commit()

    def webhook(upstream_id):
        send_webhook(f"msg_{upstream_id}", "dispensing.completed", {"dispensation_id": upstream_id})

    # Half the webhooks are sent before their binding is written, half after; all of it at once.
    calls = [(first, second, upstream_id) for number, upstream_id in enumerate(dispensations)
             for first, second in [(webhook, bind) if number % 2 else (bind, webhook)]]
    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(call, upstream_id) for first, second, upstream_id in calls
                       for call in (first, second)]:
            future.result()
    with bff_app.app_context():
        told = [message.payload["data"]["dispensation_id"] for message in db.session.scalars(db.select(OutboxMessage))]
    assert sorted(told) == sorted(dispensations)
