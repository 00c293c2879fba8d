"""Credit tables: report snapshots (the history), ratings between trading parties, gate settings and
operator overrides.

``Company.credit_score`` / ``credit_grade`` (in accounts) are the denormalised latest values; the
snapshots here are the record they come from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db


class CreditSnapshot(db.Model):
    """One computation of a company's combined credit report; the series is the history chart."""

    __tablename__ = "credit_snapshot"
    __table_args__ = (db.Index("ix_credit_snapshot_company_time", "company_id", "computed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False)
    score: Mapped[int | None] = mapped_column(SmallInteger)  # None: not yet rated
    grade: Mapped[str | None] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(String(80), nullable=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # CreditReport.to_json()
    computed_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Rating(db.Model):
    """One party's rating of the other after a settled order. One per side per order; editable 30 days."""

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("order_id", "rater_company_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), nullable=False, index=True)
    rater_company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False)
    ratee_company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    rater_role: Mapped[str] = mapped_column(String(8), nullable=False)  # buyer | seller (the rater's side)
    stars: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    rater = relationship("Company", foreign_keys=[rater_company_id])
    ratee = relationship("Company", foreign_keys=[ratee_company_id])

    def snapshot(self) -> dict[str, Any]:
        return {"stars": self.stars, "tags": list(self.tags or []), "comment": self.comment}


class GateSetting(db.Model):
    """An operator-set value for a trust gate (see ``market.credit.gates.DEFAULTS`` for the keys)."""

    __tablename__ = "credit_gate_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class CreditOverride(db.Model):
    """An operator's exception to a gate for one company, with the reason. Revoked, never deleted.

    ``kind`` ``order_limit``: orders up to ``limit_fen`` (None: no limit) are allowed whatever the level.
    ``kind`` ``payment_terms``: ``payment_terms`` is allowed whatever the grade.
    """

    __tablename__ = "credit_override"
    __table_args__ = (CheckConstraint("kind IN ('order_limit', 'payment_terms')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    limit_fen: Mapped[int | None] = mapped_column(BigInteger)
    payment_terms: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    granted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    granted_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = mapped_column(UTCDateTime())
    revoked_at = mapped_column(UTCDateTime())
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    company = relationship("Company")

    def snapshot(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "kind": self.kind, "limit_fen": self.limit_fen,
                "payment_terms": self.payment_terms, "reason": self.reason,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}
