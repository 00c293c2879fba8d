"""The operator's page for the trade vocabulary: list, add, switch off and delete rows (data, not code)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from catalog.search import vocabulary as service
from catalog.search.vocabulary import KINDS, VocabularyEntry
from catalog.views import bp
from market.accounts.context import require_platform_role
from market.core.errors import ValidationFailed
from market.core.http import commit
from market.extensions import db


def _page(errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
          status: int = 200):  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(VocabularyEntry).order_by(VocabularyEntry.kind, VocabularyEntry.term)).all()
    return render_template("catalog/admin_vocabulary.html", rows=rows, kinds=KINDS, errors=errors or {},
                           form=form or {}), status


@bp.get("/operator/vocabulary")
@require_platform_role("operator")
def admin_vocabulary():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/operator/vocabulary")
@require_platform_role("operator")
def admin_add_vocabulary():  # type: ignore[no-untyped-def]
    form = request.form.to_dict()
    try:
        service.add_entry(form, actor_user_id=current_user.id)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(exc.field_errors, form, 422)
    commit()
    flash(_("Vocabulary row added; searches use it within seconds."), "success")
    return redirect(url_for("catalog.admin_vocabulary"))


@bp.post("/operator/vocabulary/<int:entry_id>/toggle")
@require_platform_role("operator")
def admin_toggle_vocabulary(entry_id: int):  # type: ignore[no-untyped-def]
    service.toggle_entry(entry_id, actor_user_id=current_user.id)
    commit()
    return redirect(url_for("catalog.admin_vocabulary"))


@bp.post("/operator/vocabulary/<int:entry_id>/delete")
@require_platform_role("operator")
def admin_delete_vocabulary(entry_id: int):  # type: ignore[no-untyped-def]
    service.delete_entry(entry_id, actor_user_id=current_user.id)
    commit()
    flash(_("Vocabulary row deleted."), "success")
    return redirect(url_for("catalog.admin_vocabulary"))
