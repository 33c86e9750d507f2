"""What every client command shares: credentials, the HTTP client, errors and output.

Imports only typer and the standard library at import time (httpx and rich load when used).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    import httpx
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
