"""Outgoing mail behind one small protocol. ``MAIL_BACKEND``: file (default), console, smtp, memory.

Mail is sent by the worker (job ``mail.send``), so a rolled-back request never sends anything.

A worker killed after sending but before its job committed runs the job again (see ``market.core.jobs``).
Each message therefore carries a key made when it was queued: the file and memory backends keep one
message per key (exactly once), SMTP sends a deterministic ``Message-ID`` so mail clients collapse a
repeat — on the wire SMTP stays at-least-once, as no SMTP server can tell us what it already accepted.
The console backend is for development and may print twice.
"""

from __future__ import annotations

import json
import smtplib
import sys
import uuid
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flask import current_app

from market.core.jobs import current_job_id, enqueue, handler
from market.core.timeutil import utcnow


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    key: str = ""  # idempotency key: the same key is delivered once where the backend can tell


class MailBackend(Protocol):
    """Delivers one message or raises."""

    def send(self, mail: Mail) -> None: ...


class FileBackend:
    """Writes each message as a JSON file under ``MAIL_DIR`` (read them to follow reset/invite links)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, mail: Mail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if mail.key and any(self.folder.glob(f"*-{mail.key}.json")):
            return  # delivered by an earlier run of the same job
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{mail.key}.json" if mail.key else f"{stamp}.json"
        # write then rename: a worker killed mid-write leaves no half message that would block the retry
        partial = self.folder / f".{name}.tmp"
        partial.write_text(json.dumps(asdict(mail), ensure_ascii=False, indent=1))
        partial.replace(self.folder / name)


class ConsoleBackend:
    def send(self, mail: Mail) -> None:
        print(f"--- mail to {mail.to}: {mail.subject}\n{mail.body}\n---", file=sys.stderr)


class MemoryBackend:
    """Test double: keeps messages in ``outbox``."""

    outbox: list[Mail] = []  # noqa: RUF012  (shared on purpose: tests read it after the worker ran)

    def send(self, mail: Mail) -> None:
        if mail.key and any(sent.key == mail.key for sent in self.outbox):
            return
        self.outbox.append(mail)


class SMTPBackend:
    def __init__(self, host: str, port: int, user: str, password: str, starttls: bool, sender: str) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.sender = starttls, sender

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, mail.to, mail.subject
        if mail.key:
            domain = self.sender.rpartition("@")[2] or "jinshang.invalid"
            message["Message-ID"] = f"<{mail.key}@{domain}>"
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
    enqueue("mail.send", to=to, subject=subject, body=body, key=uuid.uuid4().hex)


@handler("mail.send")
def _deliver(to: str, subject: str, body: str, key: str = "") -> None:
    # ``key`` is made when the mail is queued (jobs queued before keys existed fall back to the job id)
    key = key or (f"job{current_job_id()}" if current_job_id() else "")
    backend().send(Mail(to=to, subject=subject, body=body, key=key))
