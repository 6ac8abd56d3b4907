"""Create, seed and reset the simulator's database."""

import hashlib
import logging

from sqlalchemy import MetaData

from .db import db
from .models import Provider
from .seed import seed
from .webhooks import set_default_endpoint

log = logging.getLogger(__name__)
FINGERPRINT_TABLE = "sandbox_schema"


def schema_fingerprint():
    """Hash every table and column this version defines, so a database from another version is noticed."""
    parts = sorted(f"{table.name}.{column.name}:{column.type}" for table in db.metadata.sorted_tables
                   for column in table.columns)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _stored_fingerprint():
    with db.engine.connect() as connection:
        if not db.inspect(connection).has_table(FINGERPRINT_TABLE):
            return None
        return connection.execute(db.text(f"SELECT fingerprint FROM {FINGERPRINT_TABLE}")).scalar()


def _drop_everything():
    """Drop every table there is, including ones an older version had and this one does not."""
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


def prepare(app):
    """Create the schema, seed it on first start, and apply the configured webhook endpoint.

    The sandbox's data is disposable: a database written by another version is dropped and
    reseeded (with a log line) rather than half-working with missing columns.
    """
    with app.app_context():
        fingerprint = schema_fingerprint()
        stored = _stored_fingerprint()
        if stored != fingerprint and db.inspect(db.engine).get_table_names():
            log.warning("the simulator database is from another version; starting it again from the seed")
            _drop_everything()
        db.create_all()
        with db.engine.begin() as connection:
            connection.execute(db.text(f"CREATE TABLE IF NOT EXISTS {FINGERPRINT_TABLE} (fingerprint VARCHAR(16))"))
            connection.execute(db.text(f"DELETE FROM {FINGERPRINT_TABLE}"))
            connection.execute(db.text(f"INSERT INTO {FINGERPRINT_TABLE} VALUES (:f)"), {"f": fingerprint})
        if db.session.scalar(db.select(Provider.id).limit(1)) is None:
            seed()
        if app.config["WEBHOOK_URL"]:
            set_default_endpoint(app.config["WEBHOOK_URL"], app.config["WEBHOOK_SECRET"])


def reset(app):
    """Throw away every change and start again from the seed."""
    with app.app_context():
        db.session.remove()
        _drop_everything()
    prepare(app)
