"""Sign-up with the online name check, sign-in and out, password reset and change (thin views)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from limits import parse as parse_limit
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from market.accounts import auth, regions, services, throttle
from market.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from market.accounts.labels import KIND_LABELS
from market.core import throttle as core_throttle
from market.core.errors import DomainError
from market.core.http import commit, translate
from market.core.uploads import audit_refusal
from market.core.validation import safe_redirect_target
from market.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def show_errors(form: Any, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields (and flash the rest) after rolling back."""
    db.session.rollback()
    audit_refusal(exc)  # a disguised upload leaves an audit row
    for name, message in exc.field_errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*list(field.errors or []), message]
        else:
            flash(_(message), "error")
    if not exc.field_errors:
        flash(translate(exc.message, **exc.detail), "error")


def safe_next(default: str) -> str:
    return safe_redirect_target(request.args.get("next") or request.form.get("next")) or default


def _company_json(company: Any) -> dict[str, Any] | None:
    if company is None:
        return None
    return {"id": company.id, "name": company.name_zh, "verified": company.is_verified,
            "join_url": url_for("accounts.request_join", company_id=company.id)}


@bp.get("/signup/check")
@limiter.limit("60 per minute")
def signup_check():  # type: ignore[no-untyped-def]
    """The online name check, called by the sign-up form when a field loses focus."""
    result = services.check_availability(request.args.get("uscc"), request.args.get("name"))
    locale = str(get_locale())
    return jsonify({
        "uscc": {
            "value": result.uscc,
            "valid": bool(result.uscc) and result.uscc_error is None,
            "error": _(result.uscc_error) if result.uscc_error else None,
            "registered": result.uscc_taken_by is not None,
            "company": _company_json(result.uscc_taken_by),
        },
        "name": {"registered": result.name_taken_by is not None, "company": _company_json(result.name_taken_by)},
        "kind": result.kind,
        "kind_label": str(KIND_LABELS[result.kind]) if result.kind else None,
        "region_code": result.region_code,
        "region": regions.region_label(result.region_code, locale) if result.region_code else None,
        "registry_name": result.registry.name if result.registry else None,
        "warnings": result.warnings,
    })


def _render_signup(form: SignupForm, status: int = 200, **extra: Any):  # type: ignore[no-untyped-def]
    return render_template("accounts/signup.html", form=form, join_form=JoinForm(formdata=None, data={
        "contact_name": form.contact_name.data, "contact": form.contact.data}), **extra), status


def _signup_key() -> str:
    return "signup:ip:" + hashlib.sha256(throttle.client_address().encode()).hexdigest()[:32]


def _refuse_too_many_signups() -> None:
    """New accounts per address: SIGNUP_RATE_LIMIT ("10 per hour"), counted for every worker and host."""
    limit = parse_limit(current_app.config["SIGNUP_RATE_LIMIT"])
    wait = core_throttle.over_limit(_signup_key(), limit.amount, limit.get_expiry())
    if wait:
        raise TooManyRequests(retry_after=wait)


def _count_signup() -> None:
    core_throttle.count(_signup_key(), parse_limit(current_app.config["SIGNUP_RATE_LIMIT"]).get_expiry())


