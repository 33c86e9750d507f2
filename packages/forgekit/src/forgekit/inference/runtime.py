"""The inference runtime of one app: its served models, each with a session and a batcher."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import onnxruntime as ort
from prometheus_client import CollectorRegistry

from forgekit.errors import NotFound
from forgekit.inference.batching import Array, BucketOf, DynamicBatcher, Inputs, Outputs
from forgekit.inference.loading import get_session, read_model
from forgekit.inference.metrics import InferenceMetrics
from forgekit.inference.settings import InferenceSettings
from forgekit.storage import ObjectStorage


@dataclass(slots=True)
class ServedModel:
    """One model version: its ONNX Runtime session and the batcher in front of it."""

    name: str
    version: str
    sha256: str
    session: ort.InferenceSession
    batcher: DynamicBatcher

    async def infer(self, inputs: Inputs) -> Outputs:
        """Run one request through the batcher (raises ``InferenceOverloaded`` when full)."""
        return await self.batcher.submit(inputs)


def _runner(session: ort.InferenceSession) -> Callable[[dict[str, Array]], Outputs]:
    names = [o.name for o in session.get_outputs()]

    def run(inputs: dict[str, Array]) -> Outputs:
        return dict(zip(names, session.run(names, inputs), strict=True))

    return run


class InferenceRuntime:
    """Loads models from storage (sha256-verified), warms them up and serves them batched.

    Metrics go to ``registry`` (the app's, e.g. ``AppMetrics.registry``) as
    ``<namespace>_inference_*``.
    """

    def __init__(
        self,
        settings: InferenceSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "forge",
    ) -> None:
        self.settings = settings or InferenceSettings()
        self.metrics = InferenceMetrics(registry or CollectorRegistry(), namespace)
        self._models: dict[str, ServedModel] = {}

    async def load(
        self,
        name: str,
        version: str,
        storage: ObjectStorage,
        key: str,
        *,
        sha256: str | None = None,
        warm_up_inputs: Inputs | None = None,
        pad_values: Mapping[str, float | int] | None = None,
        bucket_of: BucketOf | None = None,
    ) -> ServedModel:
        """Read, verify and open a model, run the warm-up inputs once, and serve it as ``name``.

        ``bucket_of`` groups variable-size requests (see :class:`DynamicBatcher`). Loading a
        name again replaces the served version (the old batcher is closed).
        """
        data = await read_model(storage, key, sha256)
        session = await asyncio.to_thread(get_session, data, self.settings)
        if warm_up_inputs is not None and self.settings.warm_up:
            # The first run allocates arenas and picks kernels: pay it now, not on a request.
            await asyncio.to_thread(_runner(session), dict(warm_up_inputs))
        batcher = DynamicBatcher(
            name, version, _runner(session), self.settings, self.metrics, pad_values, bucket_of
        )
        served = ServedModel(name, version, sha256 or key, session, batcher)
        old = self._models.pop(name, None)
        self._models[name] = served
        if old is not None:
            await old.batcher.close()
        return served

    def get(self, name: str) -> ServedModel:
        """The served model of that name; ``NotFound`` (404) when none is loaded."""
        try:
            return self._models[name]
        except KeyError:
            raise NotFound(f"No model named {name!r} is loaded.") from None

    async def infer(self, name: str, inputs: Inputs) -> Outputs:
        """Run a request on the named model."""
        return await self.get(name).infer(inputs)

    async def close(self) -> None:
        """Stop every batcher."""
        for served in self._models.values():
            await served.batcher.close()
        self._models.clear()
