"""The hospital pharmacy's rules that need no server: the seed's status table, CSV rows, the documented codes."""

import ast
from datetime import date
from pathlib import Path

import pytest
import yaml

from bff.pharmacy import inventory, queue

PHARMACY = Path(queue.__file__).parent


def test_the_transitions_are_exactly_seed_002s_table():
    assert queue.TRANSITIONS == {
        ("PENDING", "DISPENSING"): "start", ("PENDING", "CANCELLED"): "cancel", ("DISPENSING", "PENDING"): "return",
        ("DISPENSING", "DISPENSED"): "complete", ("DISPENSED", "COLLECTED"): "collect"}


def test_a_move_outside_the_table_is_a_bug_not_a_state():
    entry = queue.QueueEntry(id="dq_1", status="DISPENSED")
    with pytest.raises(ValueError, match="DISPENSED → PENDING"):
        queue._move(entry, "PENDING", "returned", None)


def test_every_error_code_raised_is_documented():
    raised = {node.args[1].value for path in PHARMACY.glob("*.py")
              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                  "QueueError", "StockError") and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)}
    raised |= {"INSUFFICIENT_STOCK", "EXPIRED_BATCH"}  # StockError's, whose code is its first argument
    document = yaml.safe_load((PHARMACY / "openapi.yaml").read_text(encoding="utf-8"))
    documented = set(document["components"]["responses"]["Error"]["content"]["application/json"]["schema"][
        "properties"]["code"]["enum"])
    assert raised <= documented and {"UNAUTHORIZED", "FORBIDDEN", "NOT_ASSIGNED", "ALREADY_STARTED",
                                     "PRESCRIPTION_CANCELLED", "QUANTITY_EXCEEDS_PRESCRIBED",
                                     "INCOMPLETE_DISPENSING", "ALREADY_DISPENSED", "PARTIALLY_DISPENSED"} <= raised


@pytest.mark.parametrize("row, why", [
    ({"productCode": "", "batchNumber": "L1", "expiryDate": "2030-01-01", "quantity": "1"}, "productCode"),
    ({"productCode": "MED-1", "batchNumber": "L 1", "expiryDate": "2030-01-01", "quantity": "1"}, "batchNumber"),
    ({"productCode": "MED-1", "batchNumber": "L1", "expiryDate": "2030-02-30", "quantity": "1"}, "expiryDate"),
    ({"productCode": "MED-1", "batchNumber": "L1", "expiryDate": "2030-01-01", "quantity": "1.5"}, "quantity"),
    ({"productCode": "MED-1", "batchNumber": "L1", "expiryDate": "2030-01-01"}, "quantity"),
])
def test_a_bad_csv_row_says_which_column(row, why):
    with pytest.raises(ValueError, match=why):
        inventory.parse_row(row)


def test_a_good_csv_row_is_normalised():
    assert inventory.parse_row({"productCode": " med-042 ", "batchNumber": "PCT/25.020", "expiryDate": "2028-02-29",
                                "quantity": "0"}) == ("MED-042", "PCT/25.020", date(2028, 2, 29), 0)
