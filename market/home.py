"""The home page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from market.core.validation import safe_redirect_target
from market.extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["GET", "POST"])
def switch_language(code: str):  # type: ignore[no-untyped-def]
    """Remember the choice in the session (and on the user, so it follows them to other devices)."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
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
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
