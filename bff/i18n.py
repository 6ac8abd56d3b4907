"""Spanish, English and Portuguese for everything a person reads: Flask-Babel, catalogs in widgets/translations."""

import zoneinfo
from pathlib import Path

from babel.dates import get_timezone_name
from flask import g, request
from flask_babel import Babel, format_datetime, format_time, get_locale, get_timezone

LOCALES = ("es", "en", "pt")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "widgets" / "translations"
TIMEZONE_HEADER = "X-Osigu-Timezone"  # the browser's own zone, sent by widget.js


def select_locale():
    """The widget session's language, else the page's (?locale=), else the browser's, else Spanish."""
    session = g.get("widget_session")
    if session is not None:
        return session.locale
    if g.get("locale") in LOCALES:
        return g.locale
    return request.accept_languages.best_match(LOCALES) or "es"


def valid_timezone(name):
    """Whether name is an IANA time zone this machine knows (zoneinfo refuses path-like keys)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def select_timezone():
    """The zone the host gave for its user, else the browser's, else UTC (which the widgets then label)."""
    session = g.get("widget_session")
    if session is not None and session.timezone:
        return zoneinfo.ZoneInfo(session.timezone)
    browser = request.headers.get(TIMEZONE_HEADER)
    return zoneinfo.ZoneInfo(browser if valid_timezone(browser) else "UTC")


def init_i18n(app):
    """Translate templates and messages with Flask-Babel; dates, times and numbers follow the same locale and zone."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "es")
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)


def local_time(moment, width="medium", time_only=False):
    """A moment in the user's time zone, labelled with that zone's name (never a bare UTC time)."""
    text = (format_time if time_only else format_datetime)(moment, width)
    zone = get_timezone()
    name = "UTC" if str(zone) in ("UTC", "Etc/UTC") else get_timezone_name(zone, "long", locale=get_locale())
    return f"{text} ({name})"
