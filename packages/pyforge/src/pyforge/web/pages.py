"""Rendering of the dashboard's HTML: one shell per page, the sign-in forms and the 404 page.

The shell carries what the page's script needs to start (which page, which ids, the user's
name and what their role allows, so it can hide actions) and never a credential: the session
is an HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

#: Assets the dashboard serves, by name -> media type. Nothing else is served from the package.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the page sees them (no secret)."""

    username: str
    is_admin: bool


@dataclass
class Shell:
    """One page's start-up data, rendered as ``data-*`` attributes of ``<body>``."""

    page: str
    title: str
    viewer: Viewer | None = None
    data: dict[str, str] = field(default_factory=dict)


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("pyforge.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def asset(name: str) -> tuple[bytes, str]:
    """An asset's bytes and a short content hash (its cache-busting version)."""
    data = (resources.files("pyforge.web") / "static" / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def security_headers(host: str) -> dict[str, str]:
    """Headers of every dashboard page: scripts and styles only from this server."""
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


@dataclass(frozen=True)
class Site:
    """What every page of one request shares: the host (for the CSP) and the CSRF cookie name."""

    host: str
    csrf_cookie: str


def render(template: str, site: Site, status_code: int = 200, *,
           data: dict[str, str] | None = None, **context: Any) -> HTMLResponse:  # fmt: skip
    """A template rendered with the asset versions, as an HTML response with the headers."""
    versions = {name: asset(name)[1] for name in ASSETS}
    attributes = {"csrf-cookie": site.csrf_cookie, **(data or {})}
    html = _env().get_template(template).render(assets=versions, data=attributes, **context)
    return HTMLResponse(html, status_code=status_code, headers=security_headers(site.host))


def render_shell(shell: Shell, site: Site) -> HTMLResponse:
    """The page shell the script fills in."""
    data = {"page": shell.page, **shell.data}
    if shell.viewer is not None:
        data["user"] = shell.viewer.username
        data["admin"] = "1" if shell.viewer.is_admin else ""
    return render("shell.html", site, title=shell.title, data=data, viewer=shell.viewer)
