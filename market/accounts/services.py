"""Onboarding and membership: sign-up with the "online name check", join requests, roles.

Services take explicit arguments, raise domain errors from ``market.core.errors``, write an audit row
for every change and ``flush()``; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market.accounts import normalise, regions, uscc
from market.accounts.models import (
    Company,
    CompanyKind,
    CompanyRole,
    Membership,
    User,
    company_name_key,
)
from market.accounts.passwords import hash_password, password_problem
from market.accounts.registry import RegistryRecord, current_registry
from market.core import links
from market.core.audit import record
from market.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from market.core.notify import notify_company
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db

MANAGERS = (CompanyRole.OWNER, CompanyRole.ADMIN)
COMPANY_KINDS = tuple(kind.value for kind in CompanyKind)
# a join request (pending) becomes a membership when a manager approves it or an invitation is accepted
MEMBERSHIP = Lifecycle("membership", Membership, {("pending", "active"): {ANYONE}})


def public_url(endpoint: str, **values: object) -> str:
    """An absolute link for emails, built on PUBLIC_BASE_URL (never on the request's Host header)."""
    return links.public_url(endpoint, **values)


def infer_kind(code: str) -> str:
    """The company kind that a USCC's first two characters imply (GB 32100: registration authority, then
    kind). Only 91 is an enterprise; a code the standard does not define is "other", never 企业."""
    prefix = code[:2].upper()
    if prefix in ("91", "92", "93"):
        return {"91": CompanyKind.ENTERPRISE, "92": CompanyKind.INDIVIDUAL_BUSINESS,
                "93": CompanyKind.FARMER_COOPERATIVE}[prefix]
    if prefix[:1] == "N":  # N1 group, N2 village, N3 township collectives, N9 other agricultural
        return CompanyKind.VILLAGE_COLLECTIVE
    if prefix[:1] == "1" or prefix == "A1":  # 11 organs, 12 public institutions (schools, hospitals), 13, 19
        return CompanyKind.GOVERNMENT_AGENCY
    if prefix[:1] == "5":  # 51 social groups, 52 private non-enterprise units, 53 foundations
        return CompanyKind.SOCIAL_ORGANISATION
    return CompanyKind.OTHER_ORGANISATION


@dataclass
class Availability:
    """What the online name check found for a code and a name."""

    uscc: str = ""
    uscc_error: str | None = None
    uscc_taken_by: Company | None = None
    name_taken_by: Company | None = None
    kind: str | None = None
    region_code: str | None = None
    registry: RegistryRecord | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def duplicate(self) -> Company | None:
        return self.uscc_taken_by or self.name_taken_by


def company_by_uscc(code: str) -> Company | None:
    return db.session.scalars(select(Company).where(Company.uscc == code)).first()


def company_by_name(name: str) -> Company | None:
    key = company_name_key(name)
    return db.session.scalars(select(Company).where(Company.name_key == key)).first() if key else None


def check_availability(raw_uscc: str | None, raw_name: str | None) -> Availability:
    """The online name check: is the code valid and free, is the name free, what does the registry say."""
    result = Availability()
    if raw_uscc and raw_uscc.strip():
        code = uscc.normalise(normalise.fold(raw_uscc))
        result.uscc = code
        try:
            uscc.validate(code)
        except uscc.InvalidUSCC as exc:
            result.uscc_error = exc.reason
        else:
            result.uscc_taken_by = company_by_uscc(code)
            result.kind = infer_kind(code)
            result.region_code = regions.region_from_uscc(code)
            result.registry = current_registry().lookup(code)
    name = normalise.company_name(raw_name)
    if name:
        result.name_taken_by = company_by_name(name)
    record_ = result.registry
    if record_ is not None:
        if name and company_name_key(record_.name) != company_name_key(name):
            result.warnings.append(_("The business registry lists this code under the name “%(name)s”. "
                                     "Please check the company name.", name=record_.name))
        if not record_.is_active:
            result.warnings.append(_("The business registry lists this code as no longer active (%(status)s).",
                                     status=record_.status))
    return result


@dataclass
class NewPerson:
    """The person signing up: contact name, email or mobile, password."""

    name: str
    contact: str
    password: str


def _validate_person(person: NewPerson, errors: dict[str, str], *context: str) -> tuple[str | None, str | None]:
    name = normalise.fold(person.name)
    if not name:
        errors["contact_name"] = "Please enter your name."
    elif len(name) > 100:
        errors["contact_name"] = "Use at most 100 characters."
    email, mobile = normalise.contact(person.contact)
    if not email and not mobile:
        errors["contact"] = "Enter an email address or an 11-digit mainland mobile number."
    elif db.session.scalars(
        select(User.id).where(User.email == email if email else User.mobile == mobile)
    ).first() is not None:
        errors["contact"] = "An account with this email or mobile number already exists. Please sign in."
    problem = password_problem(person.password or "", name, person.contact, *context)
    if problem:
        errors["password"] = problem
    return email, mobile


def current_language() -> str:
    """The configured code ("zh_CN", "en") of the language in use (Babel itself says zh_Hans_CN)."""
    from babel import Locale
    from flask_babel import get_locale

    parsed = str(get_locale())
    configured = {str(Locale.parse(code)): code for code in current_app.config["LANGUAGES"]}
    return configured.get(parsed, current_app.config["BABEL_DEFAULT_LOCALE"])


def _create_user(person: NewPerson, email: str | None, mobile: str | None) -> User:
    user = User(email=email, mobile=mobile, name=normalise.fold(person.name),
                password_hash=hash_password(person.password), locale=current_language())
    db.session.add(user)
    db.session.flush()
    record("user.created", "user", user.id, actor_user_id=user.id,
           after={"email": email, "mobile": mobile, "name": user.name})
    return user


class DuplicateCompany(Conflict):
    """The code or the name is already registered: the person may ask to join that company instead."""

    def __init__(self, company: Company, by: str) -> None:
        message = ("This unified social credit code is already registered." if by == "uscc"
                   else "A company with this name is already registered.")
        super().__init__(message, field_errors={"uscc" if by == "uscc" else "company_name": message})
        self.company = company
        self.by = by


def sign_up(company_name: str, raw_uscc: str, person: NewPerson, kind: str | None = None) -> tuple[User, Company]:
    """Register a company (L0) and its first user as owner. Raises ValidationFailed or DuplicateCompany."""
    errors: dict[str, str] = {}
    name = normalise.company_name(company_name)
    if len(name) < 2:
        errors["company_name"] = "Please enter the company's registered name."
    elif len(name) > 200:
        errors["company_name"] = "Use at most 200 characters."
    check = check_availability(raw_uscc, name)
    if not check.uscc:
        errors["uscc"] = "Please enter the 18-character unified social credit code."
    elif check.uscc_error:
        errors["uscc"] = check.uscc_error
    if kind and kind not in COMPANY_KINDS:
        errors["kind"] = "Please choose a kind of organisation from the list."
    email, mobile = _validate_person(person, errors, name)
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    if check.uscc_taken_by is not None:
        raise DuplicateCompany(check.uscc_taken_by, "uscc")
    if check.name_taken_by is not None:
        raise DuplicateCompany(check.name_taken_by, "name")

    user = _create_user(person, email, mobile)
    company = Company(uscc=check.uscc, name_zh=name, kind=kind or check.kind, region_code=check.region_code,
                      contact_name=user.name, contact_email=email, contact_phone=mobile, industries=[])
    db.session.add(company)
    db.session.flush()
    membership = Membership(user_id=user.id, company_id=company.id, role=CompanyRole.OWNER, status="active")
    db.session.add(membership)
    db.session.flush()
    record("company.registered", "company", company.id, actor_user_id=user.id, actor_company_id=company.id,
           after=company.snapshot(), note="; ".join(check.warnings) or None)
    record("membership.created", "membership", membership.id, actor_user_id=user.id, actor_company_id=company.id,
           after={"user_id": user.id, "role": membership.role, "status": membership.status})
    return user, company


def request_to_join(company_id: int, *, user: User | None = None, person: NewPerson | None = None) -> Membership:
    """Ask to join a registered company: a pending membership that its owner or admin decides.

    Either an existing ``user`` asks, or a new ``person`` (from the sign-up form) gets an account first.
    """
    company = db.session.get(Company, company_id)
    if company is None or company.status != "active":
        raise NotFound("Not found")
    if user is None:
        if person is None:
            raise ValueError("need a user or a person")
        errors: dict[str, str] = {}
        email, mobile = _validate_person(person, errors, company.name_zh)
        if errors:
            raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
        user = _create_user(person, email, mobile)
    existing = db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.company_id == company.id)
    ).first()
    if existing is not None:
        raise Conflict("You already belong to this company or have asked to join it.")
    membership = Membership(user_id=user.id, company_id=company.id, role=CompanyRole.SALES, status="pending")
    db.session.add(membership)
    db.session.flush()
    record("membership.requested", "membership", membership.id, actor_user_id=user.id, actor_company_id=company.id,
           after={"user_id": user.id, "company_id": company.id, "status": "pending"})
    notify_company(company.id, "membership.requested", _l("%(name)s asks to join your company", name=user.name),
                   _l("Approve or decline the request on your company page."), public_url("accounts.company"),
                   roles=(CompanyRole.OWNER,))
    return membership


