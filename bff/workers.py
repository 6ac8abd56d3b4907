"""`serve --workers N`: the BFF in N processes under gunicorn's pre-fork server, each with its threads."""

import os
import secrets

import click
from gunicorn.app.base import BaseApplication


class BffServer(BaseApplication):
    """Gunicorn configured from serve's options (no config file, no gunicorn command line of its own)."""

    def __init__(self, options, threads):
        self.options = options
        self.threads = threads
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        """Build the BFF inside each worker, after the fork: its database connections and outbox thread are its own."""
        from . import create_app
        from .cli import bound_upstream_calls
        from .logs import configure_logging

        configure_logging()
        app = create_app()
        bound_upstream_calls(app, self.threads)
        return app


def serve_with_workers(host, port, threads, workers, connection_limit, channel_timeout):
    """Check the configuration and create the schema once, then run workers × threads until SIGTERM or Ctrl+C."""
    from . import create_app
    from .config import ConfigError
    from .db import db

    # Every worker must sign and read widget sessions with one key, even the demo's throwaway one.
    if not os.environ.get("BFF_SECRET_KEY"):
        os.environ["BFF_SECRET_KEY"] = secrets.token_hex(32)
    try:
        app = create_app({"OUTBOX_WORKER": False, "RETENTION_WORKER": False})  # the workers run those
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    with app.app_context():
        db.engine.dispose()  # no connection may be shared with the forked workers
    click.echo(f"BFF listening on http://{host}:{port} with {workers} worker processes of {threads} threads   "
               f"(Osigu: {app.config['OSIGU_BASE_URL']})")
    BffServer({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "worker_connections": connection_limit,  # per process
        "keepalive": channel_timeout,  # an idle keep-alive connection is closed after this
        "proc_name": "osigu-widgets-bff",
        # X-Forwarded-* is believed by the app, from BFF_TRUSTED_PROXIES only, never by gunicorn's own defaults.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # gunicornc's socket could add or kill workers, and two BFFs on one host would share its default path.
        "control_socket_disable": True,
    }, threads).run()
