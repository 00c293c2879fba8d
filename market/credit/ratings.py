"""Ratings between trading parties: after settlement each side rates the other once (1–5 stars, tags,
comment), and may edit that rating for 30 days. Ratings feed the internal score and show on profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market.core.audit import record
from market.core.errors import Conflict, NotFound, ValidationFailed
from market.core.tenancy import get_owned
from market.core.timeutil import utcnow
from market.credit.models import Rating
from market.credit.report import N_
from market.credit.scoring import average_stars
from market.extensions import db
from market.orders.models import TradeOrder

EDIT_WINDOW = timedelta(days=30)
MAX_TAGS = 5
MAX_COMMENT = 1000
TAGS: dict[str, str] = {
    "on_time": N_("On time"),
    "as_described": N_("Goods as described"),
    "paid_promptly": N_("Paid promptly"),
    "good_communication": N_("Good communication"),
    "complete_documents": N_("Complete documents"),
    "late": N_("Late"),
    "quality_issue": N_("Quality issue"),
    "slow_payment": N_("Slow payment"),
    "poor_communication": N_("Poor communication"),
}


@dataclass(frozen=True)
class RatingInput:
    """Validated rating fields."""

    stars: int
    tags: tuple[str, ...]
    comment: str | None


def parse_rating(stars: Any, tags: Any, comment: Any) -> RatingInput:
    """Validate raw form/JSON values; every problem is reported by field (HTTP 422)."""
    errors: dict[str, str] = {}
    parsed_stars = 0
    try:
        parsed_stars = int(str(stars).strip())
        if isinstance(stars, float | bool) or not 1 <= parsed_stars <= 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["stars"] = N_("Choose 1 to 5 stars.")
    if tags is None:
        tags = []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = N_("Unknown tag.")
        tags = []
    unique_tags = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if any(t not in TAGS for t in unique_tags):
        errors["tags"] = N_("Unknown tag.")
    elif len(unique_tags) > MAX_TAGS:
        errors["tags"] = N_("Choose at most 5 tags.")
    text = (comment or "").strip() if isinstance(comment, str | type(None)) else None
    if text is None:
        errors["comment"] = N_("The comment must be text.")
    elif len(text) > MAX_COMMENT:
        errors["comment"] = N_("The comment can be at most 1000 characters.")
    if errors:
        raise ValidationFailed("Please check the rating.", field_errors=errors)
    return RatingInput(parsed_stars, unique_tags, text or None)


def rateable_order(order_id: Any, company_id: int | None) -> TradeOrder:
    """The settled order ``company_id`` may rate; another company's order is a 404."""
    order = get_owned(TradeOrder, order_id, company_id, "buyer_id", "seller_id")
    if order.settled_at is None:
        raise Conflict("You can rate the other party once the order is settled.")
    return order


def my_rating(order_id: int, company_id: int) -> Rating | None:
    return db.session.scalars(
        select(Rating).where(Rating.order_id == order_id, Rating.rater_company_id == company_id)
    ).first()


