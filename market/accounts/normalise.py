"""Input as people type it on a phone: full-width characters, stray spaces, +86 prefixes, upper case."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

MOBILE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile numbers


def fold(text: str | None) -> str:
    """NFKC (full-width letters, digits and punctuation to ASCII) and collapsed whitespace."""
    folded = unicodedata.normalize("NFKC", text or "")
    return " ".join(folded.split())


def company_name(text: str | None) -> str:
    """A legal name keeps its characters, but not leading, trailing or doubled spaces.

    Chinese names keep full-width brackets as printed on the licence, so only whitespace is touched.
    """
    return " ".join((text or "").replace("\u3000", " ").split())


def mobile(text: str | None) -> str | None:
    """A mainland mobile number without spaces, dashes or +86; None if it is not one."""
    digits = re.sub(r"[\s\-()]", "", fold(text))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if MOBILE.match(digits) else None


def email(text: str | None) -> str | None:
    """A syntactically valid email address in lower case (no DNS look-up), or None."""
    candidate = fold(text).replace(" ", "")
    if "@" not in candidate:
        return None
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def contact(text: str | None) -> tuple[str | None, str | None]:
    """Split "email or mobile" into (email, mobile); both None if it is neither."""
    value = fold(text)
    if "@" in value:
        return email(value), None
    return None, mobile(value)


def _strip_invisible(text: str) -> str:
    # whitespace anywhere, and format characters (zero-width spaces, bidi overrides) a paste can carry
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def account_key(text: str | None) -> str:
    """The one spelling of a sign-in identifier: the sign-in lookup AND the login limit use it.

    NFKC, every whitespace and invisible character removed, lower case; an email address as
    :func:`email` normalises it, a mobile number as digits without +86. Anything else is returned
    folded the same way, so that variants of a wrong identifier still count as one.
    """
    value = _strip_invisible(unicodedata.normalize("NFKC", text or "")).lower()
    if "@" in value:
        return email(value) or value
    number = mobile(value)
    if number:
        return number
    digits = re.sub(r"[\-()]", "", value)
    return digits[3:] if digits.startswith("+86") else digits
