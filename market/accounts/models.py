"""The shared schema of companies, people and roles that every other package stands on."""

from __future__ import annotations

import enum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Integer, SmallInteger, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db


class CompanyKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户, USCC prefix 92
    FARMER_COOPERATIVE = "farmer_cooperative"  # 农民专业合作社, USCC prefix 93
    VILLAGE_COLLECTIVE = "village_collective"  # 村集体经济组织, USCC prefix N
    GOVERNMENT_AGENCY = "government_agency"  # 机关、事业单位, USCC prefix 1x (and A1 military public institutions)
    SOCIAL_ORGANISATION = "social_organisation"  # 社会团体、民办非企业单位、基金会, USCC prefix 5x
    OTHER_ORGANISATION = "other_organisation"  # every other authority: 2–4, 6–8, A9, Y (其他组织)
    SERVICE_PROVIDER = "service_provider"  # inspection agency, carrier, customs broker (an enterprise, 91)


class Industry(enum.StrEnum):
    COAL = "coal"
    METALLURGY = "metallurgy"
    AGRICULTURE = "agriculture"


class Verification(enum.IntEnum):
    """Trust tiers: what a company may do grows with what the platform knows about it."""

    L0_REGISTERED = 0  # browse, draft listings, post RFQs
    L1_VERIFIED = 1  # licence checked by an operator: may publish listings and receive payments
    L2_CREDIT_CHECKED = 2  # set by the credit hook


class CompanyRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    SALES = "sales"
    PURCHASING = "purchasing"
    FINANCE = "finance"


class PlatformRole(enum.StrEnum):
    OPERATOR = "operator"
    REGULATOR = "regulator"


class Company(db.Model):
    """A legal entity identified by its unified social credit code (USCC, GB 32100-2015)."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    # name_zh folded for the duplicate-name check (full-width, spaces, case): set by an event below
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default=CompanyKind.ENTERPRISE)
    industries: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)  # GB/T 2260
    address: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    verification_level: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")  # active | suspended
    # Denormalised from the credit hook so listings and search can show and sort by it (None: not yet rated).
    credit_score: Mapped[int | None] = mapped_column(SmallInteger)
    credit_grade: Mapped[str | None] = mapped_column(String(4))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    verified_at = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(back_populates="company")

    @property
    def display_name(self) -> str:
        return self.name_zh

    @property
    def is_verified(self) -> bool:
        return self.verification_level >= Verification.L1_VERIFIED

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit row records."""
        return {
            "uscc": self.uscc,
            "name_zh": self.name_zh,
            "kind": self.kind,
            "verification_level": self.verification_level,
            "status": self.status,
        }


class User(UserMixin, db.Model):
    """A person. Signs in with an email address or a mainland mobile number."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)  # argon2id
    platform_role: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    # Bumped on password change and at login: old sessions and reset links stop working.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        # The session stores id and version, so a password change signs out every other session.
        return f"{self.id}:{self.session_version}"

    @property
    def is_operator(self) -> bool:
        return self.platform_role == PlatformRole.OPERATOR

    @property
    def is_regulator(self) -> bool:
        return self.platform_role == PlatformRole.REGULATOR


class Membership(db.Model):
    """A user's role in a company. ``pending`` until the company's owner or admin accepts a join request."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")  # active | pending
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    company: Mapped[Company] = relationship(back_populates="memberships")


def company_name_key(name: str) -> str:
    """Fold a company name so that "山西 晋商（集团）" and "山西晋商(集团)" compare equal."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


@event.listens_for(Company, "before_insert")
@event.listens_for(Company, "before_update")
def _set_name_key(_mapper: Any, _connection: Any, company: Company) -> None:
    company.name_key = company_name_key(company.name_zh)


class VerificationRequest(db.Model):
    """A company's business licence, waiting for (or decided by) an operator: the way to L1."""

    __tablename__ = "verification_request"

    PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False)  # random file name under UPLOAD_DIR
    original_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(String(500))  # why it was rejected
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    decided_at = mapped_column(UTCDateTime())

    company: Mapped[Company] = relationship()


class Invitation(db.Model):
    """An emailed invitation to join a company with a role; the link carries a signed id."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending|accepted|revoked
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    accepted_at = mapped_column(UTCDateTime())

    company: Mapped[Company] = relationship()
