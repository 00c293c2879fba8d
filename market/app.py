"""The composition root: config → extensions → blueprints → CLI, in that order."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, session
from flask_babel import get_locale

from market.config import PROJECT_ROOT, load_config
from market.core import edge, http, logs, web
from market.core.money import format_fen
from market.core.timeutil import to_local
from market.extensions import babel, csrf, db, limiter, login_manager, migrate

# Each domain package exposes ``init_app(app)``: it imports its models, registers its blueprints,
# job handlers and CLI commands. Order matters only for navigation.
DOMAIN_PACKAGES = (
    "market.home",
    "market.accounts",
    "catalog",
    "market.rfq",
    "market.orders",
    "payments",
    "market.credit",
    "market.supervision",
)


def select_locale() -> str:
    """zh_CN first; a visitor's explicit choice (session) or a signed-in user's preference wins."""
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides defaults and the environment (tests pass one)."""
    settings = load_config(config)
    app = Flask(
        "market",
        root_path=str(PROJECT_ROOT),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=settings["INSTANCE_PATH"],
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logs.configure("text" if app.testing else str(app.config.get("LOG_FORMAT", "json")))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    web.init_app(app)
    http.register_error_handlers(app)
    edge.init_app(app)
    _register_template_helpers(app)

    from market.core import audit, commands, heartbeat, jobs, mail, notify, throttle  # noqa: F401  (kernel tables and job handlers)

    commands.init_app(app)
    for name in DOMAIN_PACKAGES:
        importlib.import_module(name).init_app(app)
    from market.demo import commands as demo_commands  # the demo sits above every domain package

    demo_commands.init_app(app)
    return app


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["local"] = lambda value, fmt="%Y-%m-%d %H:%M": (
        to_local(value).strftime(fmt) if value else "—"
    )

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        def has_endpoint(endpoint: str) -> bool:
            return endpoint in app.view_functions

        # Babel names "zh_CN" zh_Hans_CN (likely script); templates compare with the configured codes.
        parsed = str(get_locale())
        configured = {str(Locale.parse(code)): code for code in app.config["LANGUAGES"]}
        return {"current_locale": configured.get(parsed, parsed), "has_endpoint": has_endpoint}
