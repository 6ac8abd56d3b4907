"""`osigu-widgets products sync FILE`: bulk provider-product onboarding from the command line."""

import collections
import time
from pathlib import Path

import click
from rich.console import Console

from . import config as settings
from .host_apps import osigu_credentials
from .products_report import Report, progress, summary_table
from .products_sync import (
    Journal,
    Registrar,
    Result,
    SyncError,
    check_catalogue,
    parse_rate,
    read_codes,
    registered_codes,
    remove,
    run_concurrently,
)
from .rate_limit import RateLimiter
from .upstream import UpstreamClient, UpstreamError

SHOWN_BAD_ROWS = 20
INTERRUPTED = 130  # the shell's code for a run stopped by Ctrl-C
FAILURES = ("unknown", "failed", "malformed")


@click.group()
def products():
    """Your provider's products: what it stocks or performs (seed 003)."""


def upstream_from_environment(host_app_id):
    """The Osigu client for one tenant, configured from the environment exactly as `serve` is."""
    try:
        config = settings.from_environment()
    except settings.ConfigError as error:
        raise click.ClickException(str(error)) from None
    host_app = None
    if host_app_id:
        host_app = next((app for app in config["HOST_APPS"] if app.id == host_app_id), None)
        if host_app is None:
            raise click.ClickException(f"No host app {host_app_id!r} in BFF_HOST_APPS.")
    client_id, secret = osigu_credentials(host_app, config)
    if not client_id:
        raise click.ClickException("No Osigu credentials: set OSIGU_CLIENT_ID and OSIGU_CLIENT_SECRET, or pass "
                                   "--host-app with the id of a host app that has its own.")
    return UpstreamClient(config["OSIGU_BASE_URL"], client_id, secret), client_id


def say(console, text):
    """Print text that may hold user input, so nothing in it is read as markup."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@products.command("sync")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host-app", "host_app_id", metavar="ID", help="Act with this host app's own Osigu credentials "
              "(BFF_HOST_APPS); default: OSIGU_CLIENT_ID/OSIGU_CLIENT_SECRET.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 10),
              help="Requests in flight at once (Osigu suggests 5-10).")
@click.option("--rate", default="50", show_default=True,
              help="Requests a minute to keep within, or a limit such as '50 per 3 seconds'.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a CSV: line, product_code, outcome, status, error_code, message.")
@click.option("--journal", type=click.Path(dir_okay=False, path_type=Path),
              help="Where the run records its progress.  [default: FILE.journal]")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its journal; "
              "nothing that succeeded is sent again.")
@click.option("--dry-run", is_flag=True, help="Check the file and Osigu's catalogue; register nothing.")
@click.option("--prune", is_flag=True, help="Also remove registered products that are not in FILE "
              "(Osigu keeps their history).")
@click.option("--yes", is_flag=True, help="Prune without asking for confirmation.")
def sync(file, host_app_id, concurrency, rate, report, journal, resume, dry_run, prune, yes):
    """Register every product code in FILE for your provider, within Osigu's rate limit.

    FILE is a CSV with a product_code column, or one code per line. The exit status is 0 only when
    every code ended registered or already registered.
    """
    try:
        limiter = RateLimiter(*parse_rate(rate))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--rate") from None
    client, client_id = upstream_from_environment(host_app_id)
    console = Console()
    found = read_codes(file)
    for bad in found.bad_rows[:SHOWN_BAD_ROWS]:
        say(console, f"line {bad.line}: {bad.product_code!r}: {bad.message}")
    if len(found.bad_rows) > SHOWN_BAD_ROWS:
        say(console, f"... and {len(found.bad_rows) - SHOWN_BAD_ROWS} more malformed rows (see --report).")
    if prune and found.bad_rows:
        raise click.ClickException("--prune needs a file without malformed rows: a product on a bad row "
                                   "would be removed. Fix the rows above first.")
    try:
        client.access_token()  # refused credentials fail here, once, not once per code
    except UpstreamError as error:
        raise click.ClickException(error.message) from None

    outcomes, started, rate_limited = Outcomes(report), time.monotonic(), 0
    try:
        for bad in found.bad_rows:
            outcomes(bad)
        if dry_run:
            for result in check_catalogue(client, limiter, found.rows):
                outcomes(result)
            finished = True
        else:
            finished, rate_limited = register_all(console, client, client_id, limiter, found.rows,
                                                  journal or Path(f"{file}.journal"), resume, concurrency, outcomes)
        if prune and finished:
            finished = prune_others(console, client, limiter, found.rows, concurrency, dry_run, yes, outcomes)
    except (SyncError, UpstreamError) as error:  # refused credentials, another tenant's journal, Osigu down
        raise click.ClickException(str(error)) from None
    finally:
        outcomes.close()

    console.print(summary_table(outcomes.counts))
    say(console, f"{len(found.rows)} distinct codes ({found.duplicates} duplicates ignored) in "
                 f"{time.monotonic() - started:.1f} s; {rate_limited} answers of 429, waited out and resent.")
    if not finished:
        say(console, "Interrupted: run the same command with --resume to continue.")
        raise SystemExit(INTERRUPTED)
    raise SystemExit(1 if any(outcomes.counts[outcome] for outcome in FAILURES) else 0)


class Outcomes:
    """Counts every result and writes it to the --report CSV."""

    def __init__(self, report_path):
        self.counts, self._report = collections.Counter(), Report(report_path)

    def __call__(self, result):
        self.counts[result.outcome] += 1
        self._report.write(result)

    def close(self):
        self._report.close()


def register_all(console, client, client_id, limiter, rows, journal_path, resume, concurrency, outcomes):
    """Register the codes an earlier run did not; return (finished, 429 answers met)."""
    journal = Journal(journal_path, {"base_url": client.base_url, "client_id": client_id}, resume)
    try:
        todo = []
        for row in rows:
            if earlier := journal.done.get(row.code):
                outcomes(Result(row.line, row.code, earlier.outcome, earlier.status, earlier.error_code,
                                "done by an earlier run"))
            else:
                todo.append(row)
        if journal.resumed:
            say(console, f"Resuming from {journal_path}: {len(rows) - len(todo)} codes done by an earlier run "
                         "are not sent again.")
        registrar = Registrar(client, limiter, journal)
        with progress(console, len(todo), "Registering") as advance:
            finished = run_concurrently(registrar.register, todo, concurrency, limiter,
                                        lambda result: (outcomes(result), advance()))
        return finished, registrar.rate_limited
    finally:
        journal.close()


def prune_others(console, client, limiter, rows, concurrency, dry_run, yes, outcomes):
    """Remove (or, in a dry run, list) the registered products FILE does not name; False if interrupted."""
    others = sorted(registered_codes(client, limiter) - {row.code for row in rows})
    if not others:
        say(console, "Every registered product is in the file: nothing to prune.")
        return True
    more = " ..." if len(others) > SHOWN_BAD_ROWS else ""
    say(console, f"{len(others)} registered products are not in the file: {', '.join(others[:SHOWN_BAD_ROWS])}{more}")
    if dry_run:
        for code in others:
            outcomes(Result(None, code, "would_remove"))
        return True
    if not yes and not click.confirm(f"Remove these {len(others)} products from your provider? "
                                     "Osigu keeps the history of what used them.", default=False):
        say(console, "Nothing removed.")
        return True
    with progress(console, len(others), "Removing") as advance:
        return run_concurrently(lambda code: remove(client, limiter, code), others, concurrency, limiter,
                                lambda result: (outcomes(result), advance()))
