"""The ``jinshang`` console script: Flask's CLI around :func:`market.app.create_app`.

Above the composition root, so nothing below it imports the app: ``python -m market.cli worker`` is what
the demo, the tests and the deployment guide run.
"""

from __future__ import annotations

import os
import sys

from flask.cli import FlaskGroup

from market.app import create_app
from market.demo.commands import DEMO_COMMANDS


def main() -> None:
    """Entry point of the ``jinshang`` console script."""
    # The demo commands run in demo mode (sandbox rail, file mail, generated secrets); everything else is
    # production unless JINSHANG_MODE says otherwise.
    if any(arg in DEMO_COMMANDS for arg in sys.argv[1:2]):
        os.environ.setdefault("JINSHANG_MODE", "demo")
    cli = FlaskGroup(create_app=lambda: create_app(), help="晋商 Jinshang marketplace")
    cli.main(prog_name="jinshang")


if __name__ == "__main__":
    main()
