"""Passwords: argon2id hashes, and a refusal of guessable passwords (zxcvbn's frequency lists)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str, *context: str) -> str | None:
    """Why ``password`` is not acceptable, or None. ``context`` (name, email, company) may not be reused."""
    if len(password) < MIN_LENGTH:
        return "Use at least 8 characters."
    if len(password) > 200:
        return "Use at most 200 characters."
    result = zxcvbn(password[:100], user_inputs=[c for c in context if c])
    if result["score"] < 2:
        return "This password is too common or easy to guess. Add words or characters that are not obvious."
    return None
