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


def _register() -> None:
    # Each role module adds its commands to ``app``; kept in separate modules so that a role's
    # imports stay out of the others' start-up path.
    from pyforge.analysis import cli as analysis_cli
    from pyforge.commands import client, server

    app = _app()
    server.register(app)
    client.register(app)
    analysis_cli.register(app)


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
    _register()
    _app()()


if __name__ == "__main__":
    main()
