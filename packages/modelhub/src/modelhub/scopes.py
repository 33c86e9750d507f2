"""Per-model inference scopes: which API keys may call a model's hosted inference.

``require_inference_scope`` is the dependency of an inference endpoint under
``/api/v1/models/{owner}/{name}/…``: a key scoped ``inference:<owner>/<name>`` (or
``inference:<owner>/*``, or ``model:infer``) passes; a key scoped for other models only gets
403 problem+json; a login session falls back to its role (consumers and publishers hold
``model:infer``). Whether the caller may see the model at all (404 for another's private one)
stays the endpoint's business, as on every other model route.
"""

from __future__ import annotations

from forgekit.errors import Forbidden
from forgekit.identity.deps import CurrentPrincipal
from forgekit.identity.principal import Principal
from modelhub.permissions import INFERENCE_SCOPE


def inference_scope(owner: str, name: str) -> str:
    """The scope naming one model's inference: ``inference:<owner>/<name>``."""
    return f"{INFERENCE_SCOPE}:{owner.lower()}/{name.lower()}"


def check_inference_scope(principal: Principal, owner: str, name: str) -> None:
    """403 unless ``principal`` may call the inference of ``owner/name``."""
    scope = inference_scope(owner, name)
    if not principal.has(scope):
        raise Forbidden(
            f"This API key may not call {owner}/{name}: it needs scope {scope} "
            f"(or {INFERENCE_SCOPE}:{owner}/*, or model:infer).",
            missing_scopes=[scope],
        )


async def require_inference_scope(owner: str, name: str, principal: CurrentPrincipal) -> Principal:
    """Dependency: the caller, when allowed to call the model named by the path's
    ``owner`` and ``name`` (401 without credentials, 403 without the scope)."""
    check_inference_scope(principal, owner, name)
    return principal
