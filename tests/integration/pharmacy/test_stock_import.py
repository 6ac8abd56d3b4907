"""`osigu-widgets stock import FILE.csv`: the real command, in its own process, on the BFF's database."""

import subprocess
import sys

import pytest

import bff
from bff.db import db
from bff.pharmacy import Lot
from bff.pharmacy.stock_cli import DEMO_STOCK


@pytest.fixture
def import_stock(tmp_path):
    database = f"sqlite:///{tmp_path / 'bff.sqlite3'}"

    def run(*args):
        env = {"OSIGU_ENV": "local", "BFF_DATABASE_URL": database, "PATH": "/usr/bin:/bin"}
        return subprocess.run([sys.executable, "-m", "bff.cli", "stock", "import", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    def lots(tenant="demo-hospital"):
        app = bff.create_app({"environ": {"OSIGU_ENV": "local"}, "SQLALCHEMY_DATABASE_URI": database,
                              "OUTBOX_WORKER": False, "RETENTION_WORKER": False, "REDEMPTION_RESUME_ON_START": False})
        with app.app_context():
            found = sorted((lot.product_code, lot.batch_number, lot.expiry_date.isoformat(), lot.quantity)
                           for lot in db.session.scalars(db.select(Lot).filter_by(tenant=tenant)))
            db.engine.dispose()
        return found

    run.lots = lots
    return run


def test_good_rows_load_bad_ones_are_named_and_importing_again_changes_nothing(import_stock, tmp_path):
    count = tmp_path / "count.csv"
    count.write_text("productCode,batchNumber,expiryDate,quantity\n"
                     "med-042,L1,2030-01-31,10\n"
                     "MED-042,L2,2030-06-30,5\n"
                     "MED-042,bad batch,2030-01-31,5\n"
                     "MED-050,B1,31/01/2030,5\n"
                     "MED-050,B2,2030-01-31,-3\n"
                     "MED-042,L1,2030-01-31,7\n", encoding="utf-8")
    for _ in range(2):
        result = import_stock(str(count))
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"{count}:4: batchNumber 'bad batch' is not a batch number (1 to 40 letters, digits, . _ / -)",
            f"{count}:5: expiryDate '31/01/2030' is not a date like 2027-03-31",
            f"{count}:6: quantity '-3' is not a whole number from 0 to 1000000",
            f"{count}:7: lot MED-042 L1 is also on line 2"]
        assert "2 lots loaded for demo-hospital; 4 rows refused." in result.stdout
        assert import_stock.lots() == [("MED-042", "L1", "2030-01-31", 10), ("MED-042", "L2", "2030-06-30", 5)]


def test_a_new_count_replaces_quantities_and_a_tenant_can_be_named(import_stock, tmp_path):
    count = tmp_path / "count.csv"
    count.write_text("productCode,batchNumber,expiryDate,quantity\nMED-042,L1,2030-01-31,10\n", encoding="utf-8")
    assert import_stock(str(count)).returncode == 0
    count.write_text("quantity,expiryDate,batchNumber,productCode\n3,2030-01-31,L1,MED-042\n", encoding="utf-8")
    assert import_stock(str(count), "--tenant", "demo-pharmacy").returncode == 0
    assert import_stock(str(count)).returncode == 0
    assert import_stock.lots() == [("MED-042", "L1", "2030-01-31", 3)]
    assert import_stock.lots("demo-pharmacy") == [("MED-042", "L1", "2030-01-31", 3)]


def test_a_file_without_the_four_columns_is_refused_whole(import_stock, tmp_path):
    count = tmp_path / "count.csv"
    count.write_text("product,lot,quantity\nMED-042,L1,3\n", encoding="utf-8")
    result = import_stock(str(count))
    assert result.returncode == 1 and "the header lacks productCode, batchNumber, expiryDate" in result.stderr
    assert import_stock.lots() == []


def test_the_demos_stock_loads_whole(import_stock):
    result = import_stock(str(DEMO_STOCK))
    assert result.returncode == 0, result.stderr
    lots = import_stock.lots()
    assert len(lots) == len(DEMO_STOCK.read_text().splitlines()) - 1
    assert ("MED-042", "PCT-25020", "2028-02-29", 1200) in lots
