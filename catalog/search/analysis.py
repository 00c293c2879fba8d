"""Text analysis shared by every search backend: jieba segmentation, normalisation, highlighting.

The same :func:`tokenize` runs at index time and at query time, so 动力煤 in a query meets 动力煤 in
山西大同优质动力煤. In ``index`` mode each multi-character Chinese word also yields its single
characters, so a one-character query (煤, 枣) still finds longer words; queries are not split further,
which keeps multi-word queries precise.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import jieba
from markupsafe import Markup, escape
from whoosh.analysis import Token, Tokenizer

# Trade words jieba's general dictionary splits (so 动力煤 stays one token next to 动力 and 煤).
TRADE_WORDS = (
    "动力煤", "主焦煤", "焦煤", "肥煤", "气煤", "瘦煤", "无烟煤", "喷吹煤", "焦炭", "冶金焦", "末煤", "块煤", "洗精煤",
    "螺纹钢", "线材", "盘螺", "热轧卷板", "中厚板", "生铁", "铸造生铁", "炼钢生铁", "铁合金", "硅铁", "硅锰",
    "金属镁", "镁锭", "铝锭", "电解铝", "小米", "沁州黄", "高粱", "燕麦", "莜麦", "荞麦", "苦荞", "绿豆", "核桃",
    "汾州核桃", "红枣", "骏枣", "板枣", "苹果", "红富士", "马铃薯", "老陈醋", "陈醋", "发热量", "全硫", "灰分",
    "挥发分", "粘结指数", "大同", "朔州", "吕梁", "汾阳", "孝义", "柳林", "古交", "沁县", "临县", "平遥", "清徐",
)
STOPWORDS = frozenset({"的", "了", "和", "与", "及", "或", "等", "是", "在", "a", "an", "and", "or", "the", "of",
                       "for", "to", "in", "on", "with", "by", "at", "from", "is", "are", "not"})
GRADE_SUFFIX = re.compile(r"([a-z]{1,5}\d{2,4})[a-z]{1,2}")  # hrb400e → hrb400, q235b → q235
MIN_LATIN = 2  # single Latin letters ("d" of "St,d") carry no meaning on their own

log = logging.getLogger(__name__)
_ready = threading.Lock()
_initialised = False


def _ensure_jieba() -> None:
    global _initialised
    if _initialised:
        return
    with _ready:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            for word in TRADE_WORDS:
                jieba.add_word(word, freq=20000)
            _initialised = True


def warm_up() -> None:
    """Load the segmenter's dictionary now rather than on a process's first search."""
    _ensure_jieba()


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def is_latin_word(token: str) -> bool:
    """A word of Latin letters only: typo tolerance applies to these, never to codes such as Q5500 or
    HRB400E, where one character is a different grade."""
    return bool(re.fullmatch(r"[a-z]+", token))


def _meaningful(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def normalise(text: str) -> str:
    """NFKC (full-width Ｑ５５００ → Q5500), lower case, no control characters."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).lower()


def tokenize(text: str, mode: str = "query") -> list[str]:
    """Segment ``text`` into search tokens. ``mode`` is ``"index"`` or ``"query"`` (see module doc)."""
    _ensure_jieba()
    tokens: list[str] = []
    for raw in jieba.cut_for_search(normalise(text)[:20000]):
        token = raw.strip().strip(".,;:!?'\"()[]{}<>/\\|-_+*=~`@#$^&")
        if not token or token in STOPWORDS or not _meaningful(token):
            continue
        if token.isascii() and token.isalpha() and len(token) < MIN_LATIN:
            continue
        tokens.append(token[:60])
        if mode == "index" and len(token) > 1 and all(is_cjk(ch) for ch in token):
            tokens.extend(token)
        elif mode == "index" and (grade := GRADE_SUFFIX.fullmatch(token)):
            tokens.append(grade.group(1))  # HRB400E is also an HRB400, Q235B a Q235: the base grade finds it
    return tokens


def query_tokens(text: str) -> list[str]:
    """The distinct query tokens, in order (a repeated word does not narrow a search)."""
    return list(dict.fromkeys(tokenize(text, "query")))[:24]


class JiebaTokenizer(Tokenizer):
    """A Whoosh tokenizer over :func:`tokenize` (the index stores its pickled schema: keep this importable)."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for offset, text in enumerate(tokenize(value, "index" if mode == "index" else "query")):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + offset
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(text)
            yield token


def jieba_analyzer() -> JiebaTokenizer:
    return JiebaTokenizer()


@lru_cache(maxsize=512)
def _highlight_pattern(tokens: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({t for t in tokens if t}, key=lambda w: (-len(w), w))  # the longest match wins
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def highlight(text: str | None, tokens: Iterable[str]) -> Markup:
    """``text`` HTML-escaped with every occurrence of a query token wrapped in ``<mark>``."""
    text = text or ""
    pattern = _highlight_pattern(tuple(tokens))
    if pattern is None:
        return escape(text)
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):  # NFKC changed lengths (rare ligatures): match on the text as is
        folded = text.lower()
    # Plain strings and html.escape, one Markup at the end: this runs for three fields of every hit.
    out, last = [], 0
    for match in pattern.finditer(folded):
        out.append(html.escape(text[last:match.start()]))
        out.append("<mark>" + html.escape(text[match.start():match.end()]) + "</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return Markup("".join(out))  # noqa: S704 (every piece of user text above is escaped)


def levenshtein(a: str, b: str, limit: int = 2) -> int:
    """Edit distance, giving up (returning ``limit + 1``) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def fuzzy_distance(token: str) -> int:
    """How many typos a Latin token tolerates: none below 4 letters, one up to 7, two from 8."""
    if not is_latin_word(token) or len(token) < 4:
        return 0
    return 1 if len(token) < 8 else 2
