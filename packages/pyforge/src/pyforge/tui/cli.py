"""The ``pyforge tui`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def tui(
    report: Annotated[
        Path | None,
        typer.Option("--report", help="A report from `pyforge analyze --format json`."),
    ] = None,
) -> None:
    """Browse findings in the terminal: a local report, or the server you logged in to."""
    from pyforge.commands.client.api import CliError, _client
    from pyforge.tui.app import PyForgeTUI
    from pyforge.tui.sources import ReportSource, ServerSource, Source, SourceError

    source: Source
    try:
        source = ReportSource(report) if report is not None else ServerSource(_client())
    except (SourceError, CliError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    PyForgeTUI(source).run()


def register(app: typer.Typer) -> None:
    """Add ``tui`` to the ``pyforge`` CLI."""
    app.command("tui")(tui)
