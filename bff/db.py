"""The BFF's database: which session owns which upstream object, received webhooks, the callback outbox."""

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, String, Text, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# Objects stay loaded after a commit: a step commits the draft, then renders it, and expiring it would
# read every row again. Sessions last one request (or one outbox round), so nothing is kept stale.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def utcnow():
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def aware(moment):
    """Give a naive datetime read back from SQLite its UTC timezone."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


# How long a writer waits for SQLite's one write lock before failing with "database is locked". Each
# transaction holds it briefly, but SQLite does not queue waiters: under load (benchmarks/load.py, 50 users,
# two `serve --workers` on one file, a busy machine) a writer waited past 5 s while others took their turn.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _tune_sqlite(dbapi_connection, _record):
    """WAL lets readers work beside the one writer; busy_timeout makes writers wait instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def init_db(app):
    """Bind the database to app, tuning its own engine (not every engine in the process) when it is SQLite."""
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)


class WidgetSession(db.Model):
    """What a widget session may do, for whom, on which page; the token only names it and proves it."""

    __tablename__ = "bff_widget_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host_app_id: Mapped[str] = mapped_column(String(100), index=True)
    widget: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(300))
    locale: Mapped[str] = mapped_column(String(5))
    user: Mapped[dict] = mapped_column(JSON)
    context: Mapped[dict] = mapped_column(JSON)
    theme: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # the purge reads by it
    # The doctor's piece of work (a draft) this session carries on; a renewal or a resume passes it on.
    flow_id: Mapped[str] = mapped_column(String(64), index=True)
    renewed_to: Mapped[str | None] = mapped_column(String(64))  # the session that took this one's work over
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name the host gave for its user


class SessionObject(db.Model):
    """An upstream object (prescription, dispensation, pre-authorization...) and the host app that owns it.

    session_id names the widget session that created it; None when the host app created it through the proxy.
    Kept as long as the object matters: it is the proof of ownership (see bff/retention.py).
    """

    __tablename__ = "bff_session_object"
    __table_args__ = (UniqueConstraint("kind", "upstream_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    host_app_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    upstream_id: Mapped[str] = mapped_column(String(100), index=True)  # a webhook names objects by id alone
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookEvent(db.Model):
    """An Osigu webhook, stored once: its webhook-id is the idempotency key."""

    __tablename__ = "bff_webhook_event"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class WebhookObject(db.Model):
    """An upstream object a stored webhook is about: a binding written later finds the events it missed."""

    __tablename__ = "bff_webhook_object"
    upstream_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class OutboxMessage(db.Model):
    """A callback owed to a host app; written in the same transaction as the change it reports."""

    __tablename__ = "bff_outbox"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the webhook-id the host dedupes on
    host_app_id: Mapped[str] = mapped_column(String(100), index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="PENDING", index=True)  # PENDING|DELIVERED|FAILED
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
