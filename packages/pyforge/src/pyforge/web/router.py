"""The dashboard's pages (HTML, outside the OpenAPI document) and its static assets.

Each page route checks what the server must decide before any script runs: who is signed in
(else back to sign-in, returning here afterwards) and whether the project exists for them
(else a real 404 page). Everything shown is then fetched by the page from ``/api/v1``.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from forgekit.deps import SessionDep, get_runtime
from forgekit.errors import NotFound, ProblemError
from forgekit.identity.browser import cookie_names
from forgekit.identity.deps import get_optional_principal
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import role_has
from pyforge.access import project_access_for
from pyforge.permissions import Permission
from pyforge.web.pages import ASSETS, Shell, Site, Viewer, asset, render, render_shell

router = APIRouter(include_in_schema=False)


async def _principal(request: Request, session: SessionDep) -> Principal | None:
    try:
        return await get_optional_principal(request, session, None, None)
    except ProblemError:
        # An expired or revoked session is the same as none: sign in again.
        return None


def _to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def _site(request: Request) -> Site:
    settings = get_runtime(request).settings
    return Site(request.headers.get("host", "localhost"), cookie_names(settings).csrf)


def _viewer(principal: Principal) -> Viewer:
    return Viewer(username=principal.user.username, is_admin=principal.is_admin)


async def _user_page(request: Request, session: SessionDep, page: str, title: str,
                     **data: str) -> Response:  # fmt: skip
    principal = await _principal(request, session)
    if principal is None:
        return _to_sign_in(request)
    return render_shell(Shell(page, title, _viewer(principal), data), _site(request))


async def _project_page(request: Request, session: SessionDep, project_id: uuid.UUID,
                        page: str, title: str, **data: str) -> Response:  # fmt: skip
    principal = await _principal(request, session)
    if principal is None:
        return _to_sign_in(request)
    try:
        access = await project_access_for(session, principal, project_id, Permission.PROJECT_READ)
    except ProblemError:
        return render("404.html", _site(request), status_code=404, viewer=_viewer(principal),
                      title="Not found")  # fmt: skip
    role = access.role.value

    def allows(permission: Permission) -> str:
        return "1" if role_has(role, permission) and principal.has(permission) else ""

    data |= {
        "project": str(project_id),
        "project-name": access.project.name,
        "role": role,
        "can-write": allows(Permission.PROJECT_WRITE),
        "can-analyze": allows(Permission.ANALYSIS_RUN),
        "can-delete": allows(Permission.PROJECT_DELETE),
    }
    return render_shell(Shell(page, f"{title} · {access.project.name}", _viewer(principal), data),
                        _site(request))  # fmt: skip


ProjectId = Annotated[uuid.UUID, Path()]


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    """The sign-in form."""
    return render(
        "signin.html", _site(request), title="Sign in", viewer=None, data={"page": "signin"}
    )


@router.get("/signup")
async def sign_up_page(request: Request) -> Response:
    """The sign-up form."""
    return render(
        "signup.html", _site(request), title="Sign up", viewer=None, data={"page": "signup"}
    )


@router.get("/")
async def projects_page(request: Request, session: SessionDep) -> Response:
    """Projects: search, create."""
    return await _user_page(request, session, "projects", "Projects")


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep) -> Response:
    """API keys and notification preferences."""
    return await _user_page(request, session, "settings", "Settings")


@router.get("/teams")
async def teams_page(request: Request, session: SessionDep) -> Response:
    """Teams and their members."""
    return await _user_page(request, session, "teams", "Teams")


@router.get("/rules/{rule_id}")
async def rule_page(request: Request, session: SessionDep, rule_id: str) -> Response:
    """A rule's documentation."""
    return await _user_page(request, session, "rule", f"Rule {rule_id}", rule=rule_id)


@router.get("/projects/{project_id}")
async def overview_page(request: Request, session: SessionDep, project_id: ProjectId) -> Response:
    """A project's overview: gate, ratings, trends, new code."""
    return await _project_page(request, session, project_id, "overview", "Overview")


@router.get("/projects/{project_id}/analyses")
async def analyses_page(request: Request, session: SessionDep, project_id: ProjectId) -> Response:
    """A project's analyses, with live progress."""
    return await _project_page(request, session, project_id, "analyses", "Analyses")


@router.get("/projects/{project_id}/analyses/{analysis_id}")
async def analysis_page(request: Request, session: SessionDep, project_id: ProjectId,
                        analysis_id: uuid.UUID) -> Response:  # fmt: skip
    """One analysis: progress while it runs, then its results."""
    return await _project_page(request, session, project_id, "analysis", "Analysis",
                               analysis=str(analysis_id))  # fmt: skip


@router.get("/projects/{project_id}/findings")
async def findings_page(request: Request, session: SessionDep, project_id: ProjectId) -> Response:
    """The findings table of an analysis (the latest by default), with filters."""
    return await _project_page(request, session, project_id, "findings", "Findings")


@router.get("/projects/{project_id}/files/{path:path}")
async def file_page(request: Request, session: SessionDep, project_id: ProjectId,
                    path: str) -> Response:  # fmt: skip
    """A file with its code highlighted and the findings at their lines."""
    return await _project_page(request, session, project_id, "file", path, path=path)


@router.get("/projects/{project_id}/settings")
async def project_settings_page(request: Request, session: SessionDep,
                                project_id: ProjectId) -> Response:  # fmt: skip
    """A project's webhooks and their delivery log."""
    return await _project_page(request, session, project_id, "project-settings", "Settings")


@router.get("/static/{name}")
async def static_asset(name: str, request: Request) -> Response:
    """The dashboard's own script, style and icon (no CDN: everything is served here)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"No asset {name!r}.")
    data, version = asset(name)
    etag = f'"{version}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400",
               "X-Content-Type-Options": "nosniff"}  # fmt: skip
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)
