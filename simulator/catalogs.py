"""Medical catalogues: medications, ICD-10 diagnoses and ARC products (labs, imaging, procedures)."""

from flask import Blueprint, request

from . import diagnoses, languages, params
from .db import db
from .languages import words
from .models import CatalogProduct
from .models.catalog import PRODUCT_TYPES
from .oauth import require_oauth
from .pagination import page_of, paginate

bp = Blueprint("catalogs", __name__)


def product_type_arg():
    """Read and check the product_type filter, if any."""
    return params.one_of("product_type", PRODUCT_TYPES)


def matching_products(select, query):
    """Narrow a product select to rows where every word of query starts a word of the code, a name, an INN (in
    any language) or the brand, accents ignored; products where a field starts with the whole query come first."""
    wanted = words(query or "")
    for word in wanted:
        select = select.where(db.or_(CatalogProduct.search_text.like(f"% {word}%"),
                                     CatalogProduct.search_text.like(f"%|{word}%")))
    if wanted:
        phrase = " ".join(wanted)
        select = select.order_by(db.case((CatalogProduct.search_text.like(f"%|{phrase}%"), 0), else_=1))
    return select


def localized_json(language):
    """Serialise products with their words in language."""
    return lambda product: product.to_json(language)


@bp.get("/medical-catalogs/v1/medications")
@require_oauth("catalogs:read")
def list_medications():
    """Search the global medication catalogue."""
    select = db.select(CatalogProduct).where(CatalogProduct.product_type == "MEDICATION")
    select = matching_products(select, request.args.get("query")).order_by(CatalogProduct.code)
    return paginate(select, localized_json(languages.requested()))


@bp.get("/medical-catalogs/v1/diagnoses")
@require_oauth("catalogs:read")
def list_diagnoses():
    """Search the ICD-10 classification."""
    return page_of(diagnoses.search(request.args.get("query", ""), languages.requested()))


@bp.get("/arc/v1/products")
@require_oauth("catalogs:read")
def list_products():
    """List the global ARC catalogue, optionally one product type."""
    select = db.select(CatalogProduct)
    if product_type := product_type_arg():
        select = select.where(CatalogProduct.product_type == product_type)
    select = matching_products(select, request.args.get("query")).order_by(CatalogProduct.code)
    return paginate(select, localized_json(languages.requested()))
