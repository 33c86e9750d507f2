"""Aquaculture's runtime: the kit's backends, Aquaculture's settings and its classifier."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from prometheus_client import CollectorRegistry

from aquaculture.settings import AquacultureSettings
from forgekit.runtime import ProductRuntime, runtime_dependency

if TYPE_CHECKING:
    from aquaculture.classifier.serving import Classifier
    from aquaculture.webhooks.context import WebhookContext


@dataclass(kw_only=True)
class AquacultureRuntime(ProductRuntime[AquacultureSettings]):
    """The kit's runtime with Aquaculture's settings and the served classifier."""

    classifier: Classifier | None = None
    #: The API's metrics registry (served on ``/metrics``), set by the app factory.
    metrics_registry: CollectorRegistry | None = None
    #: Set once the classifier serves a model (a worker consumes before it has loaded one).
    model_loaded: asyncio.Event = field(default_factory=asyncio.Event)
    #: A farm's webhooks: secrets box and delivery loop (``aquaculture.webhooks.tasks``).
    webhooks: WebhookContext | None = None


AquaRuntimeDep = Annotated[AquacultureRuntime, Depends(runtime_dependency(AquacultureRuntime))]
"""The app's runtime with Aquaculture's typed fields."""
