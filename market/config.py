"""Configuration: working defaults, then the environment, then an explicit mapping.

Three modes (``JINSHANG_MODE`` / config key ``MODE``): ``production`` (the default for everything but
``jinshang demo``), ``demo`` and ``test``. Demo and test run with no environment: SQLite and a Whoosh index
under ``instance/``, sandbox payments, file mail, generated secrets kept in ``instance/``. Production starts
only when :func:`production_problems` finds nothing to fix (``gunicorn wsgi:app`` and ``jinshang worker``
check it): no sandbox rail, a real SECRET_KEY, PUBLIC_BASE_URL, each enabled rail's webhook secret, real mail.
"""

from __future__ import annotations

import os
import secrets
import sys
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


MODES = ("production", "demo", "test")


def _secret_key(folder: Path, name: str = "secret_key") -> str:
    key_file = folder / name
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _list(value: str) -> list[str]:
    """``"new,old"`` -> ``["new", "old"]``: a secret list lets an old secret keep working during a rotation."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name in the environment -> (config key, converter)
_ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "JINSHANG_MODE": ("MODE", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "PROXY_HOPS": ("PROXY_HOPS", int),
    "ALLOWED_HOSTS": ("ALLOWED_HOSTS", _list),
    "LOG_FORMAT": ("LOG_FORMAT", str),
    "LOGIN_BACKOFF_MAX_SECONDS": ("LOGIN_BACKOFF_MAX_SECONDS", int),
    "LOGIN_ACCOUNT_FREE_ATTEMPTS": ("LOGIN_ACCOUNT_FREE_ATTEMPTS", int),
    "LOGIN_ADDRESS_LIMIT": ("LOGIN_ADDRESS_LIMIT", int),
    "LOGIN_WINDOW_SECONDS": ("LOGIN_WINDOW_SECONDS", int),
    "REDIS_KEY_PREFIX": ("REDIS_KEY_PREFIX", str),
    "READY_WORKER_MAX_AGE_SECONDS": ("READY_WORKER_MAX_AGE_SECONDS", int),
    "SIGNUP_RATE_LIMIT": ("SIGNUP_RATE_LIMIT", str),
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
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRETS", _list),
    "STRIPE_WEBHOOK_SECRETS": ("STRIPE_WEBHOOK_SECRETS", _list),
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
    "BANK_WEBHOOK_SECRET": ("BANK_WEBHOOK_SECRETS", _list),
    "BANK_WEBHOOK_SECRETS": ("BANK_WEBHOOK_SECRETS", _list),
    "SANDBOX_WEBHOOK_SECRET": ("SANDBOX_WEBHOOK_SECRETS", _list),
    "SANDBOX_WEBHOOK_SECRETS": ("SANDBOX_WEBHOOK_SECRETS", _list),
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
        "PAYMENT_PROVIDERS": None,  # by mode: "sandbox,bank_transfer" in demo and test, "bank_transfer" otherwise
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
        "STRIPE_WEBHOOK_SECRETS": [],  # each rail's own webhook secrets, newest first (two during a rotation)
        "BANK_WEBHOOK_SECRETS": [],
        "SANDBOX_WEBHOOK_SECRETS": [],
        "PROXY_HOPS": 0,  # how many reverse proxies in front of the app append X-Forwarded-* (trusted hops)
        "ALLOWED_HOSTS": [],  # Host headers served besides PUBLIC_BASE_URL's host (production)
        "LOG_FORMAT": "json",  # json | text
        # sign-in throttling (market.accounts.throttle): see docs/security.md
        "LOGIN_ACCOUNT_FREE_ATTEMPTS": 5,  # failures per account (and per account+address) before any delay
        "LOGIN_BACKOFF_MAX_SECONDS": 60,  # the delay doubles from 1 s up to this
        "LOGIN_ADDRESS_LIMIT": 30,  # failures per address over all accounts
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        "REDIS_KEY_PREFIX": "jinshang:",
        "READY_WORKER_MAX_AGE_SECONDS": 60,
        "SIGNUP_RATE_LIMIT": "10 per hour",
        "PLATFORM_FEE_BPS": 50,  # 0.5 %
        "PLATFORM_FEE_MIN_FEN": 1000,  # ¥10.00
        "ESCROW_AUTO_RELEASE_DAYS": 7,
        "PUBLIC_BASE_URL": "",
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
    for key in ("STRIPE_WEBHOOK_SECRETS", "BANK_WEBHOOK_SECRETS", "SANDBOX_WEBHOOK_SECRETS"):
        if isinstance(config[key], str):  # a single secret passed as a string
            config[key] = _list(config[key])
    singular = {"STRIPE_WEBHOOK_SECRET": "STRIPE_WEBHOOK_SECRETS", "BANK_WEBHOOK_SECRET": "BANK_WEBHOOK_SECRETS",
                "SANDBOX_WEBHOOK_SECRET": "SANDBOX_WEBHOOK_SECRETS"}
    for old, new in singular.items():
        if (overrides or {}).get(old):
            config[new] = _list(str(overrides[old]))  # type: ignore[index]
    mode = str(config.get("MODE") or "production").strip().lower()
    if mode not in MODES:
        raise ValueError(f"JINSHANG_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    config["MODE"] = mode
    relaxed = mode != "production"
    if config["PAYMENT_PROVIDERS"] is None:
        config["PAYMENT_PROVIDERS"] = "sandbox,bank_transfer" if relaxed else "bank_transfer"
    config["SECRET_KEY_GENERATED"] = not config.get("SECRET_KEY")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(folder)
    if relaxed:
        # Demo and test rails get random secrets of their own, kept in the instance folder so the web
        # workers and the job worker agree. Never derived from SECRET_KEY.
        for key, name in (("SANDBOX_WEBHOOK_SECRETS", "sandbox_webhook_secret"),
                          ("BANK_WEBHOOK_SECRETS", "bank_webhook_secret")):
            if not config[key]:
                config[key] = [_secret_key(folder, name)]
        if not config["PUBLIC_BASE_URL"]:
            config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    config["STRIPE_WEBHOOK_SECRET"] = (config["STRIPE_WEBHOOK_SECRETS"] or [""])[0]
    config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"] or "memory://"
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Waiting for the write lock beats surfacing "database is locked" to a user.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}, **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    else:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    return config


def production_problems(config: dict[str, Any]) -> list[str]:
    """What stops this configuration from running for real (empty outside production mode)."""
    if config.get("MODE") != "production":
        return []
    problems = []
    rails = [n.strip() for n in str(config.get("PAYMENT_PROVIDERS") or "").split(",") if n.strip()]
    if "sandbox" in rails:
        problems.append("PAYMENT_PROVIDERS includes the sandbox rail, which lets any buyer fund escrow with play "
                        "money: remove 'sandbox' (e.g. PAYMENT_PROVIDERS=bank_transfer).")
    if config.get("SECRET_KEY_GENERATED"):
        problems.append("SECRET_KEY is not set (a generated key was found): set SECRET_KEY to a long random value, "
                        "the same on every host, e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`.")
    base = str(config.get("PUBLIC_BASE_URL") or "")
    if not base.startswith(("https://", "http://")):
        problems.append("PUBLIC_BASE_URL is not set: set it to the address users open, e.g. "
                        "https://market.example.cn (every link in mail and documents is built on it).")
    secrets_for = {"bank_transfer": "BANK_WEBHOOK_SECRETS", "stripe": "STRIPE_WEBHOOK_SECRETS"}
    for rail, key in secrets_for.items():
        if rail in rails and not config.get(key):
            problems.append(f"{key} is not set but the {rail} rail is enabled: set the secret the rail signs its "
                            f"webhooks with (two, comma-separated, during a rotation: new,old).")
    if "stripe" in rails and not config.get("STRIPE_API_KEY"):
        problems.append("STRIPE_API_KEY is not set but the stripe rail is enabled.")
    if config.get("MAIL_BACKEND") in ("file", "memory"):
        problems.append(f"MAIL_BACKEND={config.get('MAIL_BACKEND')} keeps mail on this machine: set "
                        "MAIL_BACKEND=smtp with SMTP_HOST (and SMTP_USER/SMTP_PASSWORD/SMTP_STARTTLS).")
    return problems


class NotReadyForProduction(SystemExit):
    """Raised (exit status 3) by the production entry points with every problem listed at once."""


def require_production_ready(config: dict[str, Any]) -> None:
    """Refuse to start, listing everything to fix, when production mode is misconfigured."""
    problems = production_problems(config)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        message = (f"Jinshang refuses to start in production mode; fix these settings first:\n{lines}\n"
                   "(To try the marketplace on this machine instead, run `jinshang demo`.)")
        print(message, file=sys.stderr)
        raise NotReadyForProduction(3)
