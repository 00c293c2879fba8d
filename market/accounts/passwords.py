"""Passwords: argon2id hashes, and a refusal of guessable passwords (zxcvbn's frequency lists)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 8

# zxcvbn's lists are English-centred. These are among the most used passwords in Chinese leaks (pinyin,
# "5201314" = "I love you for ever"), plus the words of this platform and province that people reach for.
# zxcvbn treats them as dictionary words, so they and their small variations score as guessable.
CHINESE_COMMON = (
    "woaini1314", "5201314", "1314520", "woaini", "woaini520", "aini1314", "wangyi", "qq123456", "dearbook",
    "xiazhili", "147258369", "789456123", "123654789", "110110110", "147852369", "159357", "a123456789",
    "1qaz2wsx", "zhang", "wang", "li", "liu", "chen", "zhangwei", "wangwei", "lilei", "woaiwojia", "iloveyou",
    "shanxi", "jinshang", "taiyuan", "datong", "meitan", "zhongguo", "china", "beijing", "huawei", "baidu",
)


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
    result = zxcvbn(password[:100], user_inputs=[*(c for c in context if c), *CHINESE_COMMON])
    if result["score"] < 2:
        return "This password is too common or easy to guess. Add words or characters that are not obvious."
    return None
