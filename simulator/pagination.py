"""Page through a query the same way on every list endpoint."""

from flask import request

from . import errors
from .db import db

MAX_PAGE_SIZE = 100


def _positive_int(name, default, maximum=None):
    raw = request.args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or (maximum and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise errors.ApiError(
            422, errors.VALIDATION, f"'{name}' must be a whole number of at least 1{limit}.",
            [{"field": name, "issue": f"got {raw!r}"}],
        )
    return value


def paginate(select, serialise):
    """Run a select one page at a time and wrap the rows as {"data", "pagination"}."""
    page = _positive_int("page", 1)
    page_size = _positive_int("page_size", 20, MAX_PAGE_SIZE)
    total = db.session.scalar(db.select(db.func.count()).select_from(select.order_by(None).subquery()))
    rows = db.session.scalars(select.limit(page_size).offset((page - 1) * page_size)).unique()
    return page_list([serialise(row) for row in rows], page, page_size, total)


def page_list(items, page, page_size, total):
    """Wrap one page of already-serialised items with its pagination block."""
    return {
        "data": items,
        "pagination": {
            "page": page,
            "page_size": page_size,
            "total_items": total,
            "total_pages": -(-total // page_size),
        },
    }


def page_of(items):
    """Page through an in-memory list, for catalogues that are not in the database."""
    page = _positive_int("page", 1)
    page_size = _positive_int("page_size", 20, MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return page_list(items[start : start + page_size], page, page_size, len(items))
