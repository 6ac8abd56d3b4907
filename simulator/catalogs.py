"""Medical catalogues: medications, ICD-10 diagnoses and ARC products (labs, imaging, procedures)."""

from flask import Blueprint, request

from . import diagnoses, params
from .db import db
from .models import CatalogProduct
from .models.catalog import PRODUCT_TYPES
from .oauth import require_oauth
from .pagination import page_of, paginate

bp = Blueprint("catalogs", __name__)


def product_type_arg():
    """Read and check the product_type filter, if any."""
    return params.one_of("product_type", PRODUCT_TYPES)


def matching_products(select, query):
    """Narrow a product select to rows whose code, name, INN or brand contain every word of query."""
    for word in (query or "").lower().split():
        pattern = f"%{word}%"
        select = select.where(
            db.or_(
                db.func.lower(CatalogProduct.code).like(pattern),
                db.func.lower(CatalogProduct.name).like(pattern),
                db.func.lower(CatalogProduct.inn).like(pattern),
                db.func.lower(CatalogProduct.brand).like(pattern),
            )
        )
    return select


@bp.get("/medical-catalogs/v1/medications")
@require_oauth("catalogs:read")
def list_medications():
    """Search the global medication catalogue."""
    select = db.select(CatalogProduct).where(CatalogProduct.product_type == "MEDICATION")
    select = matching_products(select, request.args.get("query")).order_by(CatalogProduct.code)
    return paginate(select, CatalogProduct.to_json)


@bp.get("/medical-catalogs/v1/diagnoses")
@require_oauth("catalogs:read")
def list_diagnoses():
    """Search the ICD-10 classification."""
    return page_of(diagnoses.search(request.args.get("query", "")))


@bp.get("/arc/v1/products")
@require_oauth("catalogs:read")
def list_products():
    """List the global ARC catalogue, optionally one product type."""
    select = db.select(CatalogProduct)
    if product_type := product_type_arg():
        select = select.where(CatalogProduct.product_type == product_type)
    select = matching_products(select, request.args.get("query")).order_by(CatalogProduct.code)
    return paginate(select, CatalogProduct.to_json)
