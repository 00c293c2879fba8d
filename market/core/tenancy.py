"""One helper for tenant scoping: another company's object is a 404, never a 403 that confirms it exists."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import or_, select

from market.core.errors import NotFound
from market.extensions import db

T = TypeVar("T")


def get_owned(model: type[T], obj_id: Any, company_id: int | None, *owner_columns: str) -> T:
    """Load ``model`` by id, but only if one of ``owner_columns`` (default ``company_id``) is ``company_id``.

    For objects with two parties (an order has a buyer and a seller) name both columns.
    """
    try:
        key = int(obj_id)
    except (TypeError, ValueError):
        raise NotFound("Not found") from None
    columns = owner_columns or ("company_id",)
    if company_id is None:
        raise NotFound("Not found")
    stmt = select(model).where(
        model.id == key,  # type: ignore[attr-defined]
        or_(*(getattr(model, c) == company_id for c in columns)),
    )
    obj = db.session.scalars(stmt).first()
    if obj is None:
        raise NotFound("Not found")
    return obj
