"""Stock by lot, per tenant: what is on hand, first-expiry-first-out suggestions, taking units, CSV import."""

import csv
import re
from datetime import date

from ..db import db, utcnow
from .models import Lot

COLUMNS = ("productCode", "batchNumber", "expiryDate", "quantity")
PRODUCT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$")
BATCH_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
MAX_QUANTITY = 1_000_000


class StockError(Exception):
    """Units that cannot be taken: `code` is the seed's (INSUFFICIENT_STOCK, EXPIRED_BATCH, NOT_FOUND)."""

    def __init__(self, code, details):
        super().__init__(code)
        self.code, self.details = code, details


def lot_json(lot, today=None):
    """A lot as GET /api/inventory lists it."""
    return {"productCode": lot.product_code, "batchNumber": lot.batch_number,
            "expiryDate": lot.expiry_date.isoformat(), "quantity": lot.quantity,
            "expired": lot.expiry_date < (today or date.today())}


def usable_lots(tenant, product_code):
    """The product's unexpired lots with units left, first to expire first (a lot is good through its expiry day)."""
    return db.session.scalars(db.select(Lot).where(
        Lot.tenant == tenant, Lot.product_code == product_code, Lot.quantity > 0, Lot.expiry_date >= date.today(),
    ).order_by(Lot.expiry_date, Lot.batch_number)).all()


def available(tenant, product_code):
    """Units of the product that may be dispensed now."""
    return sum(lot.quantity for lot in usable_lots(tenant, product_code))


def suggest(tenant, product_code, quantity):
    """First-expiry-first-out: the lots to take quantity units from, and how many from each."""
    suggestions = []
    for lot in usable_lots(tenant, product_code):
        if quantity <= 0:
            break
        take = min(quantity, lot.quantity)
        suggestions.append({"batchNumber": lot.batch_number, "expiryDate": lot.expiry_date.isoformat(),
                            "quantity": take, "available": lot.quantity})
        quantity -= take
    return suggestions


def take(tenant, product_code, quantity, batch_number=None):
    """Take units off the shelves in the caller's transaction; return [{batchNumber, expiryDate, quantity}].

    From the named batch, or else first-expiry-first-out across lots. Each decrement is conditional
    (`quantity >= n` in the UPDATE itself), so two dispenses of a lot's last units cannot both succeed,
    whatever the database. Raises StockError; the caller rolls back what it took before.
    """
    if batch_number is not None:
        lot = db.session.scalar(db.select(Lot).filter_by(tenant=tenant, product_code=product_code,
                                                         batch_number=batch_number))
        if lot is None:
            raise StockError("INSUFFICIENT_STOCK", {"productCode": product_code, "batchNumber": batch_number,
                                                    "available": 0})
        if lot.expiry_date < date.today():
            raise StockError("EXPIRED_BATCH", {"productCode": product_code, "batchNumber": batch_number,
                                               "expiryDate": lot.expiry_date.isoformat()})
        plan = [(lot, quantity)]
    else:
        plan = [(db.session.get(Lot, _lot_id(tenant, product_code, item["batchNumber"])), item["quantity"])
                for item in suggest(tenant, product_code, quantity)]
        if sum(units for _, units in plan) < quantity:
            raise StockError("INSUFFICIENT_STOCK", {"productCode": product_code,
                                                    "available": available(tenant, product_code)})
    taken = []
    for lot, units in plan:
        changed = db.session.execute(db.update(Lot).where(Lot.id == lot.id, Lot.quantity >= units).values(
            quantity=Lot.quantity - units, updated_at=utcnow())).rowcount
        if changed != 1:
            left = db.session.scalar(db.select(Lot.quantity).where(Lot.id == lot.id))
            raise StockError("INSUFFICIENT_STOCK", {"productCode": product_code, "batchNumber": lot.batch_number,
                                                    "available": left})
        taken.append({"batchNumber": lot.batch_number, "expiryDate": lot.expiry_date.isoformat(),
                      "quantity": units})
    return taken


def _lot_id(tenant, product_code, batch_number):
    return db.session.scalar(db.select(Lot.id).filter_by(tenant=tenant, product_code=product_code,
                                                         batch_number=batch_number))


def page(tenant, page_number, limit, product_code=None):
    """One page of the tenant's lots (by product, then expiry) and how many there are in all."""
    query = db.select(Lot).where(Lot.tenant == tenant)
    if product_code:
        query = query.where(Lot.product_code == product_code)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    lots = db.session.scalars(query.order_by(Lot.product_code, Lot.expiry_date, Lot.batch_number)
                              .offset((page_number - 1) * limit).limit(limit)).all()
    return lots, total


def parse_row(row):
    """Check one CSV row; return (product_code, batch_number, expiry_date, quantity) or raise ValueError(why)."""
    product_code, batch_number = (row.get("productCode") or "").strip(), (row.get("batchNumber") or "").strip()
    if not PRODUCT_CODE.match(product_code):
        raise ValueError(f"productCode {product_code!r} is not a product code (letters, digits, - or _)")
    if not BATCH_NUMBER.match(batch_number):
        raise ValueError(f"batchNumber {batch_number!r} is not a batch number (1 to 40 letters, digits, . _ / -)")
    try:
        expiry = date.fromisoformat((row.get("expiryDate") or "").strip())
    except ValueError:
        raise ValueError(f"expiryDate {row.get('expiryDate')!r} is not a date like 2027-03-31") from None
    raw = (row.get("quantity") or "").strip()
    if not raw.isdigit() or int(raw) > MAX_QUANTITY:
        raise ValueError(f"quantity {raw!r} is not a whole number from 0 to {MAX_QUANTITY}")
    return product_code.upper(), batch_number, expiry, int(raw)


def import_csv(tenant, stream):
    """Load a stock count: each row sets its lot's quantity (so importing twice changes nothing).

    Returns (lots written, [(line number, why)] for rows refused); good rows are kept either way.
    """
    reader = csv.DictReader(stream)
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        return 0, [(1, f"the header lacks {', '.join(missing)} (it must name {', '.join(COLUMNS)})")]
    written, refused, seen = 0, [], {}
    for row in reader:
        try:
            product_code, batch_number, expiry, quantity = parse_row(row)
            earlier = seen.get((product_code, batch_number))
            if earlier:
                raise ValueError(f"lot {product_code} {batch_number} is also on line {earlier}")
        except ValueError as why:
            refused.append((reader.line_num, str(why)))
            continue
        seen[product_code, batch_number] = reader.line_num
        lot = db.session.scalar(db.select(Lot).filter_by(tenant=tenant, product_code=product_code,
                                                         batch_number=batch_number))
        if lot is None:
            db.session.add(Lot(tenant=tenant, product_code=product_code, batch_number=batch_number,
                               expiry_date=expiry, quantity=quantity))
        else:
            lot.expiry_date, lot.quantity, lot.updated_at = expiry, quantity, utcnow()
        written += 1
    db.session.commit()
    return written, refused
