"""Create, seed and reset the simulator's database."""

from .db import db
from .models import Provider
from .seed import seed
from .webhooks import set_default_endpoint


def prepare(app):
    """Create the schema, seed it on first start, and apply the configured webhook endpoint."""
    with app.app_context():
        db.create_all()
        if db.session.scalar(db.select(Provider.id).limit(1)) is None:
            seed()
        if app.config["WEBHOOK_URL"]:
            set_default_endpoint(app.config["WEBHOOK_URL"], app.config["WEBHOOK_SECRET"])


def reset(app):
    """Throw away every change and start again from the seed."""
    with app.app_context():
        db.session.remove()
        db.drop_all()
    prepare(app)
