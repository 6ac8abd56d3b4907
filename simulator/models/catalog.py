"""Osigu's global product catalogue and each provider's registered products."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow
from ..languages import LANGUAGES, pick, words

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
    # Medications: the pack's GS1 GTIN-14, what a DataMatrix on the box carries in (01).
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    # Labs, imaging and procedures: the specialty or body system, for grouping in a UI.
    category: Mapped[str | None] = mapped_column(String(80))
    # Medications: {"es": {"inn", "form", "presentation"}, "pt": {...}}; English is in the columns above.
    translations: Mapped[dict | None] = mapped_column(JSON)
    # "|"-separated fields (code, names, INNs, brand) in every language, lower-case, unaccented, for search.
    search_text: Mapped[str] = mapped_column(Text, default="")

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

    def localized(self, field, language):
        """A medication's inn, form or presentation in language (pt falls back to es, then en)."""
        texts = {each: parts.get(field) for each, parts in (self.translations or {}).items()}
        return pick(texts | {"en": getattr(self, field)}, language)

    def display_name(self, language="en"):
        """The product's name in language: brand or INN, strength and form for a medication."""
        if self.product_type != "MEDICATION":
            return self.name
        inn = self.localized("inn", language)
        return " ".join(filter(None, [self.brand or inn[:1].upper() + inn[1:], self.strength,
                                      self.localized("form", language)]))

    def index_for_search(self):
        """Fill search_text with the code, brand, INNs and names in every language (each field starts with |)."""
        inns = [self.localized("inn", language) for language in LANGUAGES] if self.inn else []
        fields = [self.code, self.brand, *inns, *(self.display_name(language) for language in LANGUAGES)]
        self.search_text = "".join("|" + " ".join(words(field)) for field in dict.fromkeys(filter(None, fields)))

    def to_json(self, language="en"):
        """Serialise the product as the catalogue endpoints return it, its words in language."""
        body = {"product_code": self.code, "product_type": self.product_type, "name": self.display_name(language)}
        if self.product_type == "MEDICATION":
            body |= {
                "inn": self.inn,
                "strength": self.strength,
                "form": self.localized("form", language),
                "form_code": self.form,
                "presentation": self.localized("presentation", language),
                "presentation_code": self.presentation,
                "brand": self.brand,
                "atc_code": self.atc_code,
                "controlled": self.controlled,
                "gtin": self.gtin,
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