def _member(company_id: int, membership_id: int) -> Membership:
    membership = db.session.scalars(
        select(Membership).where(Membership.id == membership_id, Membership.company_id == company_id)
    ).first()
    if membership is None:
        raise NotFound("Not found")
    return membership


def _require_manager(actor: Membership) -> None:
    if actor.role not in MANAGERS or actor.status != "active":
        raise PermissionDenied("Only the company's owner or an admin can do this.")


def _owner_count(company_id: int) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(Membership.company_id == company_id,
                                                Membership.role == CompanyRole.OWNER,
                                                Membership.status == "active")
    ) or 0


def decide_join_request(actor: Membership, membership_id: int, *, approve: bool, role: str = CompanyRole.SALES
                        ) -> Membership:
    """The owner or an admin accepts (with a role) or declines a pending join request."""
    _require_manager(actor)
    membership = _member(actor.company_id, membership_id)
    if membership.status != "pending":
        raise Conflict("This request has already been decided.")
    if approve:
        _check_role_assignment(actor, role)
        MEMBERSHIP.move(membership, "active", actor_company_id=actor.company_id, action="membership.approved",
                        note=f"role={role}", role=role)
    else:
        record("membership.declined", "membership", membership.id, actor_company_id=actor.company_id,
               before={"status": "pending", "user_id": membership.user_id}, after=None)
        db.session.delete(membership)
    db.session.flush()
    return membership


