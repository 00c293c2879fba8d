"""Inviting colleagues by an emailed link that carries a role."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from market.accounts import normalise
from market.accounts.labels import ROLE_LABELS
from market.accounts.models import CompanyRole, Invitation, Membership, User
from market.accounts.services import MEMBERSHIP, NewPerson, _create_user, _validate_person, public_url
from market.core.audit import record
from market.core.errors import BadRequest, Conflict, NotFound, PermissionDenied, ValidationFailed
from market.core.mail import send_mail
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db

INVITABLE_ROLES = (CompanyRole.ADMIN, CompanyRole.SALES, CompanyRole.PURCHASING, CompanyRole.FINANCE,
                   CompanyRole.OWNER)


INVITATION = Lifecycle("invitation", Invitation, {("pending", "accepted"): {ANYONE},
                                                 ("pending", "revoked"): {ANYONE}})

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation")


def invite(actor: Membership, raw_email: str, role: str) -> Invitation:
    """The owner or an admin invites someone by email with a role; the link is mailed by the worker."""
    if actor.role not in (CompanyRole.OWNER, CompanyRole.ADMIN) or actor.status != "active":
        raise PermissionDenied("Only the company's owner or an admin can invite colleagues.")
    email = normalise.email(raw_email)
    if not email:
        raise ValidationFailed("Please enter a valid email address.",
                               field_errors={"email": "Please enter a valid email address."})
    if role not in INVITABLE_ROLES:
        raise ValidationFailed("Please choose a role from the list.", field_errors={"role": "Unknown role."})
    if role == CompanyRole.OWNER and actor.role != CompanyRole.OWNER:
        raise PermissionDenied("Only an owner can make someone an owner.")
    already = db.session.scalars(
        select(Membership.id).join(User, User.id == Membership.user_id)
        .where(Membership.company_id == actor.company_id, User.email == email)
    ).first()
    if already is not None:
        raise Conflict("This person already belongs to your company.")
    invitation = Invitation(company_id=actor.company_id, email=email, role=role, invited_by=actor.user_id)
    db.session.add(invitation)
    db.session.flush()
    token = _serializer().dumps(invitation.id)
    company = actor.company
    send_mail(email, _("Join %(company)s on Jinshang", company=company.name_zh),
              _("%(name)s invites you to join %(company)s on Jinshang as %(role)s.\n\n"
                "Open this link to accept:\n%(link)s", name=actor.user.name, company=company.name_zh,
                role=ROLE_LABELS[role], link=public_url("accounts.accept_invite", token=token)))
    record("invitation.sent", "invitation", invitation.id, actor_company_id=actor.company_id,
           after={"email": email, "role": role})
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation a link stands for; BadRequest for a forged, expired or used link."""
    try:
        invitation_id = _serializer().loads(token, max_age=current_app.config["INVITE_MAX_AGE"])
    except SignatureExpired:
        raise BadRequest("This invitation has expired. Ask for a new one.") from None
    except BadSignature:
        raise BadRequest("This invitation link is not valid.") from None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.status != "pending":
        raise BadRequest("This invitation has already been used or withdrawn.")
    return invitation


def accept(token: str, *, user: User | None = None, person: NewPerson | None = None) -> tuple[User, Membership]:
    """Accept an invitation as a signed-in ``user`` or as a new ``person`` (whose email is the invited one)."""
    invitation = invitation_for_token(token)
    if user is None:
        if person is None:
            raise ValueError("need a user or a person")
        person.contact = invitation.email
        errors: dict[str, str] = {}
        email, mobile = _validate_person(person, errors, invitation.company.name_zh)
        if errors:
            raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
        user = _create_user(person, email, mobile)
    elif (user.email or "").lower() != invitation.email:
        raise PermissionDenied("This invitation was sent to another email address.")
    existing = db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.company_id == invitation.company_id)
    ).first()
    if existing is not None and existing.status == "active":
        raise Conflict("You already belong to this company.")
    if existing is None:
        existing = Membership(user_id=user.id, company_id=invitation.company_id, status="active")
        db.session.add(existing)
    existing.role = invitation.role
    INVITATION.move(invitation, "accepted", audit_row=False, accepted_by=user.id, accepted_at=utcnow())
    if existing.status != "active":
        MEMBERSHIP.move(existing, "active", audit_row=False)
    db.session.flush()
    record("invitation.accepted", "invitation", invitation.id, actor_user_id=user.id,
           actor_company_id=invitation.company_id, before={"status": "pending"},
           after={"status": "accepted", "membership_id": existing.id, "role": invitation.role})
    return user, existing


def pending_invitations(company_id: int) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.company_id == company_id, Invitation.status == "pending")
        .order_by(Invitation.id.desc())
    ))


def revoke(actor: Membership, invitation_id: int) -> None:
    if actor.role not in (CompanyRole.OWNER, CompanyRole.ADMIN):
        raise PermissionDenied("Only the company's owner or an admin can do this.")
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.company_id == actor.company_id)
    ).first()
    if invitation is None:
        raise NotFound("Not found")
    if invitation.status != "pending":
        raise Conflict("This invitation has already been used or withdrawn.")
    INVITATION.move(invitation, "revoked", actor_company_id=actor.company_id, action="invitation.revoked")
