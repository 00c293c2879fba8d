"""Factories for companies, users and memberships."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient
from sqlalchemy import inspect

from market.accounts import uscc
from market.accounts.models import Company, CompanyKind, CompanyRole, Membership, User, Verification
from market.accounts.passwords import hash_password
from market.extensions import db

__all__ = ["PASSWORD", "login", "make_company", "make_member", "make_staff", "make_user", "valid_uscc"]

PASSWORD = "Pingyao-ancient-city-1823"
_counter = itertools.count(1)
_PREFIX = {
    CompanyKind.ENTERPRISE: "91",
    CompanyKind.INDIVIDUAL_BUSINESS: "92",
    CompanyKind.FARMER_COOPERATIVE: "93",
    CompanyKind.VILLAGE_COLLECTIVE: "N2",
    CompanyKind.GOVERNMENT_AGENCY: "11",
    CompanyKind.SERVICE_PROVIDER: "91",
}


def valid_uscc(prefix: str = "91", region: str = "140200") -> str:
    """A fresh code with a correct check character."""
    return uscc.make(prefix, region, f"{next(_counter):08d}X")


def make_company(
    name: str | None = None,
    *,
    kind: str = CompanyKind.ENTERPRISE,
    verified: bool = True,
    industries: tuple[str, ...] = ("coal",),
    region_code: str = "140200",
    **fields: object,
) -> Company:
    n = next(_counter)
    company = Company(
        uscc=fields.pop("uscc", None) or valid_uscc(_PREFIX[CompanyKind(kind)], region_code),
        name_zh=name or f"测试企业{n}有限公司",
        name_en=f"Test Company {n}",
        kind=kind,
        industries=list(industries),
        region_code=region_code,
        verification_level=Verification.L1_VERIFIED if verified else Verification.L0_REGISTERED,
        **fields,
    )
    db.session.add(company)
    db.session.flush()
    return company


def make_user(email: str | None = None, *, password: str = PASSWORD, **fields: object) -> User:
    n = next(_counter)
    user = User(email=email or f"user{n}@example.cn", name=fields.pop("name", f"用户{n}"),
                password_hash=hash_password(password), **fields)
    db.session.add(user)
    db.session.flush()
    return user


def make_member(company: Company | None = None, role: str = CompanyRole.OWNER, **user_fields: object) -> User:
    """A user who is an active member of ``company`` (a new verified one if not given)."""
    company = company or make_company()
    user = make_user(**user_fields)
    db.session.add(Membership(user_id=user.id, company_id=company.id, role=role, status="active"))
    db.session.flush()
    return user


def make_staff(role: str = "operator") -> User:
    return make_user(platform_role=role)


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    """Sign in through the real login form (commits first so the request sees the user)."""
    # After an earlier request the object may be detached (each request ends the session): look it up again.
    email = db.session.get(User, inspect(user).identity[0]).email
    # commit AFTER the lookup: on SQLite an open transaction here holds the write lock the request needs
    db.session.commit()
    response = client.post("/login", data={"identifier": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
