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
