"""Outgoing mail behind one small protocol. ``MAIL_BACKEND``: file (default), console, smtp, memory.

Mail is sent by the worker (job ``mail.send``), so a rolled-back request never sends anything.
"""

from __future__ import annotations

import json
import smtplib
import sys
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flask import current_app

from market.core.jobs import enqueue, handler
from market.core.timeutil import utcnow


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class MailBackend(Protocol):
    """Delivers one message or raises."""

    def send(self, mail: Mail) -> None: ...


class FileBackend:
    """Writes each message as a JSON file under ``MAIL_DIR`` (read them to follow reset/invite links)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, mail: Mail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        (self.folder / f"{stamp}.json").write_text(json.dumps(asdict(mail), ensure_ascii=False, indent=1))


class ConsoleBackend:
    def send(self, mail: Mail) -> None:
        print(f"--- mail to {mail.to}: {mail.subject}\n{mail.body}\n---", file=sys.stderr)


class MemoryBackend:
    """Test double: keeps messages in ``outbox``."""

    outbox: list[Mail] = []  # noqa: RUF012  (shared on purpose: tests read it after the worker ran)

    def send(self, mail: Mail) -> None:
        self.outbox.append(mail)


class SMTPBackend:
    def __init__(self, host: str, port: int, user: str, password: str, starttls: bool, sender: str) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.sender = starttls, sender

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, mail.to, mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def backend() -> MailBackend:
    config = current_app.config
    name = config["MAIL_BACKEND"]
    if name == "file":
        return FileBackend(config["MAIL_DIR"])
    if name == "console":
        return ConsoleBackend()
    if name == "memory":
        return MemoryBackend()
    if name == "smtp":
        return SMTPBackend(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_USER"], config["SMTP_PASSWORD"],
                           config["SMTP_STARTTLS"], config["MAIL_FROM"])
    raise ValueError(f"unknown MAIL_BACKEND {name!r}")


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a message; the worker delivers it after the transaction commits."""
    enqueue("mail.send", to=to, subject=subject, body=body)


@handler("mail.send")
def _deliver(to: str, subject: str, body: str) -> None:
    backend().send(Mail(to=to, subject=subject, body=body))
