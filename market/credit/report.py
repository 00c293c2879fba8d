"""The credit hook's vocabulary: a report, its factors, the provider protocol and the grade scale.

A :class:`CreditReport` is plain data so that it can be stored as a snapshot, compared in tests and
rendered in any language later: factor texts are English msgids with parameters, translated when shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

# The scale used by Chinese enterprise credit ratings (企业信用等级), best first, with the lowest score
# that earns each grade. A score of 0–100 maps to exactly one grade.
GRADES: tuple[tuple[str, int], ...] = (
    ("AAA", 90), ("AA", 80), ("A", 70), ("BBB", 60), ("BB", 50), ("B", 40), ("CCC", 30), ("CC", 20), ("C", 0),
)
GRADE_NAMES: tuple[str, ...] = tuple(name for name, _ in GRADES)


def N_(message: str) -> str:
    """Mark a string for translation without translating it now (it is stored, then shown translated)."""
    return message


SOURCE_LABELS = {"internal": N_("platform trading history"), "bureau": N_("credit bureau"), "none": N_("no source")}


def source_label(name: str) -> str:
    """A provider's name for people, translated in a request (the provider's own name if unknown)."""
    from flask import has_request_context
    from flask_babel import gettext

    label = SOURCE_LABELS.get(name, name)
    return gettext(label) if has_request_context() and name in SOURCE_LABELS else label


def grade_for(score: int | None) -> str | None:
    """The grade of a 0–100 score; None stays None (not yet rated)."""
    if score is None:
        return None
    if not 0 <= score <= 100:
        raise ValueError(f"score out of range: {score}")
    for name, floor in GRADES:
        if score >= floor:
            return name
    raise AssertionError("unreachable: the last grade starts at 0")


def grade_rank(grade: str | None) -> int:
    """Orderable rank of a grade: AAA is highest; None (not rated) ranks below C."""
    if grade is None:
        return -1
    return len(GRADE_NAMES) - 1 - GRADE_NAMES.index(grade)


@dataclass(frozen=True)
class Factor:
    """One thing that moved the score.

    ``points`` is what the factor contributed (negative for a penalty), ``weight`` the most it can add
    (or take away). ``explanation`` and ``advice`` are English msgids formatted with ``params``.
    """

    code: str
    label: str
    points: float
    weight: float
    explanation: str
    params: dict[str, Any] = field(default_factory=dict)
    advice: str = ""

    @property
    def is_penalty(self) -> bool:
        return self.points < 0


@dataclass(frozen=True)
class Note:
    """A remark on a report (e.g. why it is not rated, or that a provider was down): msgid + parameters."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreditReport:
    """What a provider says about one company at one time. ``score`` None means not yet rated."""

    score: int | None
    grade: str | None
    source: str
    as_of: datetime
    factors: tuple[Factor, ...] = ()
    notes: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        if self.score is not None and not 0 <= self.score <= 100:
            raise ValueError(f"score out of range: {self.score}")
        if grade_for(self.score) != self.grade:
            raise ValueError(f"grade {self.grade!r} does not match score {self.score!r}")
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")

    @property
    def rated(self) -> bool:
        return self.score is not None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form for storage in a snapshot."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["factors"] = [asdict(f) for f in self.factors]
        data["notes"] = [asdict(n) for n in self.notes]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreditReport:
        return cls(
            score=data["score"],
            grade=data["grade"],
            source=data["source"],
            as_of=datetime.fromisoformat(data["as_of"]),
            factors=tuple(Factor(**f) for f in data.get("factors", ())),
            notes=tuple(Note(**n) for n in data.get("notes", ())),
        )


class ProviderUnavailable(Exception):
    """A provider could not answer now (timeout, 5xx, malformed answer). The hook falls back."""


@dataclass(frozen=True)
class CompanyRef:
    """What a provider may know of a company: our id and its USCC (what bureaus key on)."""

    id: int
    uscc: str
    verification_level: int
    created_at: datetime


@runtime_checkable
class CreditProvider(Protocol):
    """A source of credit reports. ``name`` is how ``CREDIT_PROVIDERS`` selects it.

    ``report`` returns a report (``score`` None if this provider cannot rate the company yet) or raises
    :class:`ProviderUnavailable` when it cannot answer at all; it must never return a made-up score.
    """

    name: str

    def report(self, company: CompanyRef, now: datetime) -> CreditReport: ...
