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

import contextlib
import functools
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    import httpx
    from pathspec import GitIgnoreSpec
    from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CREDENTIALS_FILE = "credentials.json"
DEFAULT_SERVER = "http://127.0.0.1:8000"
#: Directories never uploaded, whatever the ``.gitignore`` files say: VCS data, virtualenvs and
#: caches are large, machine-specific and never part of the code under analysis.
ALWAYS_SKIP = frozenset({".git", ".venv", "__pycache__", ".pyforge-cache"})
SEVERITIES = ("blocker", "critical", "major", "minor", "info")
_SEVERITY_STYLE = {
    "blocker": "bold red", "critical": "red", "major": "yellow", "minor": "cyan", "info": "dim",
}  # fmt: skip
_TERMINAL = frozenset({"succeeded", "failed"})

P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """An error reported as one ``error:`` line on stderr and a non-zero exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise CliError(message, code)


def _handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`CliError` and transport failures into one stderr line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CliError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.code) from None
        except Exception as exc:
            # httpx is imported here, not at module level, to keep ``pyforge analyze`` lean.
            import httpx

            if not isinstance(exc, httpx.HTTPError):
                raise
            # Anything the client did not translate itself (a reset mid-response, a protocol
            # error): still one line, named after the exception so it can be searched for.
            typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper


# --- credentials ------------------------------------------------------------------------------


def config_dir() -> Path:
    """Where the CLI keeps its files: ``$PYFORGE_CONFIG_DIR``, else ``~/.config/pyforge``."""
    explicit = os.environ.get("PYFORGE_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pyforge"


@dataclass
class Credentials:
    """What ``pyforge login`` stored: the server and either a token pair or an API key."""

    server: str
    username: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    api_key: str | None = None

    @property
    def bearer(self) -> str | None:
        """The credential sent as ``Authorization: Bearer``."""
        return self.api_key or self.access_token


def credentials_path() -> Path:
    """The credentials file."""
    return config_dir() / CREDENTIALS_FILE


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no other user can read it at any moment.

    The file is created with mode 0600 by ``os.open`` (a later chmod would leave a window in
    which it has the umask's permissions), written under a random temporary name and renamed
    into place, so a crash never leaves half a file and readers see the old or the new one.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def save_credentials(creds: Credentials) -> Path:
    """Store ``creds`` (mode 0600) and return the file's path."""
    path = credentials_path()
    body = {k: v for k, v in asdict(creds).items() if v is not None}
    _write_private(path, json.dumps(body, indent=2).encode() + b"\n")
    return path


def load_credentials() -> Credentials | None:
    """The stored credentials, or None when there are none."""
    path = credentials_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _fail(f"cannot read {path}: {exc}; run pyforge login again")
    if not isinstance(raw, dict) or not isinstance(raw.get("server"), str):
        _fail(f"{path} is not a credentials file; run pyforge login again")
    fields = ("server", "username", "access_token", "refresh_token", "api_key")
    return Credentials(**{k: raw[k] for k in fields if isinstance(raw.get(k), str)})


def _current_credentials() -> Credentials:
    """Stored credentials, with ``PYFORGE_API_KEY``/``PYFORGE_SERVER`` taking precedence.

    The environment route lets CI use a key from its secret store without writing a file.
    """
    env_key = os.environ.get("PYFORGE_API_KEY")
    env_server = os.environ.get("PYFORGE_SERVER")
    stored = load_credentials()
    if env_key:
        server = env_server or (stored.server if stored else None)
        if not server:
            _fail("PYFORGE_API_KEY is set but no server is known: set PYFORGE_SERVER")
        return Credentials(server=_normalise_server(server), api_key=env_key)
    if stored is None or stored.bearer is None:
        _fail("not logged in: run pyforge login --server URL")
    return stored


# --- HTTP -------------------------------------------------------------------------------------


def _normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        _fail(f"invalid server URL {url!r}: it must start with http:// or https://")
    return url


