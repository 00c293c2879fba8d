"""Plain factory functions, one module per package, all importable from ``tests.factories``."""

from tests.factories.accounts import *  # noqa: F403
from tests.factories.catalog import *  # noqa: F403
from tests.factories.credit import *  # noqa: F403
from tests.factories.orders import *  # noqa: F403
from tests.factories.payments import *  # noqa: F403
