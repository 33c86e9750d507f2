"""The ``pyforge`` command: one entry point for every process role.

Sub-commands import their heavy dependencies lazily, so ``pyforge analyze`` never pulls in the
web stack (FastAPI, SQLAlchemy) and starts fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from forgekit.product import Product

app = typer.Typer(
    name="pyforge",
    help="PyForge: code intelligence for Python projects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: Commands of the local analysis CLI: they need neither the kit nor the web stack.
_LOCAL_COMMANDS = frozenset({"analyze", "rules", "explain", "baseline"})


def _register(argv: list[str]) -> None:
    # Each role module adds its commands to ``app``; kept in separate modules so that a role's
    # imports stay out of the others' start-up path: ``pyforge analyze`` never imports the
    # kit (whose role commands it does not need), ``pyforge --help`` lists everything.
    from pyforge.analysis import cli as analysis_cli
    from pyforge.commands import client

    if not argv or argv[0] not in _LOCAL_COMMANDS:
        from forgekit.cli import add_role_commands

        add_role_commands(app, _product, title="PyForge", env_prefix="PYFORGE_")
    client.register(app)
    analysis_cli.register(app)


def _product() -> Product[Any, Any]:
    from pyforge.product import PRODUCT

    return PRODUCT


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["analyze"]:
        # An unchanged tree is answered from the analysis run cache without building the app.
        from pyforge.analysis.runcache import fast_main

        code = fast_main(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    _register(sys.argv[1:])
    app()


if __name__ == "__main__":
    main()
