"""The `osigu-widgets` command line."""

import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points

import click
import requests

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


@main.command()
@click.option("--simulator-port", default=8070, show_default=True)
def demo(simulator_port):
    """Start the local Osigu simulator (and, as they land, the BFF and example host) and print where to go."""
    base = f"http://127.0.0.1:{simulator_port}"
    # A service manager stops us with SIGTERM: exit normally so the children are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    simulator = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", str(simulator_port)], stdout=subprocess.DEVNULL
    )
    try:
        wait_until_ready(simulator, f"{base}/healthz")
        click.echo(f"Osigu simulator:  {base}   (API reference {base}/openapi.json)")
        click.echo(f"Sandbox outbox:   {base}/sandbox/outbox   (OTP codes and e-mails land here)")
        click.echo("Demo clients:     demo-clinic, demo-pharmacy, demo-hospital (secret: <client>-secret)")
        click.echo("Press Ctrl+C to stop.")
        simulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.terminate()
        simulator.wait()


if __name__ == "__main__":
    main()
