"""The ``pyforge`` command: one entry point for every process role.

Sub-commands import their heavy dependencies lazily, so ``pyforge analyze`` never pulls in the
web stack (FastAPI, SQLAlchemy) and starts fast.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    from forgekit.product import Product


@cache
def _app() -> typer.Typer:
    # Built on first use: ``pyforge analyze`` on a plain command line never imports typer.
    import typer

    return typer.Typer(
        name="pyforge",
        help="PyForge: code intelligence for Python projects.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Commands of the local analysis CLI: they need neither the kit nor the web stack.
_LOCAL_COMMANDS = frozenset(
    {"analyze", "rules", "explain", "baseline", "ml", "train", "tui", "suggest", "fix"}
)


def _register(argv: list[str]) -> None:
    # Each role module adds its commands to ``app``; kept in separate modules so that a role's
    # imports stay out of the others' start-up path: ``pyforge analyze`` never imports the
    # kit (whose role commands it does not need), ``pyforge --help`` lists everything.
    from pyforge.analysis import cli as analysis_cli
    from pyforge.commands import client
    from pyforge.ml import cli as ml_cli
    from pyforge.refactor import cli as refactor_cli
    from pyforge.tui import cli as tui_cli

    app = _app()
    if not argv or argv[0] not in _LOCAL_COMMANDS:
        from forgekit.cli import add_role_commands

        add_role_commands(app, _product, title="PyForge", env_prefix="PYFORGE_")
    client.register(app)
    analysis_cli.register(app)
    ml_cli.register(app)
    refactor_cli.register(app)
    tui_cli.register(app)


def _product() -> Product[Any, Any]:
    from pyforge.product import PRODUCT

    return PRODUCT


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["analyze"]:
        # An unchanged tree is answered from the analysis run cache without building the app.
        from pyforge.analysis.runcache import fast_main

        code = fast_main(sys.argv[1:])
        if code is None:
            # Any other plain command line is analysed without the app (or typer) too.
            from pyforge.analysis.command import fast_analyze

            code = fast_analyze(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    _register(sys.argv[1:])
    _app()()


if __name__ == "__main__":
    main()
