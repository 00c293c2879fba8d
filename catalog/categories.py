"""The category tree: reading it, and the operator's edits (add, rename, move, spec schema).

Edits that change what a listing's search document says (names, place in the tree, schema) enqueue
``search.reindex_category`` so the index follows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from catalog.models import Category
from catalog.specs import validate_schema
from market.core import audit, jobs
from market.core.errors import NotFound, ValidationFailed
from market.extensions import db

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
INDUSTRIES = ("coal", "metallurgy", "agriculture")


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))


def tree() -> list[tuple[Category, int]]:
    """Every category with its depth, parents before children, in display order."""
    nodes = all_categories()
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[tuple[Category, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children.get(parent, []):
            ordered.append((node, depth))
            walk(node.id, depth + 1)

    walk(None, 0)
    return ordered


def by_slug(slug: str | None) -> Category | None:
    if not slug:
        return None
    return db.session.scalars(select(Category).where(Category.slug == str(slug)[:64])).first()


def get_category(category_id: Any) -> Category:
    try:
        category = db.session.get(Category, int(category_id))
    except (TypeError, ValueError):
        category = None
    if category is None:
        raise NotFound("Not found")
    return category


def _names(name_zh: str, name_en: str) -> tuple[str, str]:
    zh, en = " ".join((name_zh or "").split()), " ".join((name_en or "").split())
    errors = {}
    if not zh or len(zh) > 100:
        errors["name_zh"] = "Required, at most 100 characters."
    if not en or len(en) > 100:
        errors["name_en"] = "Required, at most 100 characters."
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    return zh, en


def add_category(*, slug: str, name_zh: str, name_en: str, parent_id: Any = None, industry: str = "",
                 actor_user_id: int | None = None) -> Category:
    """Add a category under ``parent_id`` (a root needs an ``industry``); it starts with no own schema."""
    zh, en = _names(name_zh, name_en)
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise ValidationFailed("Please correct the marked fields.",
                               field_errors={"slug": "Lower-case letters, digits and hyphens (2–63)."})
    if by_slug(slug) is not None:
        raise ValidationFailed("Please correct the marked fields.", field_errors={"slug": "This slug is taken."})
    parent = get_category(parent_id) if parent_id not in (None, "") else None
    if parent is None and industry not in INDUSTRIES:
        raise ValidationFailed("Please correct the marked fields.", field_errors={"industry": "Choose an industry."})
    siblings = [c for c in all_categories() if c.parent_id == (parent.id if parent else None)]
    category = Category(slug=slug, name_zh=zh, name_en=en, parent_id=parent.id if parent else None,
                        industry=parent.industry if parent else industry, spec_schema=[],
                        position=max((c.position for c in siblings), default=0) + 1)
    db.session.add(category)
    db.session.flush()
    audit.record("category.add", "category", category.id, actor_user_id=actor_user_id,
                 after={"slug": slug, "name_zh": zh, "parent_id": category.parent_id})
    return category


def rename_category(category: Category, *, name_zh: str, name_en: str,
                    actor_user_id: int | None = None) -> Category:
    zh, en = _names(name_zh, name_en)
    before = {"name_zh": category.name_zh, "name_en": category.name_en}
    category.name_zh, category.name_en = zh, en
    db.session.flush()
    audit.record("category.rename", "category", category.id, actor_user_id=actor_user_id, before=before,
                 after={"name_zh": zh, "name_en": en})
    jobs.enqueue("search.reindex_category", category_id=category.id)
    return category


def move_category(category: Category, new_parent_id: Any, *, actor_user_id: int | None = None) -> Category:
    """Move under another parent (same industry; never under itself or its own descendants)."""
    parent = get_category(new_parent_id)
    if category in parent.ancestors():
        raise ValidationFailed("A category cannot move under itself or its own subcategory.",
                               field_errors={"parent_id": "Not under itself or its own subcategory."})
    if parent.industry != category.industry:
        raise ValidationFailed("Move within the same industry.",
                               field_errors={"parent_id": "Move within the same industry."})
    before = {"parent_id": category.parent_id}
    category.parent_id = parent.id
    db.session.flush()
    db.session.expire(category, ["parent"])
    audit.record("category.move", "category", category.id, actor_user_id=actor_user_id, before=before,
                 after={"parent_id": parent.id})
    jobs.enqueue("search.reindex_category", category_id=category.id)
    return category


def set_schema(category: Category, schema_json: str, *, actor_user_id: int | None = None) -> Category:
    """Replace the category's own spec schema from JSON text (``[]`` inherits the parent's)."""
    try:
        parsed = json.loads(schema_json or "[]")
    except json.JSONDecodeError as exc:
        raise ValidationFailed("The schema is not valid JSON.",
                               field_errors={"spec_schema": f"JSON: {exc.msg} (line {exc.lineno})"}) from None
    schema = validate_schema(parsed)
    before = {"spec_schema": category.spec_schema}
    category.spec_schema = schema
    db.session.flush()
    audit.record("category.schema", "category", category.id, actor_user_id=actor_user_id, before=before,
                 after={"spec_schema": schema})
    jobs.enqueue("search.reindex_category", category_id=category.id)
    return category
