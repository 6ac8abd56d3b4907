"""`osigu-widgets simulator`: run the local Osigu on a production WSGI server."""

import atexit
import os
import shutil
import tempfile

import click
import waitress

from . import create_app, storage
from .faults import FaultRule


class FaultRuleParam(click.ParamType):
    """A --fault value: one fault rule as JSON, checked before the server starts."""

    name = "json"

    def convert(self, value, param, ctx):
        try:
            return FaultRule.model_validate_json(value).model_dump()
        except ValueError as error:
            self.fail(f"not a valid fault rule: {error}", param, ctx)


def database_url(path):
    """Map --db to a SQLAlchemy URL; ':memory:' is a throwaway file so the threaded server stays safe."""
    if path == ":memory:":
        folder = tempfile.mkdtemp(prefix="osigu-simulator-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = os.path.join(folder, "simulator.sqlite3")
    return "sqlite:///" + os.path.abspath(path)


@click.command("simulator")
@click.option("--port", default=8070, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--db", "db_path", default=None, help="SQLite file (default: the instance folder), or :memory:.")
@click.option("--reset", is_flag=True, help="Drop all data and reseed before starting.")
@click.option("--webhook-url", envvar="SIM_WEBHOOK_URL", default=None, help="Where to POST webhooks.")
@click.option("--webhook-secret", envvar="SIM_WEBHOOK_SECRET", default=None, help="whsec_... secret to sign them.")
@click.option("--fault", "faults", multiple=True, type=FaultRuleParam(),
              help='A fault rule as JSON, e.g. \'{"path_prefix": "/arc/", "error_rate": 0.2}\'. Repeatable.')
@click.option("--enable-admin", is_flag=True, help="Allow changing fault rules at runtime (PUT /sandbox/v1/faults).")
def simulator_command(port, host, db_path, reset, webhook_url, webhook_secret, faults, enable_admin):
    """Run the Osigu simulator (the local sandbox the demo and tests use)."""
    config = {"WEBHOOK_URL": webhook_url, "WEBHOOK_SECRET": webhook_secret}
    if faults:
        config["FAULTS"] = list(faults)
    if enable_admin:
        config["ADMIN_ENABLED"] = True
    if db_path:
        config["SQLALCHEMY_DATABASE_URI"] = database_url(db_path)
    try:
        app = create_app(config)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if reset:
        storage.reset(app)
    # Bind before saying so: whoever waits for this line may connect at once.
    server = waitress.create_server(app, host=host, port=port, threads=8, ident="osigu-simulator")
    base = f"http://{host}:{port}"
    click.echo(f"Osigu simulator listening on {base}")
    click.echo(f"  token endpoint  {base}/v1/oauth/token   (client demo-clinic / demo-clinic-secret)")
    click.echo(f"  API reference   {base}/openapi.json")
    click.echo(f"  sandbox outbox  {base}/sandbox/outbox")
    server.run()
