"""Companies, users, memberships and roles, onboarding, verification."""

from flask import Flask

from market.extensions import db, login_manager


def init_app(app: Flask) -> None:
    """Register the account models, the user loader and the account pages."""
    from market.accounts import models

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        ident, _, version = user_id.partition(":")
        if not ident.isdigit() or not version.isdigit():
            return None
        user = db.session.get(models.User, int(ident))
        if user is None or user.session_version != int(version):
            return None
        return user

    @app.before_request
    def expose_actor() -> None:
        """Publish the acting user and company for layers below accounts (see market.core.actor)."""
        from flask import g
        from flask_login import current_user

        from market.accounts.context import acting_company_id

        if current_user.is_authenticated:
            g.actor_user_id = current_user.id
            g.actor_platform_role = current_user.platform_role
            g.actor_company_id = acting_company_id()
