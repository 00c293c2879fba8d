"""In-app notifications (and a copy by email) for the people of a company."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from market.core.mail import send_mail
from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db


class Notification(db.Model):
    """A message to one user, shown in the notification list until read."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    url: Mapped[str | None] = mapped_column(String(300))
    read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)


def in_locale(text: object, locale: str) -> str:
    """Render a (lazy) translatable string in ``locale``; works in jobs and the CLI too."""
    with force_locale(locale):
        return str(text)


def notify_company(company_id: int, kind: str, subject: object, body: object = "", url: str | None = None,
                   *, roles: tuple[str, ...] = (), email: bool = True) -> int:
    """Notify every active member of a company (or those with ``roles``); returns how many.

    ``subject`` and ``body`` may be lazy strings (``lazy_gettext``): each person reads them in their own
    language (their saved locale, else the platform default, zh_CN).
    """
    from market.accounts.models import Membership, User

    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, Membership.status == "active", User.active.is_(True))
    )
    if roles:
        stmt = stmt.where(Membership.role.in_(("owner", "admin", *roles)))
    users = list(db.session.scalars(stmt))
    for user in users:
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        title, text = in_locale(subject, locale), in_locale(body, locale)
        db.session.add(Notification(user_id=user.id, company_id=company_id, kind=kind, subject=title, body=text,
                                    url=url))
        if email and user.email:
            send_mail(user.email, title, text + (f"\n\n{url}" if url else ""))
    db.session.flush()
    return len(users)


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(db.func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read.is_(False))
    ) or 0
