"""What is for sale: categories with their spec schemas, listings and their volume price tiers."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Company
from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

QUANTITY = Numeric(18, 3)  # quantities are exact decimals with an explicit unit


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    SOLD_OUT = "sold_out"
    ARCHIVED = "archived"


class Category(db.Model):
    """A node of the category tree. ``spec_schema`` lists typed attributes (see ``catalog.specs``)."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    industry: Mapped[str] = mapped_column(String(16), nullable=False)  # coal | metallurgy | agriculture
    name_zh: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False)
    spec_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    parent: Mapped[Category | None] = relationship(remote_side="Category.id", back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.position")

    def name(self, locale: str = "zh_CN") -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh

    def ancestors(self) -> list[Category]:
        """Root first, this category last."""
        chain: list[Category] = []
        node: Category | None = self
        while node is not None and node not in chain:  # a cycle cannot happen (moves are checked), but never loop
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def effective_schema(self) -> list[dict[str, Any]]:
        """Its own spec schema, or the nearest ancestor's (主焦煤 uses 焦煤's)."""
        for node in reversed(self.ancestors()):
            if node.spec_schema:
                return node.spec_schema
        return []


class Listing(db.Model):
    """A lot offered by a seller company. Price in fen per ``unit``; stock in ``unit``."""

    __tablename__ = "listing"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), nullable=False, index=True)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(200))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, default="t")  # t | kg | piece
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    unit_price_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_order_quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=Decimal(1))
    available_quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=Decimal(0))
    origin_region_code: Mapped[str | None] = mapped_column(String(6), index=True)  # GB/T 2260 county
    delivery_terms: Mapped[str] = mapped_column(String(16), nullable=False, default="ex_works")
    delivery_place: Mapped[str | None] = mapped_column(String(200))  # rail station, city
    lead_time_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ListingStatus.DRAFT, index=True)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    published_at = mapped_column(UTCDateTime())

    category: Mapped[Category] = relationship()
    seller: Mapped[Company] = relationship(lazy="joined")
    photos: Mapped[list[ListingPhoto]] = relationship(
        back_populates="listing", order_by="ListingPhoto.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[ListingAttachment]] = relationship(
        back_populates="listing", order_by="ListingAttachment.id", cascade="all, delete-orphan"
    )
    price_tiers: Mapped[list[PriceTier]] = relationship(
        back_populates="listing", order_by="PriceTier.min_quantity", cascade="all, delete-orphan"
    )

    def unit_price_for(self, quantity: Decimal) -> int:
        """The unit price (fen) that applies to ``quantity``: the best tier whose threshold it reaches."""
        price = self.unit_price_fen
        for tier in self.price_tiers:
            if quantity >= tier.min_quantity:
                price = tier.unit_price_fen
        return price

    def title(self, locale: str = "zh_CN") -> str:
        return (self.title_en or self.title_zh) if str(locale).startswith("en") else self.title_zh

    def description(self, locale: str = "zh_CN") -> str:
        if str(locale).startswith("en"):
            return self.description_en or self.description_zh or ""
        return self.description_zh or ""

    @property
    def certificate(self) -> ListingAttachment | None:
        """The latest inspection certificate, if any."""
        certificates = [a for a in self.attachments if a.kind == "inspection_certificate"]
        return certificates[-1] if certificates else None

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit row records."""
        return {"status": self.status, "title_zh": self.title_zh, "unit_price_fen": self.unit_price_fen,
                "available_quantity": str(self.available_quantity), "specs": self.specs}


class ListingPhoto(db.Model):
    """A photo of a lot, validated by content (Pillow) and stored with a thumbnail under ``UPLOAD_DIR``."""

    __tablename__ = "listing_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False)  # relative to UPLOAD_DIR
    thumb_name: Mapped[str] = mapped_column(String(80), nullable=False)
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="photos")


class ListingAttachment(db.Model):
    """A document attached to a lot: the inspection certificate (PDF or image, checked by content)."""

    __tablename__ = "listing_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="inspection_certificate")
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False)
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="attachments")


class PriceTier(db.Model):
    """A volume price: from ``min_quantity`` up, the unit price is ``unit_price_fen``."""

    __tablename__ = "price_tier"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), nullable=False, index=True)
    min_quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)

    listing: Mapped[Listing] = relationship(back_populates="price_tiers")
