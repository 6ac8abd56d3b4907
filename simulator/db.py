"""The simulator's database handle and the helpers every model shares."""

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase
from ulid import ULID


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def utcnow():
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id(prefix):
    """Make a sortable public id such as ``rx_01HXF...``."""
    return f"{prefix}_{ULID()}"


def isoformat(moment):
    """Format a timestamp the way the API returns them: ISO 8601 in UTC with a Z."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def aware(moment):
    """Give a naive datetime read back from SQLite its UTC timezone."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _tune_sqlite(dbapi_connection, _record):
    """Let SQLite serve the threaded server: WAL for readers beside a writer, and wait for locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_db(app):
    """Bind the database to app, tuning its own engine (not every engine in the process) when it is SQLite."""
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)
