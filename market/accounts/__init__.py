"""Companies, users, memberships and roles, onboarding, verification."""

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from market.extensions import db, login_manager


def init_app(app: Flask) -> None:
    """Register the account models, the user loader, the business registry and the account pages."""
    from market.accounts import company_views, models, regions, registry, verification_views, views  # noqa: F401
    from market.accounts.labels import (
        INDUSTRY_LABELS,
        KIND_LABELS,
        REQUEST_STATUS_LABELS,
        ROLE_LABELS,
        VERIFICATION_LABELS,
    )

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        ident, _, version = user_id.partition(":")
        if not ident.isdigit() or not version.isdigit():
            return None
        user = db.session.get(models.User, int(ident))
        if user is None or user.session_version != int(version):
            return None
        return user

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    registry.init_app(app)
    app.register_blueprint(views.bp)

    from market.accounts.context import acting_membership, resolve_acting_company
    from market.core.actor import set_resolver

    set_resolver(resolve_acting_company)
    from flask_login import current_user

    from market.accounts.passwords import verify_password
    from market.core.actor import set_password_checker

    set_password_checker(lambda password: verify_password(current_user.password_hash, password))

    # Globals rather than a context processor, so that imported macros see them too.
    app.jinja_env.globals.update(
        KIND_LABELS=KIND_LABELS, ROLE_LABELS=ROLE_LABELS, VERIFICATION_LABELS=VERIFICATION_LABELS,
        REQUEST_STATUS_LABELS=REQUEST_STATUS_LABELS, INDUSTRY_LABELS=INDUSTRY_LABELS,
        region_label=lambda code: regions.region_label(code, str(get_locale())),
        acting_membership=acting_membership,
    )
