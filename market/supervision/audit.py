"""Reading the audit trail: filters and the page of rows an operator or regulator asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select

from market.accounts.models import Company, User
from market.core.audit import AuditLog
from market.core.timeutil import SHANGHAI
from market.extensions import db


@dataclass
class AuditFilter:
    """What the audit page may be filtered by; every field is optional."""

    action: str = ""  # prefix: "verification." finds every verification action
    object_type: str = ""
    object_id: str = ""
    actor: str = ""  # email, mobile or user id
    company: str = ""  # company id or USCC
    date_from: date | None = None  # Asia/Shanghai calendar days, inclusive
    date_to: date | None = None

    @classmethod
    def from_args(cls, args: dict[str, str]) -> AuditFilter:
        return cls(action=args.get("action", "").strip()[:80], object_type=args.get("object_type", "").strip()[:40],
                   object_id=args.get("object_id", "").strip()[:64], actor=args.get("actor", "").strip()[:254],
                   company=args.get("company", "").strip()[:18], date_from=_date(args.get("date_from")),
                   date_to=_date(args.get("date_to")))


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def audit_query(flt: AuditFilter) -> Select:
    """Newest first, narrowed by the filter. Unknown actors or companies match nothing."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if flt.action:
        escaped = flt.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditLog.action.like(escaped + "%", escape="\\"))
    if flt.object_type:
        stmt = stmt.where(AuditLog.object_type == flt.object_type)
    if flt.object_id:
        stmt = stmt.where(AuditLog.object_id == flt.object_id)
    if flt.actor:
        ids = select(User.id).where(or_(User.email == flt.actor.lower(), User.mobile == flt.actor))
        if flt.actor.isdigit() and len(flt.actor) < 10:
            ids = select(User.id).where(or_(User.id == int(flt.actor), User.mobile == flt.actor))
        stmt = stmt.where(AuditLog.actor_user_id.in_(ids))
    if flt.company:
        if flt.company.isdigit() and len(flt.company) < 10:
            stmt = stmt.where(AuditLog.actor_company_id == int(flt.company))
        else:
            stmt = stmt.where(AuditLog.actor_company_id.in_(select(Company.id).where(
                Company.uscc == flt.company.upper())))
    if flt.date_from:
        stmt = stmt.where(AuditLog.at >= _start_of(flt.date_from))
    if flt.date_to:
        stmt = stmt.where(AuditLog.at < _start_of(flt.date_to + timedelta(days=1)))
    return stmt


def object_types() -> list[str]:
    return list(db.session.scalars(select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)))


def names_for(rows: list[AuditLog]) -> tuple[dict[int, User], dict[int, Company]]:
    """The actors and companies a page of rows mentions, loaded in two queries."""
    user_ids = {r.actor_user_id for r in rows if r.actor_user_id}
    company_ids = {r.actor_company_id for r in rows if r.actor_company_id}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    companies = ({c.id: c for c in db.session.scalars(select(Company).where(Company.id.in_(company_ids)))}
                 if company_ids else {})
    return users, companies
