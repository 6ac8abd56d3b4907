"""`osigu-widgets stock import FILE.csv`: load a tenant's stock count into the BFF's database."""

from pathlib import Path

import click

DEMO_STOCK = Path(__file__).with_name("demo_stock.csv")  # what `osigu-widgets demo` puts on the shelves


@click.group()
def stock():
    """The hospital pharmacy's stock, by lot."""


@stock.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--tenant", help="The Osigu client id whose stock this is (default: OSIGU_CLIENT_ID).")
def import_stock(file, tenant):
    """Set each lot's quantity from FILE (columns productCode, batchNumber, expiryDate, quantity); idempotent."""
    from .. import create_app
    from ..config import ConfigError
    from . import inventory

    try:
        app = create_app({"OUTBOX_WORKER": False, "RETENTION_WORKER": False, "REDEMPTION_RESUME_ON_START": False})
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    tenant = tenant or app.config["OSIGU_CLIENT_ID"]
    if not tenant:
        raise click.ClickException("Name the tenant: --tenant <Osigu client id> (or set OSIGU_CLIENT_ID).")
    with app.app_context():
        written, refused = inventory.import_csv(tenant, file)
    for line, why in refused:
        click.echo(f"{file.name}:{line}: {why}", err=True)
    click.echo(f"{written} lots loaded for {tenant}; {len(refused)} rows refused.")
    if refused:
        raise SystemExit(1)
