"""``pyforge projects list|create|show``."""

from __future__ import annotations

import json
from typing import Any

import typer

from pyforge.commands.client.api import (
    _client,
    _handle_errors,
    _parse_uuid,
    _print_json,
    _stdout,
)

projects_app = typer.Typer(help="List, create and show projects.", no_args_is_help=True)


@projects_app.command("list")
@_handle_errors
def projects_list(
    query: str | None = typer.Option(None, "--query", "-q", help="Full-text search."),
    limit: int = typer.Option(50, min=1, max=100, help="Projects to show."),
    include_public: bool = typer.Option(False, "--public", help="Include public projects."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The projects you can read."""
    params: dict[str, Any] = {"limit": limit, "include_public": include_public}
    if query:
        params["q"] = query
    with _client() as api:
        page = api.json("GET", "/api/v1/projects", params=params)
    if as_json:
        _print_json(page)
        return
    from rich.table import Table

    table = Table("ID", "Name", "Role", "Visibility", "Created", title="Projects")
    for item in page.get("items", []):
        table.add_row(
            str(item.get("id")),
            str(item.get("name")),
            str(item.get("role") or ""),
            "public" if item.get("is_public") else "private",
            str(item.get("created_at", ""))[:19].replace("T", " "),
        )
    console = _stdout()
    console.print(table)
    total = page.get("total", len(page.get("items", [])))
    console.print(f"{len(page.get('items', []))} of {total} project(s)")


@projects_app.command("create")
@_handle_errors
def projects_create(
    name: str = typer.Argument(..., help="The project's name."),
    description: str | None = typer.Option(None, "--description", "-d"),
    team: str | None = typer.Option(None, "--team", help="Team id to create it in."),
    public: bool = typer.Option(False, "--public", help="Readable by every user."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a project owned by you."""
    body: dict[str, Any] = {"name": name, "is_public": public}
    if description is not None:
        body["description"] = description
    if team is not None:
        body["team_id"] = _parse_uuid(team, "team id")
    with _client() as api:
        project = api.json("POST", "/api/v1/projects", json=body)
    if as_json:
        _print_json(project)
        return
    _stdout().print(f"created project [bold]{project['name']}[/bold]  id {project['id']}")


@projects_app.command("show")
@_handle_errors
def projects_show(
    project_id: str = typer.Argument(..., metavar="ID", help="The project's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One project's details and settings."""
    pid = _parse_uuid(project_id, "project id")
    with _client() as api:
        project = api.json("GET", f"/api/v1/projects/{pid}")
    if as_json:
        _print_json(project)
        return
    from rich.table import Table

    table = Table(show_header=False, title=str(project.get("name")), title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key in ("id", "description", "owner_id", "team_id", "role", "created_at", "updated_at"):
        table.add_row(key, str(project.get(key) if project.get(key) is not None else "-"))
    table.add_row("visibility", "public" if project.get("is_public") else "private")
    settings = project.get("settings") or {}
    for key, value in settings.items():
        shown = json.dumps(value) if isinstance(value, dict) else str(value)
        table.add_row(f"settings.{key}", shown)
    _stdout().print(table)