def _problem_message(response: httpx.Response) -> str:
    """The server's explanation of an error response (RFC 9457 ``detail`` when present)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        if isinstance(detail, str):
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                # Validation problems carry the fields at fault; the first one is usually
                # enough to fix the call and keeps the message on one line.
                first = errors[0]
                detail += f" ({first.get('field', '?')}: {first.get('message', 'invalid')})"
            return f"{detail} [HTTP {response.status_code}]"
    reason = response.reason_phrase or "error"
    return f"server answered HTTP {response.status_code} {reason}"


class ApiClient:
    """A small synchronous client of the PyForge API bound to one set of credentials."""

    def __init__(self, creds: Credentials, *, persist: bool = True) -> None:
        import httpx

        self.creds = creds
        self.server = creds.server
        # Persisting refreshed tokens is off for credentials that came from the environment.
        self._persist = persist
        self._http = httpx.Client(
            base_url=creds.server,
            timeout=httpx.Timeout(30.0, connect=5.0, write=300.0),
            headers={"User-Agent": "pyforge-cli", "Accept": "application/json"},
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        headers = dict(kwargs.pop("headers", None) or {})
        if self.creds.bearer:
            headers["Authorization"] = f"Bearer {self.creds.bearer}"
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.ConnectError:
            _fail(f"cannot reach server {self.server}")
        except httpx.TimeoutException:
            _fail(f"server {self.server} did not answer in time")
        except httpx.TransportError as exc:
            _fail(f"connection to {self.server} failed: {exc or type(exc).__name__}")

    def request(
        self, method: str, path: str, *, rewind: IO[bytes] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send a request, refreshing the session once on 401; raise :class:`CliError` on error.

        ``rewind`` is an uploaded file to seek back to its start before the retry.
        """
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._refresh():
            if rewind is not None:
                rewind.seek(0)
            response = self._send(method, path, **kwargs)
        if response.status_code == 401:
            if self.creds.api_key:
                _fail("the API key was rejected (revoked or expired): run pyforge login")
            _fail("not logged in or session expired: run pyforge login")
        if response.is_error:
            _fail(_problem_message(response))
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request`` and decode the JSON body."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            _fail(f"{self.server} did not answer with JSON: is it a PyForge server?")

    def _refresh(self) -> bool:
        """Exchange the refresh token for a new pair; True when the request may be retried."""
        if self.creds.api_key or not self.creds.refresh_token:
            return False
        with _credentials_lock():
            # Another pyforge process may have refreshed already; the server rotates refresh
            # tokens, so using our (now spent) one would end the session for both.
            if self._persist:
                stored = load_credentials()
                if (
                    stored is not None
                    and stored.server == self.creds.server
                    and stored.access_token
                    and stored.access_token != self.creds.access_token
                ):
                    self.creds = stored
                    return True
            response = self._send(
                "POST", "/auth/refresh", json={"refresh_token": self.creds.refresh_token}
            )
            if response.status_code != 200:
                return False
            body = response.json()
            self.creds.access_token = body["access_token"]
            self.creds.refresh_token = body["refresh_token"]
            if self._persist:
                save_credentials(self.creds)
        return True


