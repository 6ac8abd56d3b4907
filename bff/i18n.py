"""Spanish, English and Portuguese for everything a person reads: Flask-Babel, catalogs in widgets/translations."""

from pathlib import Path

from flask import g, request
from flask_babel import Babel

LOCALES = ("es", "en", "pt")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "widgets" / "translations"


def select_locale():
    """The widget session's language, else the page's (?locale=), else the browser's, else Spanish."""
    session = g.get("widget_session")
    if session is not None:
        return session.locale
    if g.get("locale") in LOCALES:
        return g.locale
    return request.accept_languages.best_match(LOCALES) or "es"


def init_i18n(app):
    """Translate templates and messages with Flask-Babel; dates and numbers follow the same locale."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "es")
    Babel(app, locale_selector=select_locale)
