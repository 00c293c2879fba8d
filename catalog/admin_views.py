"""The operator's category editor: add, rename, move, and edit a spec schema as validated JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from catalog import categories as service
from catalog.views import bp
from market.accounts.context import require_platform_role
from market.core.errors import ValidationFailed
from market.core.http import commit
from market.core.validation import OptionalId, parse_value
from market.extensions import db


def _page(errors: dict[str, str] | None = None, status: int = 200, edit_id: int | None = None,
          schema_text: str | None = None):  # type: ignore[no-untyped-def]
    tree = service.tree()
    editing = next((c for c, _depth in tree if c.id == edit_id), None)
    if editing is not None and schema_text is None:
        schema_text = json.dumps(editing.spec_schema, ensure_ascii=False, indent=2)
    return render_template("catalog/admin_categories.html", tree=tree, errors=errors or {}, editing=editing,
                           schema_text=schema_text, industries=service.INDUSTRIES), status


@bp.get("/operator/categories")
@require_platform_role("operator")
def admin_categories():  # type: ignore[no-untyped-def]
    edit_id = parse_value(OptionalId, request.args.get("edit"), "edit")
    return _page(edit_id=edit_id)


@bp.post("/operator/categories")
@require_platform_role("operator")
def admin_add_category():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        category = service.add_category(slug=form.get("slug", ""), name_zh=form.get("name_zh", ""),
                                        name_en=form.get("name_en", ""),
                                        parent_id=parse_value(OptionalId, form.get("parent_id"), "parent_id"),
                                        industry=form.get("industry", ""), actor_user_id=current_user.id)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(exc.field_errors, 422)
    commit()
    flash(_("Category %(name)s added.", name=category.name_zh), "success")
    return redirect(url_for("catalog.admin_categories", edit=category.id))


def _edit_category(category_id: int, change: Callable[[Any], Any], done: str,
                   schema_text: str | None = None):  # type: ignore[no-untyped-def]
    """The shape every category edit shares: apply ``change``, re-show the editor on a 422, else commit."""
    category = service.get_category(category_id)
    try:
        change(category)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(exc.field_errors, 422, edit_id=category_id, schema_text=schema_text)
    commit()
    flash(done, "success")
    return redirect(url_for("catalog.admin_categories", edit=category_id))


@bp.post("/operator/categories/<int:category_id>/rename")
@require_platform_role("operator")
def admin_rename_category(category_id: int):  # type: ignore[no-untyped-def]
    return _edit_category(category_id, lambda category: service.rename_category(
        category, name_zh=request.form.get("name_zh", ""), name_en=request.form.get("name_en", ""),
        actor_user_id=current_user.id), _("Category renamed."))


@bp.post("/operator/categories/<int:category_id>/move")
@require_platform_role("operator")
def admin_move_category(category_id: int):  # type: ignore[no-untyped-def]
    return _edit_category(category_id, lambda category: service.move_category(
        category, parse_value(OptionalId, request.form.get("parent_id"), "parent_id"), actor_user_id=current_user.id),
        _("Category moved."))


@bp.post("/operator/categories/<int:category_id>/schema")
@require_platform_role("operator")
def admin_category_schema(category_id: int):  # type: ignore[no-untyped-def]
    text = request.form.get("spec_schema", "")
    return _edit_category(category_id,
                          lambda category: service.set_schema(category, text, actor_user_id=current_user.id),
                          _("Spec schema saved; listings in this category are being reindexed."), schema_text=text)