@contextlib.contextmanager
def _credentials_lock() -> Iterator[None]:
    """Serialise token refreshes between pyforge processes (advisory lock; POSIX only)."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    path = config_dir() / ".credentials.lock"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _client() -> ApiClient:
    return ApiClient(_current_credentials())


def _parse_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        _fail(f"invalid {what} {value!r}: expected a UUID")


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


# --- login / logout ---------------------------------------------------------------------------


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


# --- projects ---------------------------------------------------------------------------------

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


# --- push -------------------------------------------------------------------------------------


#: The ``.gitignore`` specs in force in a directory: (directory relative to the root, spec).
_Specs = tuple[tuple[str, "GitIgnoreSpec"], ...]


def collect_files(root: Path) -> list[tuple[Path, str]]:
    """The files of the tree at ``root`` that git would track: ``(path, archive name)`` pairs.

    Every ``.gitignore`` applies to its directory and below, deeper files overriding shallower
    ones (a ``!pattern`` re-includes), as git does; an ignored directory is not entered, so
    nothing inside it can be re-included, also as git does. :data:`ALWAYS_SKIP` directories
    and symbolic links are never included (a link could carry a file from outside the tree).
    """
    from pathspec import GitIgnoreSpec

    found: list[tuple[Path, str]] = []

    def ignored(rel: str, is_dir: bool, specs: _Specs) -> bool:
        verdict: bool | None = None
        for base, spec in specs:
            sub = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(sub + "/" if is_dir else sub)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)

    def walk(directory: Path, rel_dir: str, specs: _Specs) -> None:
        gitignore = directory / ".gitignore"
        if gitignore.is_file() and not gitignore.is_symlink():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            specs = (*specs, (rel_dir, GitIgnoreSpec.from_lines(lines)))
        with os.scandir(directory) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        for entry in ordered:
            if entry.name in ALWAYS_SKIP or entry.is_symlink():
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir():
                if not ignored(rel, True, specs):
                    walk(Path(entry.path), rel, specs)
            elif entry.is_file() and not ignored(rel, False, specs):
                found.append((Path(entry.path), rel))

    walk(root, "", ())
    return found


def pack(root: Path, out: IO[bytes]) -> int:
    """Write the tree at ``root`` (see :func:`collect_files`) to ``out`` as a .tar.gz.

    Owners and timestamps are normalised so that the same tree packs to the same archive.
    Returns the number of files.
    """
    import tarfile

    files = collect_files(root)
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path, name in files:
            info = tarfile.TarInfo(name)
            try:
                with path.open("rb") as fh:
                    info.size = os.fstat(fh.fileno()).st_size
                    info.mode = 0o644
                    tar.addfile(info, fh)
            except OSError as exc:
                _fail(f"cannot read {path}: {exc.strerror or exc}")
    return len(files)


def _poll(
    api: ApiClient, analysis_id: str, *, interval: float, timeout: float, show: bool
) -> dict[str, Any]:
    """Poll the analysis until it finishes, showing a progress bar on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("files"), TimeElapsedColumn(), console=_stderr(), disable=not show,
        transient=False,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    with progress:
        task = progress.add_task("queued", total=None)
        while True:
            analysis: dict[str, Any] = api.json("GET", f"/api/v1/analyses/{analysis_id}")
            status = str(analysis.get("status"))
            counts = analysis.get("progress") or {}
            total = counts.get("files_total")
            done = counts.get("files_done") or 0
            progress.update(
                task,
                description=status,
                total=total if isinstance(total, int) and total > 0 else None,
                completed=done,
            )
            if status in _TERMINAL:
                if status == "succeeded" and isinstance(total, int):
                    progress.update(task, completed=total)
                return analysis
            if time.monotonic() > deadline:
                _fail(
                    f"analysis {analysis_id} did not finish within {timeout:g} s "
                    f"(still {status}); follow it with: pyforge findings {analysis_id}"
                )
            time.sleep(interval)


