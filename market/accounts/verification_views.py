"""Verification L1 pages: the company's licence upload and the operators' review queue."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.accounts import registry, verification
from market.accounts.context import acting_company_id, acting_membership, require_company, require_platform_role
from market.accounts.forms import LicenceForm, RejectForm
from market.accounts.models import VerificationRequest
from market.accounts.views import bp, show_errors
from market.core.errors import DomainError, NotFound, ValidationFailed
from market.core.http import commit
from market.core.tenancy import get_owned
from market.core.validation import Page, parse_value
from market.extensions import db

PER_PAGE = 20


@bp.route("/company/verification", methods=["GET", "POST"], endpoint="verification")
@require_company()
def verification_page():  # type: ignore[no-untyped-def]
    membership = acting_membership()
    form = LicenceForm()
    status = 200
    if request.method == "POST":
        upload = request.files.get("licence")
        try:
            verification.submit_licence(membership, upload.stream if upload else _Empty(),
                                        upload.filename if upload else None)
        except DomainError as exc:
            if exc.status == 403:
                raise
            show_errors(form, exc)
            status = exc.status
        else:
            commit()
            flash(_("Thank you. An operator will review your licence, usually within one working day."), "success")
            return redirect(url_for("accounts.verification"))
    company = membership.company
    return render_template("accounts/verification.html", form=form, company=company, membership=membership,
                           latest=verification.latest_request(company.id)), status


class _Empty:
    def read(self, _size: int = -1) -> bytes:
        return b""


@bp.get("/operator/verification")
@require_platform_role("operator")
def verification_queue():  # type: ignore[no-untyped-def]
    number = parse_value(Page, request.args.get("page", "1"), "page")
    page = db.paginate(verification.pending_query(), page=number, per_page=PER_PAGE, error_out=False)
    lookups = {item.id: registry.current_registry().lookup(item.company.uscc) for item in page.items}
    return render_template("accounts/verification_queue.html", page=page, lookups=lookups, reject_form=RejectForm())


@bp.get("/verification/<int:request_id>/licence")
@login_required
def licence_file(request_id: int) -> Response:
    """The uploaded file: for operators and regulators, and for the company that sent it."""
    if current_user.platform_role in ("operator", "regulator"):
        item = db.session.get(VerificationRequest, request_id)
        if item is None:
            raise NotFound("Not found")
    else:
        item = get_owned(VerificationRequest, request_id, acting_company_id())
    path = verification.licence_path(item)
    if not path.is_file():
        raise NotFound("The file is no longer available.")
    response = send_file(path, mimetype=item.content_type, as_attachment=False,
                         download_name=f"licence-{item.company_id}-{item.id}.{path.suffix.lstrip('.')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


@bp.post("/operator/verification/<int:request_id>/approve")
@require_platform_role("operator")
def approve_verification(request_id: int) -> Response:
    item = verification.approve(current_user._get_current_object(), request_id)
    commit()
    flash(_("%(company)s is now verified.", company=item.company.name_zh), "success")
    return redirect(url_for("accounts.verification_queue"))


@bp.post("/operator/verification/<int:request_id>/reject")
@require_platform_role("operator")
def reject_verification(request_id: int) -> Response:
    form = RejectForm()
    try:
        item = verification.reject(current_user._get_current_object(), request_id, form.reason.data or "")
    except ValidationFailed as exc:
        db.session.rollback()
        flash(_(exc.message), "error")
        return redirect(url_for("accounts.verification_queue", _anchor=f"request-{request_id}"))
    commit()
    flash(_("The licence of %(company)s was rejected; the company has been told why.", company=item.company.name_zh),
          "success")
    return redirect(url_for("accounts.verification_queue"))