@bp.route("/signup", methods=["GET", "POST"])
def signup():  # type: ignore[no-untyped-def]
    """One page: company name, code, your name, email or mobile, password."""
    if current_user.is_authenticated and request.method == "GET" and not request.args.get("another"):
        flash(_("You are signed in. To register another company, sign out first or ask to join it."), "info")
    form = SignupForm()
    if request.method == "GET":
        return _render_signup(form)
    if request.form.get("action") == "check":  # the online name check without JavaScript
        check = services.check_availability(form.uscc.data, form.company_name.data)
        return _render_signup(form, check=check, duplicate=check.duplicate)
    if not form.validate():
        return _render_signup(form, 422)
    _refuse_too_many_signups()
    person = services.NewPerson(form.contact_name.data or "", form.contact.data or "", form.password.data or "")
    try:
        user, company = services.sign_up(form.company_name.data or "", form.uscc.data or "", person,
                                         kind=form.kind.data or None)
    except services.DuplicateCompany as exc:
        show_errors(form, exc)
        return _render_signup(form, 409, duplicate=exc.company, duplicate_by=exc.by)
    except DomainError as exc:
        show_errors(form, exc)
        return _render_signup(form, exc.status)
    warnings = services.check_availability(company.uscc, company.name_zh).warnings
    auth.start_session(user)
    _count_signup()
    commit()
    flash(_("Welcome! %(company)s is registered. Upload your business licence to get verified.",
            company=company.name_zh), "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(url_for("accounts.verification"))


@bp.post("/companies/<int:company_id>/join")
def request_join(company_id: int) -> Response:
    """Ask to join a registered company: signed in, or with the sign-up form's personal fields."""
    if current_user.is_authenticated:
        services.request_to_join(company_id, user=current_user)
        commit()
    else:
        form = JoinForm()
        _refuse_too_many_signups()  # a join request without an account creates one
        person = services.NewPerson(form.contact_name.data or "", form.contact.data or "", form.password.data or "")
        try:
            user = services.request_to_join(company_id, person=person).user
        except DomainError as exc:
            if not exc.field_errors:
                raise
            db.session.rollback()
            for name, message in exc.field_errors.items():
                flash(f"{getattr(form, name).label.text if hasattr(form, name) else name}: {_(message)}", "error")
            return redirect(url_for("accounts.signup"))
        auth.start_session(user)
        _count_signup()
        commit()
    flash(_("Your request was sent. The company's owner or an administrator will decide; you will be notified."),
          "success")
    return redirect(url_for("accounts.company"))


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Sign in. Throttled per account (every spelling), per account and address, and per address; a
    throttled attempt is refused before any password is checked (market.accounts.throttle)."""
    form = LoginForm()
    if request.method == "POST" and form.validate():
        account, address = auth.throttle_account(form.identifier.data), throttle.client_address()
        wait = throttle.retry_after(account, address)
        if wait:
            db.session.rollback()
            raise TooManyRequests(retry_after=wait)
        user = auth.authenticate(form.identifier.data, form.password.data)
        if user is not None:
            throttle.succeeded(account, address)
            auth.start_session(user)
            commit()
            return redirect(safe_next(_home_for(user)))
        db.session.rollback()
        throttle.failed(account, address)
        commit()
        form.password.errors = [_("The email/mobile number or the password is not correct.")]
        return render_template("accounts/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


def _home_for(user: Any) -> str:
    if user.platform_role == "operator":
        return url_for("accounts.verification_queue")
    if user.platform_role == "regulator":
        return url_for("supervision.audit_log")
    return url_for("accounts.company")


@bp.post("/logout")
def logout() -> Response:
    auth.end_session()
    commit()
    flash(_("You are signed out."), "info")
    return redirect(url_for("home.index"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if request.method == "POST" and form.validate():
        auth.request_password_reset(form.identifier.data)
        commit()
        flash(_("If an account uses this email address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    user = auth.user_for_reset_token(token)  # a bad link is a 400 page
    form = ResetPasswordForm()
    if request.method == "POST" and form.validate():
        try:
            auth.reset_password(token, form.password.data or "")
        except DomainError as exc:
            show_errors(form, exc)
            return render_template("accounts/reset_password.html", form=form, user=user), exc.status
        commit()
        flash(_("Your password was changed. Please sign in with the new password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, user=user), (
        422 if request.method == "POST" else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if request.method == "POST" and form.validate():
        try:
            auth.change_password(current_user, form.current_password.data or "", form.password.data or "")
        except DomainError as exc:
            show_errors(form, exc)
            return render_template("accounts/change_password.html", form=form), exc.status
        user = current_user._get_current_object()
        auth.renew_session(user)
        commit()
        flash(_("Your password was changed. Other devices have been signed out."), "success")
        return redirect(url_for("accounts.company"))
    return render_template("accounts/change_password.html", form=form), 422 if request.method == "POST" else 200