def _check_role_assignment(actor: Membership, role: str) -> None:
    if role not in {r.value for r in CompanyRole}:
        raise ValidationFailed("Please choose a role from the list.", field_errors={"role": "Unknown role."})
    if role == CompanyRole.OWNER and actor.role != CompanyRole.OWNER:
        raise PermissionDenied("Only an owner can make someone an owner.")


def change_role(actor: Membership, membership_id: int, role: str) -> Membership:
    """Give a member another role. Admins cannot touch owners; the last owner stays an owner."""
    _require_manager(actor)
    membership = _member(actor.company_id, membership_id)
    _check_role_assignment(actor, role)
    if membership.role == CompanyRole.OWNER and actor.role != CompanyRole.OWNER:
        raise PermissionDenied("Only an owner can change an owner's role.")
    if membership.role == CompanyRole.OWNER and role != CompanyRole.OWNER and _owner_count(actor.company_id) <= 1:
        raise Conflict("The company needs at least one owner. Make someone else an owner first.")
    before = membership.role
    membership.role = role
    db.session.flush()
    record("membership.role_changed", "membership", membership.id, actor_company_id=actor.company_id,
           before={"role": before}, after={"role": role})
    return membership


def remove_member(actor: Membership, membership_id: int) -> None:
    """Remove someone from the company (or leave it yourself). The last owner cannot be removed."""
    membership = _member(actor.company_id, membership_id)
    if membership.id != actor.id:
        _require_manager(actor)
        if membership.role == CompanyRole.OWNER and actor.role != CompanyRole.OWNER:
            raise PermissionDenied("Only an owner can remove an owner.")
    if membership.role == CompanyRole.OWNER and membership.status == "active" and _owner_count(actor.company_id) <= 1:
        raise Conflict("The last owner cannot be removed. Make someone else an owner first.")
    record("membership.removed", "membership", membership.id, actor_company_id=actor.company_id,
           before={"user_id": membership.user_id, "role": membership.role, "status": membership.status})
    db.session.delete(membership)
    db.session.flush()


PROFILE_FIELDS = ("name_en", "address", "contact_name", "contact_phone", "contact_email", "region_code", "industries",
                  "kind")


def update_profile(actor: Membership, **changes: object) -> Company:
    """Edit the company profile (not its code or legal name, which verification vouches for)."""
    _require_manager(actor)
    company = actor.company
    errors: dict[str, str] = {}
    if "region_code" in changes and changes["region_code"] and not regions.is_shanxi_code(str(changes["region_code"])):
        errors["region_code"] = "Please choose a city or county in Shanxi."
    if "kind" in changes and changes["kind"] not in COMPANY_KINDS:
        errors["kind"] = "Please choose a kind of organisation from the list."
    if "industries" in changes and not set(changes["industries"] or []) <= {"coal", "metallurgy", "agriculture"}:  # type: ignore[arg-type]
        errors["industries"] = "Unknown industry."
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    before = {name: getattr(company, name) for name in PROFILE_FIELDS if name in changes}
    for name in PROFILE_FIELDS:
        if name in changes:
            value = changes[name]
            setattr(company, name, list(value) if name == "industries" else (normalise.fold(str(value)) or None))  # type: ignore[call-overload]
    db.session.flush()
    record("company.profile_updated", "company", company.id, actor_company_id=company.id, before=before,
           after={name: getattr(company, name) for name in before})
    return company


def memberships_of(user: User) -> list[Membership]:
    """A user's memberships (active and pending), for the company switcher."""
    return list(db.session.scalars(select(Membership).where(Membership.user_id == user.id)
                                   .options(selectinload(Membership.company)).order_by(Membership.id)))


def members_of(company_id: int) -> list[Membership]:
    """A company's memberships (active, pending, ...) with their users, for the members table."""
    return list(db.session.scalars(select(Membership).where(Membership.company_id == company_id)
                                   .options(selectinload(Membership.user))
                                   .order_by(Membership.status, Membership.id)))


def active_membership(user_id: int, company_id: int) -> Membership:
    """The user's active membership in ``company_id``; an unknown or foreign company is a 404."""
    membership = db.session.scalars(select(Membership).where(
        Membership.user_id == user_id, Membership.company_id == company_id, Membership.status == "active")).first()
    if membership is None:
        raise NotFound("Not found")
    return membership
