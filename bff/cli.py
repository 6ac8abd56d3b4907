"""The `osigu-widgets` command line."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points

import click
import requests
import waitress

from .config import DEMO_API_KEYS, DEMO_CALLBACK_SECRET, DEMO_EHR_PORT, LOCAL_DEFAULTS, demo_host_apps, origin_ok
from .pharmacy.stock_cli import DEMO_STOCK, stock
from .products_cli import products

COMMAND_GROUP = "osigu_widgets.commands"
READY_TIMEOUT_SECONDS = 30


class PluginGroup(click.Group):
    """A group that also offers the commands other installed parts contribute (the simulator's).

    They are loaded only when named, so the BFF never imports the simulator.
    """

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | {ep.name for ep in entry_points(group=COMMAND_GROUP)})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None:
            found = entry_points(group=COMMAND_GROUP, name=name)
            command = next(iter(found)).load() if found else None
        return command


@click.group(cls=PluginGroup)
def main():
    """Embed Osigu's pre-authorizations, e-prescriptions and dispensing in your own pages."""


def wait_until_ready(process, url):
    """Poll url until it answers 200, failing fast if the process died."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"{url} exited with status {process.returncode} before it was ready.")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise click.ClickException(f"{url} did not become ready within {READY_TIMEOUT_SECONDS} s.")


def bound_upstream_calls(app, threads):
    """Keep calls to Osigu in flight two below the thread count, so /healthz always finds a thread;
    with several tenants, one gets two thirds of those at most, leaving room for the others."""
    config = app.config
    tenants = {host_app.osigu_client_id or config["OSIGU_CLIENT_ID"] for host_app in config["HOST_APPS"]}
    share = 2 / 3 if len(tenants) > 1 else 1
    config["UPSTREAM_CONCURRENCY"] = max(1, threads - 2)
    config["UPSTREAM_CONCURRENCY_PER_TENANT"] = max(1, int(config["UPSTREAM_CONCURRENCY"] * share))


def make_server(app, host, port, threads=8, connection_limit=500, channel_timeout=30):
    """A waitress server for the BFF that idle connections and a slow Osigu cannot take offline.

    Idle connections are closed after channel_timeout seconds; past connection_limit, new ones wait in
    the listen backlog. Calls to Osigu in flight are bounded by the thread count (bound_upstream_calls).
    """
    bound_upstream_calls(app, threads)
    return waitress.create_server(
        app, host=host, port=port, threads=threads, ident="osigu-widgets-bff",
        connection_limit=connection_limit, channel_timeout=channel_timeout,
        cleanup_interval=max(1, min(channel_timeout, 5)), asyncore_use_poll=True,  # poll: past 1024 sockets
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
    )


@main.command()
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes; more than 1 runs them under gunicorn (Unix), each with --threads threads.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--threads", default=8, show_default=True, help="Worker threads.")
@click.option("--connection-limit", default=500, show_default=True,
              help="Open connections at most; more wait in the listen backlog.")
@click.option("--channel-timeout", default=30, show_default=True, help="Seconds before an idle connection is closed.")
def serve(workers, port, host, threads, connection_limit, channel_timeout):
    """Run the BFF on a production WSGI server (waitress), configured from the environment."""
    if workers > 1:
        from .workers import serve_with_workers

        return serve_with_workers(host, port, threads, workers, connection_limit, channel_timeout)
    from . import create_app
    from .config import ConfigError
    from .logs import configure_logging

    try:
        app = create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging()
    server = make_server(app, host, port, threads, connection_limit, channel_timeout)
    click.echo(f"BFF listening on http://{host}:{port}   (Osigu: {app.config['OSIGU_BASE_URL']})")
    server.run()


def require_free_ports(**ports):
    """Refuse to start when a port is taken: another demo's servers would answer our readiness checks."""
    for option, port in ports.items():
        with socket.socket() as probe:
            # As the servers bind: a port another server listens on is refused, one in TIME_WAIT is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise click.ClickException(f"Port {port} is in use (another demo still running?): stop it, or "
                                           f"pass --{option.replace('_', '-')} with a free port.") from None


