"""The ``pyforge`` command: one entry point for every process role.

Sub-commands import their heavy dependencies lazily, so ``pyforge analyze`` never pulls in the
web stack (FastAPI, SQLAlchemy) and starts fast.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="pyforge",
    help="PyForge: code intelligence for Python projects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each role module adds its commands to ``app``; kept in separate modules so that a role's
    # imports stay out of the others' start-up path.
    from pyforge.analysis import cli as analysis_cli
    from pyforge.commands import client, server
    from pyforge.ml import cli as ml_cli

    server.register(app)
    client.register(app)
    analysis_cli.register(app)
    ml_cli.register(app)


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["analyze"]:
        # An unchanged tree is answered from the analysis run cache without building the app.
        from pyforge.analysis.runcache import fast_main

        code = fast_main(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    _register()
    app()


if __name__ == "__main__":
    main()
