"""The API client commands: ``login``, ``logout``, ``projects``, ``push`` and ``findings``.

They talk to a PyForge server over HTTP with the credentials ``pyforge login`` stored in
``$PYFORGE_CONFIG_DIR/credentials.json`` (default ``~/.config/pyforge``), a file only its owner
can read. An expired access token is exchanged for a new one with the refresh token on the
first 401, so a session lasts as long as its refresh token.

Exit codes: 0 success (for ``push``: the quality gate passed), 1 the quality gate failed or the
analysis failed, 2 usage, input, connection or server error. Every error is one line on stderr
starting with ``error:``, never a traceback.

The module imports only typer and the standard library at import time: httpx, rich and
pathspec load inside the commands, so registering these commands costs ``pyforge analyze``
nothing.
"""

from __future__ import annotations

import typer

from pyforge.commands.client.api import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ApiClient,
    CliError,
    Credentials,
    config_dir,
    credentials_path,
    load_credentials,
    save_credentials,
)
from pyforge.commands.client.auth import login, logout
from pyforge.commands.client.findings import findings
from pyforge.commands.client.projects import projects_app
from pyforge.commands.client.push import collect_files, pack, push


def register(app: typer.Typer) -> None:
    """Add the client commands to the ``pyforge`` CLI."""
    app.command()(login)
    app.command()(logout)
    app.add_typer(projects_app, name="projects")
    app.command()(push)
    app.command()(findings)


__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ApiClient",
    "CliError",
    "Credentials",
    "collect_files",
    "config_dir",
    "credentials_path",
    "findings",
    "load_credentials",
    "login",
    "logout",
    "pack",
    "projects_app",
    "push",
    "register",
    "save_credentials",
]
