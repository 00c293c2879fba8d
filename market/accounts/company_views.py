"""The company page: profile, members and roles, join requests, invitations, switching company."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.accounts import auth, invites, regions, services, verification
from market.accounts.context import acting_membership, require_company
from market.accounts.forms import AcceptInviteForm, InviteForm, ProfileForm, region_choices
from market.accounts.views import bp, show_errors
from market.core.errors import DomainError
from market.core.http import commit
from market.core.validation import Id, parse_value


def _profile_form(company) -> ProfileForm:  # type: ignore[no-untyped-def]
    form = ProfileForm(obj=company) if request.method == "GET" else ProfileForm()
    form.region_code.choices = region_choices(str(get_locale()))
    return form


def _render_company(profile_form: ProfileForm | None = None, invite_form: InviteForm | None = None,
                    status: int = 200):  # type: ignore[no-untyped-def]
    membership = acting_membership()
    mine = services.memberships_of(current_user)
    if membership is None:
        return render_template("accounts/no_company.html", memberships=mine), status
    company = membership.company
    members = services.members_of(company.id)
    return render_template(
        "accounts/company.html", company=company, membership=membership, members=members,
        memberships=[m for m in mine if m.status == "active"],
        is_manager=membership.role in services.MANAGERS,
        profile_form=profile_form or _profile_form(company), invite_form=invite_form or InviteForm(formdata=None),
        invitations=invites.pending_invitations(company.id), latest=verification.latest_request(company.id),
        region=regions.region_label(company.region_code, str(get_locale())),
    ), status


@bp.get("/company")
@login_required
def company():  # type: ignore[no-untyped-def]
    return _render_company()


@bp.post("/company/profile")
@require_company("admin")
def update_profile():  # type: ignore[no-untyped-def]
    membership = acting_membership()
    form = _profile_form(membership.company)
    if not form.validate():
        return _render_company(profile_form=form, status=422)
    try:
        services.update_profile(membership, name_en=form.name_en.data, kind=form.kind.data,
                                industries=form.industries.data or [], region_code=form.region_code.data,
                                address=form.address.data, contact_name=form.contact_name.data,
                                contact_phone=form.contact_phone.data, contact_email=form.contact_email.data)
    except DomainError as exc:
        show_errors(form, exc)
        return _render_company(profile_form=form, status=exc.status)
    commit()
    flash(_("The company profile was saved."), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/members/<int:membership_id>/role")
@require_company("admin")
def change_role(membership_id: int) -> Response:
    services.change_role(acting_membership(), membership_id, request.form.get("role", ""))
    commit()
    flash(_("The role was changed."), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/members/<int:membership_id>/remove")
@require_company()
def remove_member(membership_id: int) -> Response:
    actor = acting_membership()
    leaving = actor.id == membership_id
    services.remove_member(actor, membership_id)
    commit()
    if leaving:
        session.pop("company_id", None)
        flash(_("You left the company."), "info")
        return redirect(url_for("home.index"))
    flash(_("The member was removed."), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/members/<int:membership_id>/decide")
@require_company("admin")
def decide_join(membership_id: int) -> Response:
    approve = request.form.get("decision") == "approve"
    services.decide_join_request(acting_membership(), membership_id, approve=approve,
                                 role=request.form.get("role") or "sales")
    commit()
    flash(_("The request was accepted.") if approve else _("The request was declined."), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/invitations")
@require_company("admin")
def invite():  # type: ignore[no-untyped-def]
    form = InviteForm()
    if not form.validate():
        return _render_company(invite_form=form, status=422)
    try:
        invites.invite(acting_membership(), form.email.data or "", form.role.data or "")
    except DomainError as exc:
        if exc.status == 403:
            raise
        show_errors(form, exc)
        return _render_company(invite_form=form, status=exc.status)
    commit()
    flash(_("The invitation was sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/invitations/<int:invitation_id>/revoke")
@require_company("admin")
def revoke_invite(invitation_id: int) -> Response:
    invites.revoke(acting_membership(), invitation_id)
    commit()
    flash(_("The invitation was withdrawn."), "success")
    return redirect(url_for("accounts.company"))


@bp.post("/company/switch")
@login_required
def switch_company() -> Response:
    """Act for another company the user belongs to (an unknown or foreign id is a 404)."""
    company_id = parse_value(Id, request.form.get("company_id", ""), "company_id")
    membership = services.active_membership(current_user.id, company_id)
    session["company_id"] = company_id
    flash(_("You now act for %(company)s.", company=membership.company.name_zh), "success")
    return redirect(url_for("accounts.company"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):  # type: ignore[no-untyped-def]
    invitation = invites.invitation_for_token(token)  # a bad link is a 400 page
    form = AcceptInviteForm()
    signed_in = current_user.is_authenticated
    has_account = auth.find_user(invitation.email) is not None
    if request.method == "POST":
        if signed_in:
            _user, membership = invites.accept(token, user=current_user._get_current_object())
        elif has_account:
            abort(409)
        else:
            if not form.validate():
                return render_template("accounts/accept_invite.html", invitation=invitation, form=form,
                                       has_account=has_account), 422
            person = services.NewPerson(form.contact_name.data or "", invitation.email, form.password.data or "")
            try:
                user, membership = invites.accept(token, person=person)
            except DomainError as exc:
                show_errors(form, exc)
                return render_template("accounts/accept_invite.html", invitation=invitation, form=form,
                                       has_account=has_account), exc.status
            auth.start_session(user)
        session["company_id"] = membership.company_id
        commit()
        flash(_("Welcome to %(company)s.", company=invitation.company.name_zh), "success")
        return redirect(url_for("accounts.company"))
    return render_template("accounts/accept_invite.html", invitation=invitation, form=form, has_account=has_account)
