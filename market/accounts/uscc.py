"""The unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z). The last is a check
character over the first 17 with weights 3^i mod 31. Codes may start with letters (N: village
collectives, Y: trade unions, A: ...), which python-stdnum's ``cn.uscc`` wrongly rejects, so we
check the standard's rule ourselves.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
_SHAPE = re.compile(f"^[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}$")


class InvalidUSCC(ValueError):
    """Why a code is not a valid USCC; ``reason`` is a short, translatable message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise(raw: str) -> str:
    """Drop spaces and dashes (as people copy them from licences) and upper-case."""
    return re.sub(r"[\s\-\u3000]", "", raw or "").upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code, or raise :class:`InvalidUSCC` saying what is wrong."""
    code = normalise(raw)
    if len(code) != 18:
        raise InvalidUSCC("A unified social credit code has 18 characters.")
    bad = sorted({ch for ch in code if ch not in ALPHABET})
    if bad:
        raise InvalidUSCC("The code contains characters that are never used (I, O, S, V, Z or symbols).")
    if not _SHAPE.match(code):
        raise InvalidUSCC("Characters 3 to 8 of the code must be the digits of a region code.")
    if check_character(code[:17]) != code[17]:
        raise InvalidUSCC("The check character does not match: please check the code for typos.")
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidUSCC:
        return False
    return True


def make(prefix: str, region: str, organisation: str) -> str:
    """Build a valid code from its parts (demo data and tests): 2 + 6 + 9 characters."""
    first17 = normalise(prefix + region + organisation)
    if len(first17) != 17:
        raise ValueError("need 17 characters before the check character")
    return first17 + check_character(first17)
