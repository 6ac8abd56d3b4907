"""Osigu's global product catalogue and each provider's registered products."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow

PRODUCT_TYPES = ("MEDICATION", "LAB", "IMAGING", "PROCEDURE")


class CatalogProduct(db.Model):
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    product_type: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(300))
    # Medications only: what makes two products equivalent for substitution.
    inn: Mapped[str | None] = mapped_column(String(120), index=True)
    strength: Mapped[str | None] = mapped_column(String(60))
    form: Mapped[str | None] = mapped_column(String(60))
    presentation: Mapped[str | None] = mapped_column(String(120))
    brand: Mapped[str | None] = mapped_column(String(80))
    atc_code: Mapped[str | None] = mapped_column(String(10))
    controlled: Mapped[bool] = mapped_column(default=False)
    # Labs, imaging and procedures: the specialty or body system, for grouping in a UI.
    category: Mapped[str | None] = mapped_column(String(80))

    def is_equivalent_to(self, other):
        """Tell whether a pharmacy may hand this instead of other: same INN, strength and form."""
        return (
            self.product_type == other.product_type == "MEDICATION"
            and (self.inn, self.strength, self.form) == (other.inn, other.strength, other.form)
        )

    def has_same_active_ingredient(self, other):
        """Tell whether this is the same INN and strength in another form or presentation."""
        return (
            self.product_type == other.product_type == "MEDICATION"
            and (self.inn, self.strength) == (other.inn, other.strength)
        )

    def to_json(self):
        """Serialise the product as the catalogue endpoints return it."""
        body = {"product_code": self.code, "product_type": self.product_type, "name": self.name}
        if self.product_type == "MEDICATION":
            body |= {
                "inn": self.inn,
                "strength": self.strength,
                "form": self.form,
                "presentation": self.presentation,
                "brand": self.brand,
                "atc_code": self.atc_code,
                "controlled": self.controlled,
            }
        else:
            body["category"] = self.category
        return body


class ProviderProduct(db.Model):
    """A registration of a catalogue code by a provider; removal is soft so history keeps it."""

    __table_args__ = (
        Index(
            "uq_active_provider_product",
            "provider_id",
            "product_code",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    provider = relationship("Provider")
    product_code: Mapped[str] = mapped_column(ForeignKey("catalog_product.code"))
    product: Mapped[CatalogProduct] = relationship(lazy="joined")
    registered_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
