"""The provider-product registry of seed 003: what a provider stocks or performs."""

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field

from . import errors, languages
from .bodies import json_body
from .catalogs import matching_products, product_type_arg
from .db import db, isoformat, utcnow
from .models import CatalogProduct, ProviderProduct
from .oauth import current_provider, require_oauth
from .pagination import paginate

bp = Blueprint("provider_products", __name__, url_prefix="/arc/v1/providers/products")




class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_code: str = Field(min_length=1, max_length=20)


def active_registration(provider, product_code):
    """Return the provider's current registration of product_code, if there is one."""
    return db.session.scalar(
        db.select(ProviderProduct).filter_by(provider_id=provider.id, product_code=product_code, removed_at=None)
    )


def require_registered(provider, codes, error_code, field):
    """Return {code: product} for codes the provider registered, or raise a 422 naming the others."""
    registered = {
        row.product_code: row.product
        for row in db.session.scalars(db.select(ProviderProduct).where(
            ProviderProduct.provider_id == provider.id,
            ProviderProduct.product_code.in_(codes),
            ProviderProduct.removed_at.is_(None),
        ))
    }
    missing = [code for code in codes if code not in registered]
    if missing:
        raise errors.ApiError(422, error_code, "A product is not one of your registered provider products; "
                                               "register it first (POST /arc/v1/providers/products).",
                              [{"field": field, "issue": f"{code} is not registered"} for code in missing])
    return registered


def registration_json(registration):
    """Serialise a registration with the catalogue product it registers, in the request's language."""
    product = registration.product.to_json(languages.requested())
    return product | {"registered_at": isoformat(registration.registered_at)}


@bp.post("")
@require_oauth("providers:write")
def register_product():
    """Register a catalogue product against the token's provider."""
    body = json_body(Registration)
    provider = current_provider()
    if db.session.get(CatalogProduct, body.product_code) is None:
        raise errors.ApiError(
            404, errors.PRODUCT_NOT_IN_CATALOG,
            f"{body.product_code} is not in Osigu's global catalogue. Check the code, or ask support to add it.",
        )
    if active_registration(provider, body.product_code):
        raise errors.ApiError(409, errors.PRODUCT_ALREADY_REGISTERED, "Product already registered.")
    registration = ProviderProduct(provider_id=provider.id, product_code=body.product_code, registered_at=utcnow())
    db.session.add(registration)
    db.session.commit()
    return {"product_code": registration.product_code, "registered_at": isoformat(registration.registered_at)}, 201


@bp.get("")
@require_oauth("providers:read")
def list_registered_products():
    """List the provider's registered products, filtered by type and search words."""
    select = (
        db.select(ProviderProduct)
        .join(CatalogProduct)
        .where(ProviderProduct.provider_id == current_provider().id, ProviderProduct.removed_at.is_(None))
    )
    if product_type := product_type_arg():
        select = select.where(CatalogProduct.product_type == product_type)
    select = matching_products(select, request.args.get("query")).order_by(CatalogProduct.code)
    return paginate(select, registration_json)


@bp.delete("/<product_code>")
@require_oauth("providers:write")
def remove_product(product_code):
    """Stop future use of a product; past prescriptions, authorizations and claims keep it."""
    registration = active_registration(current_provider(), product_code)
    if registration is None:
        raise errors.ApiError(404, errors.PRODUCT_NOT_REGISTERED,
                              f"{product_code} is not registered for this provider.")
    registration.removed_at = utcnow()
    db.session.commit()
    return "", 204
