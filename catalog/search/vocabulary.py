"""The trade's vocabulary as data: synonyms, narrower kinds, units and preferences, edited by operators.

Rows live in the ``search_vocabulary`` table (``/operator/vocabulary``); ``vocabulary.tsv`` beside this
module holds the defaults that ``jinshang vocabulary-seed`` and the demo load. Both search backends
read the same :class:`Snapshot` (see :mod:`catalog.search.understand`), which a process rebuilds when
the table changes (checked at most every ``CHECK_SECONDS``).

Pinyin keys (全拼 and 首字母, e.g. ``donglimei`` and ``dlm`` for 动力煤) are computed with pypinyin when
a row is saved and stored in the row, so web processes never load pypinyin's dictionaries.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from flask import has_app_context
from pydantic import BeforeValidator
from sqlalchemy import Boolean, Float, Integer, String, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from market.core import audit
from market.core.timeutil import UTCDateTime, utcnow
from market.core.validation import BoundedDecimal, FormModel, Text, _blank_to_none, parse
from market.extensions import db

KINDS = ("synonym", "narrower", "suffix", "prefix", "prefer")
UNIT_MODES = ("near", "equal", "max", "min")
PREFER_MODES = ("low", "high")
DEFAULTS_FILE = Path(__file__).with_name("vocabulary.tsv")
COLUMNS = ("kind", "term", "expansion", "spec_key", "mode", "low", "high", "tolerance", "label_zh", "label_en",
           "unit")
CHECK_SECONDS = 5.0


class VocabularyEntry(db.Model):
    """One row of the trade vocabulary (see the module docstring and ``vocabulary.tsv``)."""

    __tablename__ = "search_vocabulary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    term: Mapped[str] = mapped_column(String(60), nullable=False)
    expansion: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    spec_key: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    mode: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
    label_zh: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    label_en: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    pinyin: Mapped[str] = mapped_column(String(400), nullable=False, default="")  # computed on save
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    def members(self) -> list[str]:
        """The term and its alternatives, normalised."""
        from catalog.search.analysis import normalise

        words = [self.term, *self.expansion.split("|")] if self.kind in ("synonym", "narrower") else [self.term]
        return [" ".join(normalise(w).split()) for w in words if w.strip()]


def pinyin_keys(words: Iterable[str]) -> str:
    """``donglimei dlm`` for 动力煤: full pinyin and initials of each Chinese word (pypinyin)."""
    from pypinyin import Style, lazy_pinyin

    from catalog.search.analysis import is_cjk

    keys: list[str] = []
    for word in words:
        if not word or not all(is_cjk(ch) for ch in word) or len(word) < 2:
            continue
        keys.append("".join(lazy_pinyin(word)))
        keys.append("".join(lazy_pinyin(word, style=Style.FIRST_LETTER)))
    return " ".join(dict.fromkeys(k.lower() for k in keys if k.isascii() and k.isalpha()))


def read_defaults(path: Path = DEFAULTS_FILE) -> list[dict[str, Any]]:
    """The rows of the defaults file as dicts of :data:`COLUMNS` (numbers parsed)."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in csv.reader((row for row in handle if row.strip() and not row.startswith("#")), delimiter="\t"):
            values = dict(zip(COLUMNS, [*line, *[""] * len(COLUMNS)], strict=False))
            for key in ("low", "high", "tolerance"):
                values[key] = float(values[key]) if values[key].strip() else None
            rows.append(values)
    return rows


def save_entry(entry: VocabularyEntry) -> VocabularyEntry:
    """Validate ``entry``, compute its pinyin keys and add it to the session (the caller commits)."""
    from market.core.errors import ValidationFailed

    errors: dict[str, str] = {}
    if entry.kind not in KINDS:
        errors["kind"] = "Choose a kind."
    if not entry.term.strip():
        errors["term"] = "Enter the word buyers type."
    if entry.kind in ("suffix", "prefix", "prefer") and not entry.spec_key.strip():
        errors["spec_key"] = "Name the spec key (e.g. qnet_ar)."
    if entry.kind in ("suffix", "prefix") and entry.mode not in UNIT_MODES:
        errors["mode"] = "Choose near, equal, max or min."
    if entry.kind == "prefer" and entry.mode not in PREFER_MODES:
        errors["mode"] = "Choose low or high."
    if entry.kind in ("synonym", "narrower") and not entry.expansion.strip():
        errors["expansion"] = "Enter at least one alternative."
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    entry.term = entry.term.strip()
    entry.pinyin = pinyin_keys(entry.members()) if entry.kind in ("synonym", "narrower") else ""
    db.session.add(entry)
    db.session.flush()
    return entry


_Number = Annotated[BoundedDecimal(ge=-10**9, le=10**9, places=4) | None, BeforeValidator(_blank_to_none)]


class VocabularyForm(FormModel):
    """An operator's vocabulary row: lengths as the columns hold them; finite, bounded numbers."""

    kind: Text(12, min_length=1)
    term: Text(60, min_length=1)
    expansion: Text(400) = ""
    spec_key: Text(40) = ""
    mode: Text(8) = ""
    low: _Number = None
    high: _Number = None
    tolerance: _Number = None
    label_zh: Text(40) = ""
    label_en: Text(60) = ""
    unit: Text(20) = ""


