"""What a buyer's query means, in the trade's terms — shared by both backends and the results page.

Two steps, both driven by the vocabulary data (:mod:`catalog.search.vocabulary`):

* :func:`understand` (the page and the API, before searching) turns numbers with units and preference
  words into spec constraints: ``5500大卡`` → 热值 ≈ 5500 kcal/kg (a range), ``Φ20`` → 直径 = 20 mm,
  ``硫0.8`` → 全硫 ≤ 0.8 %, ``低硫`` → prefer low St,d. Each becomes a :class:`Chip` whose ``without`` is
  the query minus that fragment (the one-click "drop it"). Implausible values (Φ-5, 99999大卡) are
  left out with a note, never an error.
* :func:`expand` (inside each backend) turns the remaining text into clauses: AND of clauses, each an
  OR of options (the words typed, their synonyms and narrower kinds, a pinyin reading), each option an
  AND of tokens. Words in quotes ("电煤") are taken literally.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from catalog.search.analysis import normalise, query_tokens
from catalog.search.vocabulary import PreferRule, Snapshot, UnitRule

MAX_CLAUSES = 24
MAX_OPTIONS = 12
NUMBER = r"(-?\d+(?:\.\d+)?)"
QUOTES = re.compile(r"[\"“”「」『』]([^\"“”「」『』]*)[\"“”「」『』]")

Clause = list[list[str]]  # options (OR), each a list of tokens (AND)


@dataclass
class Chip:
    """One thing the query was understood to mean, and the query without it."""

    key: str
    label_zh: str
    label_en: str
    without: str

    def label(self, locale: str) -> str:
        return self.label_en if str(locale).startswith("en") else self.label_zh


@dataclass
class Note:
    """A number that was not used as a filter because it is outside the plausible range."""

    text: str
    low: str
    high: str
    unit: str


@dataclass
class Understanding:
    text: str  # what is left for full-text search
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    prefer: dict[str, tuple[str, float, float]] = field(default_factory=dict)  # key → (low|high, scale lo, hi)
    chips: list[Chip] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # values the page explains it did not use


def _fmt(value: float) -> str:
    return f"{value:g}"


def _is_ascii_word(text: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]+", text))


@lru_cache(maxsize=8)
def _unit_pattern(snapshot: Snapshot) -> re.Pattern[str] | None:
    parts = []
    for word in sorted(snapshot.prefixes, key=len, reverse=True):
        guard = r"(?<![a-z0-9])" if _is_ascii_word(word) else ""
        parts.append(rf"{guard}(?P<p{len(parts)}>{re.escape(word)})\s*{NUMBER}(?![a-z0-9.])")
    for word in sorted(snapshot.suffixes, key=len, reverse=True):
        guard = r"(?![a-z0-9])" if _is_ascii_word(word) else ""
        parts.append(rf"(?<![a-z0-9.]){NUMBER}\s*(?P<s{len(parts)}>{re.escape(word)}){guard}")
    return re.compile("|".join(parts)) if parts else None


def _unit_rule(snapshot: Snapshot, match: re.Match[str]) -> tuple[UnitRule, str, str]:
    """(rule, unit word, number text) of a unit match."""
    for name, value in match.groupdict().items():
        if value is not None:
            rule = (snapshot.prefixes if name[0] == "p" else snapshot.suffixes)[value]
            numbers = [g for g in match.groups() if g is not None and g != value]
            return rule, value, numbers[0]
    raise LookupError(match.group(0))


def understand(text: str, snapshot: Snapshot) -> Understanding:
    """Spec constraints and preferences stated in ``text`` (see the module docstring)."""
    original = " ".join((text or "").split())
    work = normalise(original)
    result = Understanding(text=original)
    spans: list[tuple[int, int]] = []
    pattern = _unit_pattern(snapshot)
    for match in pattern.finditer(work) if pattern else ():
        rule, word, number = _unit_rule(snapshot, match)
        value = float(number)
        plausible = math.isfinite(value) and (rule.low is None or value >= rule.low) and (
            rule.high is None or value <= rule.high)
        if not plausible:
            if not _is_ascii_word(word):  # Q235 is a steel grade, not 235 kcal: say nothing of Latin prefixes
                result.notes.append(Note(match.group(0), _fmt(rule.low or 0), _fmt(rule.high or 0), rule.unit))
            continue
        if rule.spec_key in result.ranges:
            continue  # the first statement of a spec wins
        low, high, sign = {"near": (value - rule.tolerance, value + rule.tolerance, "≈"),
                           "equal": (value, value, "="), "max": (None, value, "≤"),
                           "min": (value, None, "≥")}.get(rule.mode, (value, value, "="))
        result.ranges[rule.spec_key] = (low, high)
        spans.append(match.span())
        shown = f"{sign} {_fmt(value)} {rule.unit}".rstrip()
        result.chips.append(Chip(f"spec.{rule.spec_key}", f"{rule.label_zh} {shown}", f"{rule.label_en} {shown}",
                                 _cut(work, [match.span()])))
    for word, preference in sorted(snapshot.prefer.items(), key=lambda kv: -len(kv[0])):
        at = work.find(word)
        if at < 0 or any(start <= at < end for start, end in spans) or preference.spec_key in result.prefer:
            continue
        spans.append((at, at + len(word)))
        result.prefer[preference.spec_key] = (preference.mode, preference.low, preference.high)
        result.chips.append(_prefer_chip(word, preference, _cut(work, [(at, at + len(word))])))
    result.text = _cut(work, spans) if spans else original
    return result


def _prefer_chip(word: str, rule: PreferRule, without: str) -> Chip:
    arrow_zh = "从低到高" if rule.mode == "low" else "从高到低"
    arrow_en = "lowest first" if rule.mode == "low" else "highest first"
    return Chip(f"prefer.{rule.spec_key}", f"{word}：{rule.label_zh}{arrow_zh}", f"{word}: {rule.label_en}, {arrow_en}",
                without)


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        out.append(" ")
        last = max(last, end)
    out.append(text[last:])
    return " ".join("".join(out).split())


@lru_cache(maxsize=8)
def _phrase_pattern(snapshot: Snapshot) -> re.Pattern[str] | None:
    parts = []
    for phrase in sorted(snapshot.groups, key=len, reverse=True):
        if re.fullmatch(r"[a-z0-9 ./-]+", phrase):
            parts.append(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")
        else:
            parts.append(re.escape(phrase))
    return re.compile("|".join(parts)) if parts else None


def _options(phrase: str, snapshot: Snapshot) -> Clause:
    options = [query_tokens(phrase)]
    for other in sorted(snapshot.groups.get(phrase, ())):
        options.append(query_tokens(other))
    return [list(o) for o in dict.fromkeys(tuple(o) for o in options if o)][:MAX_OPTIONS]


def expand(text: str, snapshot: Snapshot) -> tuple[list[Clause], list[str]]:
    """``text`` as clauses (see the module docstring) and every token in them (for highlighting)."""
    work = normalise(text)
    clauses: list[Clause] = []
    literal = [m.group(1) for m in QUOTES.finditer(work)]
    work = QUOTES.sub(" ", work)
    for part in literal:
        clauses += [[[token]] for token in query_tokens(part)]
    pattern = _phrase_pattern(snapshot)
    if pattern is not None:
        for match in pattern.finditer(work):
            clauses.append(_options(match.group(0), snapshot))
        work = pattern.sub(" ", work)
    if snapshot.pinyin:
        work = _pinyin(work, snapshot, clauses)
    clauses += [[[token]] for token in query_tokens(work)]
    unique: list[Clause] = []
    for clause in clauses:
        clause = [list(option) for option in clause if option]
        if clause and clause not in unique:
            unique.append(clause)
    unique = unique[:MAX_CLAUSES]
    tokens = list(dict.fromkeys(token for clause in unique for option in clause for token in option))
    return unique, tokens


def _pinyin(work: str, snapshot: Snapshot, clauses: list[Clause]) -> str:
    """Runs of Latin words that spell a vocabulary word in pinyin (``dongli mei``, ``dlm``) become a
    clause: the letters as typed, or the Chinese word and what it finds."""

    def replace(match: re.Match[str]) -> str:
        words, kept, start = match.group(0).split(), [], 0
        while start < len(words):
            for end in range(len(words), start, -1):  # the longest run of words that spells one
                word = snapshot.pinyin.get("".join(words[start:end]))
                if word is not None:
                    clause = [query_tokens(" ".join(words[start:end])), *_options(word, snapshot)]
                    clauses.append([option for option in clause if option][:MAX_OPTIONS])
                    start = end
                    break
            else:
                kept.append(words[start])
                start += 1
        return " " + " ".join(kept) + " "

    return re.sub(r"(?<![a-z0-9])[a-z]+(?: [a-z]+)*(?![a-z0-9])", replace, work)
