"""Page through a query the same way on every list endpoint."""

from .db import db
from .params import whole_number

MAX_PAGE_SIZE = 100
# Deep enough for any list the simulator holds; beyond it the offset would only grow towards overflow.
MAX_PAGE = 10_000


def paginate(select, serialise):
    """Run a select one page at a time and wrap the rows as {"data", "pagination"}."""
    page = whole_number("page", 1, MAX_PAGE)
    page_size = whole_number("page_size", 20, MAX_PAGE_SIZE)
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
    page = whole_number("page", 1, MAX_PAGE)
    page_size = whole_number("page_size", 20, MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return page_list(items[start : start + page_size], page, page_size, len(items))
