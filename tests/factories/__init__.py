"""Plain factory functions, one module per package, all importable from ``tests.factories``."""

from tests.factories.accounts import *  # noqa: F403