def start(module, command, ready_url, log_path, env=None):
    """Start one of the demo's servers (python -m module command) as a child, logging to log_path; wait for it."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", module, *command], stdout=log, stderr=log,
                                   env=None if env is None else os.environ | env)
    try:
        wait_until_ready(process, ready_url)
    except click.ClickException as error:
        process.kill()
        raise click.ClickException(f"{error.message} See {log_path}.") from None
    return process


def _check_origins(_ctx, _param, values):
    """Refuse anything but an exact origin (scheme, host, optional port) before any server starts."""
    for value in values:
        if not origin_ok(value):
            raise click.BadParameter(f"{value!r} is not an origin: write scheme and host (and port), no path, "
                                     "e.g. http://localhost:3000.")
    return tuple(values)


@main.command()
@click.option("--simulator-port", default=8070, show_default=True)
@click.option("--bff-port", default=8080, show_default=True)
@click.option("--host-port", default=8090, show_default=True, help="Port of the example host app (a small HIS).")
@click.option("--ehr-port", default=DEMO_EHR_PORT, show_default=True,
              help="Port of the example EHR (launches the widgets with SMART on FHIR).")
@click.option("--allow-origin", "allowed_origins", multiple=True, callback=_check_origins, metavar="URL",
              help="Also let pages on this origin (e.g. http://localhost:3000) embed the widgets with the demo "
                   "host apps' keys. Repeatable.")
def demo(simulator_port, bff_port, host_port, ehr_port, allowed_origins):
    """Start the simulator, the BFF and the example host app, wired together, and print where to go."""
    simulator_url, bff_url = f"http://127.0.0.1:{simulator_port}", f"http://127.0.0.1:{bff_port}"
    # The host page is opened on localhost, the BFF on 127.0.0.1: two origins, as in production.
    host_url = f"http://localhost:{host_port}"
    # A service manager stops us with SIGTERM: exit normally so the children are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ehr_url = f"http://localhost:{ehr_port}"
    require_free_ports(simulator_port=simulator_port, bff_port=bff_port, host_port=host_port, ehr_port=ehr_port)
    children = []
    logs = tempfile.mkdtemp(prefix="osigu-demo-logs-")
    try:
        children.append(start("bff.cli", ["simulator", "--port", str(simulator_port),
                                           "--webhook-url", f"{bff_url}/v1/webhooks/osigu",
                                           "--webhook-secret", LOCAL_DEFAULTS["OSIGU_WEBHOOK_SECRET"]],
                              f"{simulator_url}/healthz", os.path.join(logs, "simulator.log")))
        bff_env = {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url,
                   "BFF_HOST_APPS": json.dumps(demo_host_apps(host_port, allowed_origins, ehr_port))}
        # The hospital pharmacy's shelves: a stock count (idempotent, so every start restores it).
        subprocess.run([sys.executable, "-m", "bff.cli", "stock", "import", str(DEMO_STOCK)], check=True,
                       env=os.environ | bff_env, stdout=subprocess.DEVNULL)
        children.append(start("bff.cli", ["serve", "--port", str(bff_port)], f"{bff_url}/healthz",
                              os.path.join(logs, "bff.log"), env=bff_env))
        children.append(start("examples.his", ["--port", str(host_port)], f"{host_url}/",
                              os.path.join(logs, "host-app.log"),
                              env={"HIS_BFF_URL": bff_url, "HIS_API_KEYS": json.dumps(DEMO_API_KEYS),
                                   "HIS_CALLBACK_SECRET": DEMO_CALLBACK_SECRET}))
        children.append(start("examples.ehr", ["--port", str(ehr_port)], f"{ehr_url}/",
                              os.path.join(logs, "ehr.log"),
                              env={"EHR_BFF_URL": bff_url,  # demo-ehr authenticates with private_key_jwt
                                   "EHR_CLIENT_JWKS_URL": f"{bff_url}/smart/demo-ehr/jwks.json"}))
        click.echo(f"Open {host_url} and issue a prescription (the example HIS, with the widget in it).")
        click.echo(f"Or open {ehr_url}, an EHR that launches the widgets with SMART on FHIR.")
        if allowed_origins:
            click.echo(f"Pages on {', '.join(allowed_origins)} may embed the widgets too (demo host app keys).")
        click.echo("")
        click.echo(f"Osigu simulator:  {simulator_url}   (API reference {simulator_url}/openapi.json)")
        click.echo(f"Sandbox outbox:   {simulator_url}/sandbox/outbox   (OTP codes and e-mails land here)")
        click.echo(f"BFF:              {bff_url}   (demo host app API key: demo-his-api-key)")
        click.echo("Demo clients:     demo-clinic, demo-pharmacy, demo-hospital (secret: <client>-secret)")
        click.echo(f"Logs:             {logs}")
        click.echo("Press Ctrl+C to stop.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        raise click.ClickException(f"A demo server stopped on its own; its log is in {logs}.")
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait()


@main.command()
@click.option("--days", type=click.IntRange(1, 3650), help="Keep this many days instead of BFF_RETENTION_DAYS.")
def purge(days):
    """Delete what the retention no longer keeps now (serve also does it hourly), and say how much."""
    from . import create_app, retention
    from .config import ConfigError

    try:
        app = create_app({"OUTBOX_WORKER": False, "RETENTION_WORKER": False})
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    with app.app_context():
        deleted = retention.purge(days)
    kept = days or app.config["RETENTION_DAYS"]
    expired = "".join(f", {count} expired {name}" for name, count in deleted.items()
                      if name not in ("sessions", "callbacks", "webhooks", "coverage_assertions", "spent_cds_tokens"))
    click.echo(f"Purged what is older than {kept} days: {deleted['sessions']} widget sessions, "
               f"{deleted['callbacks']} callbacks, {deleted['webhooks']} webhooks, "
               f"{deleted['coverage_assertions']} coverage assertions{expired} (ownership records are kept).")

main.add_command(products)
main.add_command(stock)

if __name__ == "__main__":
    main()