def add_entry(form: dict[str, str], actor_user_id: int) -> VocabularyEntry:
    """An operator's new row from form text (numbers parsed), validated and audited."""

    data = parse(VocabularyForm, form)  # lengths as the columns hold them; finite, bounded numbers
    values: dict[str, Any] = data.model_dump()
    for key in ("low", "high", "tolerance"):
        values[key] = float(values[key]) if values[key] is not None else None
    entry = save_entry(VocabularyEntry(**values))
    audit.record("search.vocabulary.add", "search_vocabulary", entry.id, actor_user_id=actor_user_id,
                 after={"kind": entry.kind, "term": entry.term, "expansion": entry.expansion})
    return entry


def _get(entry_id: int) -> VocabularyEntry:
    from market.core.errors import NotFound

    entry = db.session.get(VocabularyEntry, entry_id)
    if entry is None:
        raise NotFound("Vocabulary row not found")
    return entry


def toggle_entry(entry_id: int, actor_user_id: int) -> VocabularyEntry:
    """Switch a row off (or on again) without losing it."""
    entry = _get(entry_id)
    entry.enabled = not entry.enabled
    audit.record("search.vocabulary.toggle", "search_vocabulary", entry.id, actor_user_id=actor_user_id,
                 after={"enabled": entry.enabled})
    db.session.flush()
    return entry


def delete_entry(entry_id: int, actor_user_id: int) -> None:
    """Delete a row (audited with what it said)."""
    entry = _get(entry_id)
    audit.record("search.vocabulary.delete", "search_vocabulary", entry.id, actor_user_id=actor_user_id,
                 before={"kind": entry.kind, "term": entry.term, "expansion": entry.expansion})
    db.session.delete(entry)
    db.session.flush()


def seed_vocabulary() -> int:
    """Add the default rows that are missing (by kind and term); returns how many were added."""
    existing = {(kind, term) for kind, term in db.session.execute(
        select(VocabularyEntry.kind, VocabularyEntry.term))}
    added = 0
    for values in read_defaults():
        if (values["kind"], values["term"]) in existing:
            continue
        save_entry(VocabularyEntry(**values))
        existing.add((values["kind"], values["term"]))
        added += 1
    return added


@dataclass
class UnitRule:
    spec_key: str
    mode: str
    low: float | None
    high: float | None
    tolerance: float
    label_zh: str
    label_en: str
    unit: str


@dataclass
class PreferRule:
    spec_key: str
    mode: str  # low | high
    low: float
    high: float
    label_zh: str
    label_en: str


@dataclass(eq=False)  # hashed by identity: compiled patterns are cached per snapshot
class Snapshot:
    """The vocabulary compiled for query understanding (immutable once built)."""

    version: tuple[Any, ...] = ()
    groups: dict[str, set[str]] = field(default_factory=dict)  # phrase → phrases it also finds
    suffixes: dict[str, UnitRule] = field(default_factory=dict)
    prefixes: dict[str, UnitRule] = field(default_factory=dict)
    prefer: dict[str, PreferRule] = field(default_factory=dict)
    pinyin: dict[str, str] = field(default_factory=dict)  # key → the Chinese word

    @classmethod
    def build(cls, entries: Iterable[Any], version: tuple[Any, ...] = ()) -> Snapshot:
        snap = cls(version=version)
        for entry in entries:
            if not getattr(entry, "enabled", True):
                continue
            members = entry.members()
            if not members:
                continue
            if entry.kind == "synonym":
                for word in members:
                    snap.groups.setdefault(word, set()).update(m for m in members if m != word)
            elif entry.kind == "narrower":
                snap.groups.setdefault(members[0], set()).update(members[1:])
            elif entry.kind in ("suffix", "prefix"):
                rule = UnitRule(entry.spec_key, entry.mode, entry.low, entry.high, entry.tolerance or 0.0,
                                entry.label_zh, entry.label_en, entry.unit)
                (snap.suffixes if entry.kind == "suffix" else snap.prefixes)[members[0]] = rule
            elif entry.kind == "prefer":
                snap.prefer[members[0]] = PreferRule(entry.spec_key, entry.mode, entry.low or 0.0,
                                                     entry.high if entry.high is not None else 1.0,
                                                     entry.label_zh, entry.label_en)
            if entry.kind in ("synonym", "narrower"):
                cjk = [m for m in members if not m.isascii()]
                for key in (entry.pinyin or "").split():
                    if cjk and len(key) >= 2:
                        snap.pinyin.setdefault(key, cjk[0])
        return snap


class _Cache:
    lock = threading.Lock()
    snapshot: Snapshot | None = None
    checked = 0.0


def current() -> Snapshot:
    """This process's vocabulary, rebuilt when the table changed (looked at every ``CHECK_SECONDS``)."""
    now = time.monotonic()
    snap = _Cache.snapshot
    if snap is not None and now - _Cache.checked < CHECK_SECONDS:
        return snap
    if not has_app_context():  # a thread without the app (benchmarks, tests): the last known vocabulary
        return snap or Snapshot()
    with _Cache.lock:
        try:
            version = tuple(db.session.execute(
                select(func.count(VocabularyEntry.id), func.max(VocabularyEntry.updated_at),
                       func.sum(VocabularyEntry.id))).one())
            if _Cache.snapshot is None or _Cache.snapshot.version != version:
                entries = db.session.scalars(select(VocabularyEntry).order_by(VocabularyEntry.id)).all()
                _Cache.snapshot = Snapshot.build(entries, version)
        except SQLAlchemyError:  # no table yet (an old database before its migration): no vocabulary
            db.session.rollback()
            _Cache.snapshot = _Cache.snapshot or Snapshot()
        _Cache.checked = now
        return _Cache.snapshot


def forget() -> None:
    """Make the next :func:`current` re-read the table (after an edit in this process; tests)."""
    _Cache.checked = 0.0
    _Cache.snapshot = None
