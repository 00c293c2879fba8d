"""The audit log page for platform operators and market regulators."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from pydantic import field_validator

from market.accounts.context import require_platform_role
from market.core.validation import Day, FormModel, Page, Text, parse
from market.extensions import db
from market.supervision.audit import AuditFilter, audit_query, names_for, object_types

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

PER_PAGE = 50


class AuditQuery(FormModel):
    """The filter's query string, checked by type before the (lenient) filter reads it."""

    action: Text(80) = ""
    object_type: Text(40) = ""
    object_id: Text(64) = ""
    actor: Text(254) = ""
    company: Text(18) = ""
    date_from: Day | None = None
    date_to: Day | None = None
    page: Page = 1

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


@bp.get("/audit")
@require_platform_role("operator", "regulator")
def audit_log():  # type: ignore[no-untyped-def]
    query = parse(AuditQuery, request.args)
    flt = AuditFilter.from_args(request.args.to_dict())
    page = db.paginate(audit_query(flt), page=query.page, per_page=PER_PAGE, error_out=False)
    users, companies = names_for(page.items)
    return render_template("supervision/audit_log.html", page=page, flt=flt, users=users, companies=companies,
                           object_types=object_types())
