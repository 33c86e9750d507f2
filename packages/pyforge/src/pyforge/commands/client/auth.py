"""``pyforge login`` and ``pyforge logout``."""

from __future__ import annotations

import typer

from pyforge.commands.client.api import (
    DEFAULT_SERVER,
    ApiClient,
    CliError,
    Credentials,
    _fail,
    _handle_errors,
    _normalise_server,
    _problem_message,
    credentials_path,
    load_credentials,
    save_credentials,
)


@_handle_errors
def login(
    server: str = typer.Option(
        DEFAULT_SERVER, "--server", envvar="PYFORGE_SERVER", help="The PyForge server's URL."
    ),
    username: str | None = typer.Option(None, "--username", "-u", help="Username or email."),
    password: str | None = typer.Option(
        None, "--password", envvar="PYFORGE_PASSWORD", help="Prompted for when not given."
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="PYFORGE_API_KEY", help="Log in with an API key (pfk_...)."
    ),
) -> None:
    """Log in to a PyForge server and store the credentials (readable only by you)."""
    server = _normalise_server(server)
    if api_key:
        creds = Credentials(server=server, api_key=api_key.strip())
        with ApiClient(creds, persist=False) as api:
            me = api.json("GET", "/auth/me")
        creds.username = str(me.get("username") or "") or None
    else:
        if username is None:
            username = typer.prompt("Username")
        if password is None:
            password = typer.prompt("Password", hide_input=True)
        creds = Credentials(server=server, username=username)
        with ApiClient(creds, persist=False) as api:
            response = api._send(
                "POST", "/auth/login", data={"username": username, "password": password}
            )
            if response.is_error:
                _fail(f"login failed: {_problem_message(response)}")
            try:
                tokens = response.json()
                creds.access_token = str(tokens["access_token"])
                creds.refresh_token = str(tokens["refresh_token"])
            except (ValueError, KeyError, TypeError):
                _fail(f"{server} did not answer like a PyForge server")
    path = save_credentials(creds)
    who = f" as {creds.username}" if creds.username else ""
    typer.echo(f"logged in to {server}{who} (credentials in {path})", err=True)


@_handle_errors
def logout() -> None:
    """End the session on the server and delete the stored credentials."""
    creds = load_credentials()
    if creds is None:
        typer.echo("not logged in", err=True)
        return
    if creds.access_token and not creds.api_key:
        # Best effort: the local credentials go in any case, so an unreachable or restarted
        # server must not keep the user "logged in" here.
        try:
            with ApiClient(creds, persist=False) as api:
                api.request("POST", "/auth/logout")
        except CliError as exc:
            typer.echo(f"warning: the server session was not ended: {exc.message}", err=True)
    credentials_path().unlink(missing_ok=True)
    typer.echo(f"logged out of {creds.server}", err=True)
