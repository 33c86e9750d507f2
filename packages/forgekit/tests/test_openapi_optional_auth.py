"""Optional authentication is documented as optional (``security: [{}, ...]``), required
authentication stays required, also through routers and router-level dependencies."""

from fastapi import APIRouter, Depends, FastAPI

from forgekit.identity.deps import CurrentPrincipal, OptionalPrincipal, require_scopes
from forgekit.identity.openapi import document_optional_auth


def test_only_routes_that_admit_anonymous_callers_are_marked_optional() -> None:
    router = APIRouter(prefix="/api")

    @router.get("/public")
    async def public(principal: OptionalPrincipal) -> dict[str, bool]:
        return {"anonymous": principal is None}

    @router.get("/private")
    async def private(principal: CurrentPrincipal) -> dict[str, str]:
        return {"id": str(principal.user_id)}

    guarded = APIRouter(prefix="/staff", dependencies=[Depends(require_scopes("team:read"))])

    @guarded.get("/looks")
    async def looks(principal: OptionalPrincipal) -> dict[str, bool]:
        return {"anonymous": principal is None}

    app = FastAPI()
    app.include_router(router)
    app.include_router(guarded)
    document_optional_auth(app)
    paths = app.openapi()["paths"]
    public_security = paths["/api/public"]["get"]["security"]
    assert public_security[0] == {} and len(public_security) > 1
    assert {} not in paths["/api/private"]["get"]["security"]
    # A router-level guard makes the optional principal of its routes required.
    assert {} not in paths["/staff/looks"]["get"]["security"]
    assert app.openapi() is app.openapi()  # built once
