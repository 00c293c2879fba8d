"""In-app notifications (and a copy by email) for the people of a company.

A notification is stored as message ids with parameters (``Notification.message``) and rendered when it
is read, in the reader's language: a Chinese reader of an English-speaking colleague's notice reads
Chinese. Callers pass lazy strings (``lazy_gettext("Order %(number)s: %(event)s", number=..., event=
STATE_LABELS[...])``); a parameter that is itself a lazy string (a state label, a unit) is translated too.
A plain ``str`` is the user's own words (a reason, a title) and is shown as typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, select
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
    # {"s": subject message, "b": body message} (see to_message); None on rows written before messages were kept
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)

    @property
    def title(self) -> str:
        """The subject in the current (reader's) language."""
        return render(self.message.get("s")) if self.message else self.subject

    @property
    def text(self) -> str:
        """The body in the current (reader's) language."""
        return render(self.message.get("b")) if self.message else self.body


Message = dict[str, Any]


def to_message(value: object) -> Message | None:
    """A lazy string → ``{"m": msgid, "p": params}``; user text → ``{"t": text}``; nothing → None."""
    if isinstance(value, LazyString):
        msgid = str(value._args[0])
        return {"m": msgid, "p": {key: _param(v) for key, v in value._kwargs.items()}}
    if value is None or value == "":
        return None
    return {"t": str(value)}


def msgid(value: LazyString) -> str:
    """The untranslated (English) text of a lazy string, for audit notes and other records."""
    message = to_message(value) or {}
    if "t" in message:
        return str(message["t"])
    params = {k: v.get("m", v.get("t")) if isinstance(v, dict) else v for k, v in message.get("p", {}).items()}
    return message["m"] % params if params else message["m"]


def _param(value: object) -> Any:
    if isinstance(value, LazyString):
        return to_message(value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def render(message: Message | None) -> str:
    """A stored message in the current locale (the request's, or one set with ``force_locale``)."""
    if not message:
        return ""
    if "t" in message:
        return str(message["t"])
    params = {key: render(v) if isinstance(v, dict) else v for key, v in (message.get("p") or {}).items()}
    return gettext(message["m"], **params) if params else gettext(message["m"])


def message_ids(message: Message | None) -> list[str]:
    """Every msgid a message uses (its own and its parameters'): what a translator must cover."""
    if not message or "m" not in message:
        return []
    found = [message["m"]]
    for value in (message.get("p") or {}).values():
        if isinstance(value, dict):
            found.extend(message_ids(value))
    return found


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
    message = {"s": to_message(subject), "b": to_message(body)}
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for user in users:
        # the stored subject/body are a readable copy in the platform language (search, exports); pages
        # render ``message`` in the reader's language when it is read
        with force_locale(default):
            stored_title, stored_text = render(message["s"])[:200], render(message["b"])
        db.session.add(Notification(user_id=user.id, company_id=company_id, kind=kind, subject=stored_title,
                                    body=stored_text, url=url, message=message))
        if email and user.email:
            with force_locale(user.locale or default):  # mail is read as sent: the recipient's language now
                title, text = render(message["s"]), render(message["b"])
            send_mail(user.email, title, text + (f"\n\n{url}" if url else ""))
    db.session.flush()
    return len(users)


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(db.func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read.is_(False))
    ) or 0
