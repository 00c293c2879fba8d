"""The home page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from market.core import heartbeat
from market.core.validation import safe_redirect_target
from market.extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["GET", "POST"])
def switch_language(code: str):  # type: ignore[no-untyped-def]
    """Remember the choice in the session; a POST also saves it on the user (it follows them to other
    devices). A GET never writes to the database."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if request.method == "POST" and current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    target = safe_redirect_target(request.args.get("next"))
    if target is None and request.referrer:  # the page the switch was clicked on, if it is ours
        parts = urlsplit(request.referrer)
        if parts.netloc in ("", request.host):
            target = safe_redirect_target(parts.path + (f"?{parts.query}" if parts.query else ""))
    return redirect(target or url_for("home.index"))


@bp.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    """Liveness: this process answers (a load balancer restarts it if not). Touches nothing else."""
    return {"status": "ok"}


@bp.get("/readyz")
def ready():  # type: ignore[no-untyped-def]
    """Readiness: the database answers, the search index opens, and a job worker beat recently.
    503 with the failing checks named, so a load balancer sends no traffic to a host that cannot serve."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(db.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", reported by name
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from catalog.search import get_index

        checks["search"] = "ok" if get_index().doc_count() >= 0 else "error: no index"
    except Exception as exc:
        db.session.rollback()
        checks["search"] = f"error: {type(exc).__name__}"
    try:
        age = heartbeat.latest_age()
        limit = current_app.config.get("READY_WORKER_MAX_AGE_SECONDS", 60)
        checks["worker"] = ("error: no worker has run" if age is None
                            else "ok" if age.total_seconds() <= limit
                            else f"error: last heartbeat {int(age.total_seconds())} s ago")
    except Exception as exc:
        db.session.rollback()
        checks["worker"] = f"error: {type(exc).__name__}"
    db.session.rollback()
    ready_now = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready_now else "unavailable", "checks": checks}, 200 if ready_now else 503


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