def submit_rating(order_id: Any, rater_company_id: int | None, data: RatingInput, *,
                  user_id: int | None = None, now: datetime | None = None) -> Rating:
    """Rate the other party of a settled order. A second rating by the same side is a 409."""
    from market.credit.events import request_recompute

    order = rateable_order(order_id, rater_company_id)
    if my_rating(order.id, rater_company_id) is not None:
        raise Conflict("You have already rated this order. You can edit your rating instead.")
    as_buyer = order.buyer_id == rater_company_id
    now = now or utcnow()
    rating = Rating(order_id=order.id, rater_company_id=rater_company_id,
                    ratee_company_id=order.seller_id if as_buyer else order.buyer_id,
                    rater_role="buyer" if as_buyer else "seller", stars=data.stars, tags=list(data.tags),
                    comment=data.comment, created_by_user_id=user_id, created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():  # a concurrent duplicate hits the unique constraint
            db.session.add(rating)
    except IntegrityError:
        raise Conflict("You have already rated this order. You can edit your rating instead.") from None
    record("rating.created", "rating", rating.id, actor_company_id=rater_company_id, after=rating.snapshot())
    request_recompute(rating.ratee_company_id)
    return rating


def edit_rating(order_id: Any, rater_company_id: int | None, data: RatingInput, *,
                now: datetime | None = None) -> Rating:
    """Change one's own rating of an order within 30 days of giving it."""
    from market.credit.events import request_recompute

    order = rateable_order(order_id, rater_company_id)
    rating = my_rating(order.id, rater_company_id)
    if rating is None:
        raise NotFound("You have not rated this order yet.")
    now = now or utcnow()
    if not editable(rating, now):
        raise Conflict("A rating can only be changed within 30 days of giving it.")
    before = rating.snapshot()
    rating.stars, rating.tags, rating.comment, rating.updated_at = data.stars, list(data.tags), data.comment, now
    db.session.flush()
    record("rating.edited", "rating", rating.id, actor_company_id=rater_company_id, before=before,
           after=rating.snapshot())
    request_recompute(rating.ratee_company_id)
    return rating


def editable(rating: Rating, now: datetime | None = None) -> bool:
    return (now or utcnow()) <= rating.created_at + EDIT_WINDOW


def received_filter(company_id: int, as_of: datetime | None = None) -> tuple[Any, ...]:
    """THE set of ratings that count for a company (as of a moment): the profile summary and the credit
    score's factor read the same rows, so their counts and averages agree."""
    return (Rating.ratee_company_id == company_id, Rating.created_at <= (as_of or utcnow()))


def stars_received(company_id: int, as_of: datetime | None = None) -> tuple[int, ...]:
    """The stars of every rating that counts, oldest first (the credit score's input)."""
    return tuple(db.session.scalars(select(Rating.stars).where(*received_filter(company_id, as_of))
                                    .order_by(Rating.id)))


def ratings_summary(company_id: int, as_of: datetime | None = None) -> dict[str, Any]:
    """Counts for a profile: total, average, how many of each star, most used tags (as of ``as_of``)."""
    rows = db.session.execute(
        select(Rating.stars, func.count(Rating.id)).where(*received_filter(company_id, as_of))
        .group_by(Rating.stars)
    ).all()
    by_stars = dict.fromkeys(range(5, 0, -1), 0)
    for stars, count in rows:
        by_stars[int(stars)] = int(count)
    count = sum(by_stars.values())
    tag_counts: dict[str, int] = {}
    for tags in db.session.scalars(select(Rating.tags).where(*received_filter(company_id, as_of))):
        for tag in tags or ():
            tag_counts[tag] = tag_counts.get(tag, 0) + 1
    top_tags = sorted(tag_counts.items(), key=lambda item: (-item[1], item[0]))[:6]
    average = average_stars(s for s, n in by_stars.items() for _ in range(n))
    return {"count": count, "average": average, "by_stars": by_stars, "tags": top_tags}


def ratings_received(company_id: int, *, page: int = 1, per_page: int = 20) -> tuple[list[Rating], int]:
    """One page of ratings a company received, newest first, and the total count."""
    page = max(1, page)
    base = select(Rating).where(Rating.ratee_company_id == company_id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(base.order_by(Rating.created_at.desc(), Rating.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), int(total)


def orders_awaiting_rating(company_id: int, *, limit: int = 10) -> list[TradeOrder]:
    """Settled orders of ``company_id`` it has not rated yet, newest first."""
    rated = select(Rating.order_id).where(Rating.rater_company_id == company_id)
    return list(db.session.scalars(
        select(TradeOrder)
        .where((TradeOrder.buyer_id == company_id) | (TradeOrder.seller_id == company_id),
               TradeOrder.settled_at.is_not(None), TradeOrder.id.not_in(rated))
        .order_by(TradeOrder.settled_at.desc()).limit(limit)
    ))
