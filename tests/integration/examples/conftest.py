"""The example HIS served over real HTTP beside a BFF configured as the demo configures it."""

import pytest

from bff.config import DEMO_API_KEYS, DEMO_CALLBACK_SECRET, demo_host_apps
from bff.db import WidgetSession, db
from examples.his import TEXTS, create_app


@pytest.fixture
def his_app():
    return create_app({"API_KEYS": DEMO_API_KEYS, "CALLBACK_SECRET": DEMO_CALLBACK_SECRET})


@pytest.fixture
def his_url(his_app, serve_wsgi):
    return serve_wsgi(his_app)


@pytest.fixture
def host_apps(his_url):
    """The BFF configured as the demo configures it, for the HIS on its port."""
    return demo_host_apps(int(his_url.rsplit(":", 1)[1]))


@pytest.fixture
def his(his_app, his_url, bff_url):
    his_app.config["BFF_URL"] = bff_url
    return his_url


def session_made(bff_app):
    """The one widget session the BFF holds."""
    with bff_app.app_context():
        return db.session.scalars(db.select(WidgetSession)).one()


def texts_of_other_languages(page, lang):
    """(language, key) of every HIS text of another language on a page in lang, but the language switch's names."""
    return [(other, key) for other in TEXTS if other != lang for key, text in TEXTS[other].items()
            if text != TEXTS[lang][key] and key != "language_name" and text in page]
