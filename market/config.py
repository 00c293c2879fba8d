"""Configuration: working defaults, then the environment, then an explicit mapping.

``create_app()`` with no environment runs on SQLite and a Whoosh index under ``instance/``, with
sandbox payments and a generated secret key kept in ``instance/secret_key``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> Path:
    """Where the runtime state lives (database, index, uploads, mail): ``JINSHANG_INSTANCE`` or ``instance/``."""
    return Path(os.environ.get("JINSHANG_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(folder: Path) -> str:
    key_file = folder / "secret_key"
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name in the environment -> (config key, converter)
_ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", normalise_database_url),
    "SEARCH_BACKEND": ("SEARCH_BACKEND", str),
    "SEARCH_INDEX_DIR": ("SEARCH_INDEX_DIR", str),
    "PAYMENT_PROVIDERS": ("PAYMENT_PROVIDERS", str),
    "CREDIT_PROVIDERS": ("CREDIT_PROVIDERS", str),
    "CREDIT_BUREAU_URL": ("CREDIT_BUREAU_URL", str),
    "CREDIT_BUREAU_TOKEN": ("CREDIT_BUREAU_TOKEN", str),
    "CREDIT_BUREAU_TIMEOUT": ("CREDIT_BUREAU_TIMEOUT", float),
    "CREDIT_BUREAU_RETRIES": ("CREDIT_BUREAU_RETRIES", int),
    "CREDIT_PROVIDER_WEIGHTS": ("CREDIT_PROVIDER_WEIGHTS", str),
    "REDIS_URL": ("REDIS_URL", str),
    "MAIL_BACKEND": ("MAIL_BACKEND", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_USER": ("SMTP_USER", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", _bool),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "STRIPE_API_KEY": ("STRIPE_API_KEY", str),
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRET", str),
    "PLATFORM_FEE_BPS": ("PLATFORM_FEE_BPS", int),
    "PLATFORM_FEE_MIN_FEN": ("PLATFORM_FEE_MIN_FEN", int),
    "ESCROW_AUTO_RELEASE_DAYS": ("ESCROW_AUTO_RELEASE_DAYS", int),
    "LOGIN_RATE_LIMIT": ("LOGIN_RATE_LIMIT", str),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "BUSINESS_REGISTRY": ("BUSINESS_REGISTRY", str),
    "UPLOAD_DIR": ("UPLOAD_DIR", str),
    # the platform's supervised escrow account (资金监管账户), shown to buyers paying by transfer
    "BANK_ACCOUNT_NAME": ("BANK_ACCOUNT_NAME", str),
    "BANK_ACCOUNT_NO": ("BANK_ACCOUNT_NO", str),
    "BANK_NAME": ("BANK_NAME", str),
    "BANK_WEBHOOK_SECRET": ("BANK_WEBHOOK_SECRET", str),
    "SANDBOX_WEBHOOK_SECRET": ("SANDBOX_WEBHOOK_SECRET", str),
    "STRIPE_MAX_RETRIES": ("STRIPE_MAX_RETRIES", int),
    "JOB_LEASE_SECONDS": ("JOB_LEASE_SECONDS", float),
    "JOB_STUCK_SECONDS": ("JOB_STUCK_SECONDS", float),
    "PAYOUT_RECONCILE_SECONDS": ("PAYOUT_RECONCILE_SECONDS", float),
}


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration mapping: defaults < environment < ``overrides``."""
    folder = Path((overrides or {}).get("INSTANCE_PATH") or instance_path())
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'jinshang.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SEARCH_BACKEND": "whoosh",
        "SEARCH_INDEX_DIR": str(folder / "search-index"),
        "UPLOAD_DIR": str(folder / "uploads"),
        "PAYMENT_PROVIDERS": "sandbox,bank_transfer",
        "CREDIT_PROVIDERS": "internal",
        "CREDIT_BUREAU_URL": "",
        "CREDIT_BUREAU_TOKEN": "",
        "CREDIT_BUREAU_TIMEOUT": 3.0,  # seconds per attempt (connect and read)
        "CREDIT_BUREAU_RETRIES": 2,  # extra attempts after a timeout, connection error or 5xx
        "CREDIT_PROVIDER_WEIGHTS": "internal:2",  # how the hook weighs providers' scores (others: 1)
        "REDIS_URL": "",
        "MAIL_BACKEND": "file",  # file | console | smtp | memory
        "MAIL_DIR": str(folder / "mail"),
        "MAIL_FROM": "noreply@jinshang.example",
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 25,
        "SMTP_USER": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        # Secure cookies need HTTPS; the demo serves plain HTTP on 127.0.0.1, production sets this on.
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "LOGIN_RATE_LIMIT": "5 per minute;20 per hour",
        "BUSINESS_REGISTRY": "null",  # null | file:<path to JSON export> | a registered adapter
        "PASSWORD_RESET_MAX_AGE": 2 * 60 * 60,  # seconds a reset link stays valid
        "INVITE_MAX_AGE": 7 * 24 * 60 * 60,  # seconds an invitation link stays valid
        "STRIPE_API_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "PLATFORM_FEE_BPS": 50,  # 0.5 %
        "PLATFORM_FEE_MIN_FEN": 1000,  # ¥10.00
        "ESCROW_AUTO_RELEASE_DAYS": 7,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "WTF_CSRF_TIME_LIMIT": None,
        # a worker that dies gives its jobs back after this long (its heartbeat renews every third)
        "JOB_LEASE_SECONDS": 60.0,
        "JOB_STUCK_SECONDS": 15 * 60.0,  # `jinshang jobs` flags a job running longer than this
        "PAYOUT_RECONCILE_SECONDS": 10 * 60.0,  # a payout pending this long is checked with its rail
    }
    for env_name, (key, convert) in _ENVIRONMENT.items():
        if env_name in os.environ and os.environ[env_name] != "":
            config[key] = convert(os.environ[env_name])
    config.update(overrides or {})
    if "SQLALCHEMY_DATABASE_URI" in (overrides or {}):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(folder)
    config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"] or "memory://"
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Waiting for the write lock beats surfacing "database is locked" to a user.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}, **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    else:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    return config