def _render_summary(analysis: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    """Gate verdict, finding counts by severity and the most severe findings, on stdout."""
    console = _stdout()
    summary = analysis.get("summary") or {}
    duration = analysis.get("duration_s")
    took = f" in {duration:.1f} s" if isinstance(duration, int | float) else ""
    console.print(f"analysis {analysis.get('id')} {analysis.get('status')}{took}")
    gate = analysis.get("quality_gate") or {}
    gate_status = str(gate.get("status", "unknown"))
    style = "bold green" if gate_status == "passed" else "bold red"
    console.print(f"quality gate: [{style}]{gate_status.upper()}[/{style}]")
    for condition in gate.get("conditions") or []:
        if isinstance(condition, dict):
            ok = condition.get("passed", condition.get("status") == "passed")
            name = condition.get("name") or condition.get("condition") or condition
            detail = condition.get("detail")
            if detail is None and "actual" in condition:
                # The service reports the measured value and the limit rather than prose.
                detail = f"{condition['actual']} found, limit {condition.get('threshold', '?')}"
            mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
            console.print(f"  {mark} {name}" + (f" ({detail})" if detail else ""))
        else:
            console.print(f"  - {condition}")
    by_severity = summary.get("findings_by_severity")
    if isinstance(by_severity, dict):
        parts = [
            f"[{_SEVERITY_STYLE[s]}]{s}[/{_SEVERITY_STYLE[s]}] {by_severity.get(s, 0)}"
            for s in SEVERITIES
        ]
        total = summary.get("findings", sum(int(v) for v in by_severity.values()))
        console.print(f"findings: {total}  (" + ", ".join(parts) + ")")
    if findings:
        console.print(_findings_table(findings, title="Top findings"))


def _severity_rank(finding: dict[str, Any]) -> int:
    severity = finding.get("severity")
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _findings_table(findings: list[dict[str, Any]], *, title: str) -> Any:
    from rich.table import Table

    table = Table("Severity", "Rule", "Location", "Message", "Status", title=title)
    for f in findings:
        severity = str(f.get("severity", ""))
        style = _SEVERITY_STYLE.get(severity, "")
        location = f"{f.get('path', '')}:{f.get('line')}" if f.get("line") else str(f.get("path"))
        table.add_row(
            f"[{style}]{severity}[/{style}]" if style else severity,
            str(f.get("rule", "")),
            location,
            str(f.get("message", "")),
            str(f.get("status", "")),
        )
    return table


@_handle_errors
def push(
    path: Path = typer.Argument(Path(), help="The project tree to upload (default: here)."),
    project: str = typer.Option(..., "--project", "-p", help="The project's id."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the analysis."),
    timeout: float = typer.Option(1800.0, min=1, help="Seconds to wait for the analysis."),
    poll_interval: float = typer.Option(1.0, min=0.05, help="Seconds between status checks."),
    top: int = typer.Option(10, min=0, help="Most severe findings to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
) -> None:
    """Upload a tree (honouring .gitignore) as the project's files and analyse it.

    Exits 0 when the quality gate passes, 1 when it fails or the analysis fails.
    """
    pid = _parse_uuid(project, "project id")
    root = path.expanduser()
    if not root.is_dir():
        _fail(f"{path} is not a directory")
    api = _client()
    err = _stderr()
    with api, tempfile.TemporaryFile() as archive:
        # Asked before packing, so that a wrong id or an expired login costs no upload.
        api.json("GET", f"/api/v1/projects/{pid}")
        count = pack(root, archive)
        if count == 0:
            _fail(f"nothing to upload: every file under {path} is ignored")
        size = archive.tell()
        archive.seek(0)
        err.print(f"uploading {count} file(s) ({size / 1024:.1f} KiB)")
        upload = api.json(
            "POST",
            f"/api/v1/projects/{pid}/files",
            files={"file": ("tree.tar.gz", archive, "application/gzip")},
            data={"replace": "true"},
            rewind=archive,
        )
        err.print(
            f"uploaded: {upload.get('added', 0)} added, {upload.get('updated', 0)} updated, "
            f"{upload.get('unchanged', 0)} unchanged, {upload.get('deleted', 0)} deleted"
        )
        queued = api.json("POST", f"/api/v1/projects/{pid}/analyses")
        analysis_id = str(queued["id"])
        if not wait:
            if as_json:
                _print_json(queued)
            else:
                typer.echo(analysis_id)
            return
        err.print(f"analysis {analysis_id} queued")
        try:
            analysis = _poll(
                api, analysis_id, interval=poll_interval, timeout=timeout, show=not as_json
            )
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted; the analysis goes on: pyforge findings {analysis_id}", err=True
            )
            raise typer.Exit(130) from None
        findings: list[dict[str, Any]] = []
        if analysis.get("status") == "succeeded" and top:
            # The server pages findings in its own order; ask for a generous page and rank
            # here so "top" means the most severe.
            page = api.json(
                "GET", f"/api/v1/analyses/{analysis_id}/findings", params={"limit": 100}
            )
            findings = sorted(page.get("items", []), key=_severity_rank)[:top]
    if as_json:
        _print_json(analysis)
    else:
        _render_summary(analysis, findings)
    if analysis.get("status") == "failed":
        _fail(f"analysis failed: {analysis.get('error') or 'no reason given'}", EXIT_FAILED)
    gate = analysis.get("quality_gate") or {}
    raise typer.Exit(EXIT_OK if gate.get("status", "passed") == "passed" else EXIT_FAILED)


# --- findings ---------------------------------------------------------------------------------


@_handle_errors
def findings(
    analysis_id: str = typer.Argument(..., metavar="ANALYSIS_ID"),
    severity: str | None = typer.Option(None, "--severity", "-s", help="e.g. critical"),
    status: str | None = typer.Option(None, "--status", help="e.g. open"),
    limit: int = typer.Option(50, min=1, max=500, help="Findings per page."),
    offset: int = typer.Option(0, min=0, help="Findings to skip."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List an analysis's findings."""
    aid = _parse_uuid(analysis_id, "analysis id")
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if severity:
        params["severity"] = severity
    if status:
        params["status"] = status
    with _client() as api:
        page = api.json("GET", f"/api/v1/analyses/{aid}/findings", params=params)
    if as_json:
        _print_json(page)
        return
    items = page.get("items", [])
    console = _stdout()
    console.print(_findings_table(items, title=f"Findings of {aid}"))
    total = page.get("total", len(items))
    console.print(f"{len(items)} of {total} finding(s) (offset {offset})")


def register(app: typer.Typer) -> None:
    """Add the client commands to the ``pyforge`` CLI."""
    app.command()(login)
    app.command()(logout)
    app.add_typer(projects_app, name="projects")
    app.command()(push)
    app.command()(findings)
