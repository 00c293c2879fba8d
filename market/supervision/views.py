"""The audit log page for platform operators and market regulators."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from market.accounts.context import require_platform_role
from market.extensions import db
from market.supervision.audit import AuditFilter, audit_query, names_for, object_types

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

PER_PAGE = 50


@bp.get("/audit")
@require_platform_role("operator", "regulator")
def audit_log():  # type: ignore[no-untyped-def]
    flt = AuditFilter.from_args(request.args.to_dict())
    page = db.paginate(audit_query(flt), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    users, companies = names_for(page.items)
    return render_template("supervision/audit_log.html", page=page, flt=flt, users=users, companies=companies,
                           object_types=object_types())
