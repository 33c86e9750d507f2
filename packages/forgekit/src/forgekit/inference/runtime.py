"""The inference runtime of one app: its served models, each with a session and a batcher.

Models are kept in least-recently-used order under a memory budget (the bytes of their
files, a lower bound of what a session holds): loading one past the budget unloads the
least recently called first. Every call has a timeout.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import onnxruntime as ort
from prometheus_client import CollectorRegistry

from forgekit.errors import NotFound
from forgekit.inference.batching import Array, BucketOf, DynamicBatcher, Inputs, Outputs
from forgekit.inference.errors import InferenceTimeout
from forgekit.inference.loading import get_session, read_model, release_session
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
    #: Bytes of the model file (what the memory budget counts).
    size: int = 0
    timeout_s: float = field(default=30.0)

    async def infer(self, inputs: Inputs, timeout_s: float | None = None) -> Outputs:
        """Run one request through the batcher: ``InferenceOverloaded`` (503) when the queue
        is full, ``InferenceTimeout`` (504) past ``timeout_s`` (the runtime's by default)."""
        limit = timeout_s if timeout_s is not None else self.timeout_s
        try:
            return await asyncio.wait_for(self.batcher.submit(inputs), limit)
        except TimeoutError:
            raise InferenceTimeout(self.name, limit) from None


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
        # Least recently used first.
        self._models: OrderedDict[str, ServedModel] = OrderedDict()
        self._loading: dict[str, asyncio.Lock] = {}
        self.evictions = 0

    @property
    def loaded_bytes(self) -> int:
        """Bytes of the model files loaded now."""
        return sum(m.size for m in self._models.values())

    def loaded(self) -> list[str]:
        """Names of the loaded models, least recently used first."""
        return list(self._models)

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
        served = ServedModel(name, version, sha256 or key, session, batcher, len(data),
                             self.settings.call_timeout_s)  # fmt: skip
        old = self._models.pop(name, None)
        self._models[name] = served
        if old is not None:
            await self._unload(old)
        await self._evict(keep=name)
        return served

    async def ensure(
        self,
        name: str,
        version: str,
        storage: ObjectStorage,
        key: str,
        *,
        sha256: str | None = None,
        warm_up_inputs: Inputs | None = None,
    ) -> ServedModel:
        """The served model ``name`` at this file, loading it unless it is loaded already.

        Concurrent calls for the same name load once (the others wait for that load).
        """
        digest = sha256 or key
        if (current := self._touch(name, digest)) is not None:
            return current
        async with self._loading.setdefault(name, asyncio.Lock()):
            # Checked again under the lock: the load this call waited for may be the one.
            if (current := self._touch(name, digest)) is not None:
                return current
            return await self.load(name, version, storage, key, sha256=sha256,
                                   warm_up_inputs=warm_up_inputs)  # fmt: skip

    def _touch(self, name: str, digest: str) -> ServedModel | None:
        """The served model ``name`` if it is loaded from the file ``digest``, marked as most
        recently used; else ``None``."""
        current = self._models.get(name)
        if current is None or current.sha256 != digest:
            return None
        self._models.move_to_end(name)
        return current

    async def _evict(self, keep: str) -> None:
        """Unload least recently used models until the loaded bytes fit the budget (the model
        just loaded stays even when it alone is larger)."""
        while self.loaded_bytes > self.settings.memory_budget_bytes and len(self._models) > 1:
            victim = next(n for n in self._models if n != keep)
            await self._unload(self._models.pop(victim))
            self.evictions += 1

    async def _unload(self, served: ServedModel) -> None:
        await served.batcher.close()
        if not any(m.sha256 == served.sha256 for m in self._models.values()):
            release_session(served.sha256)

    def get(self, name: str) -> ServedModel:
        """The served model of that name; ``NotFound`` (404) when none is loaded."""
        try:
            served = self._models[name]
        except KeyError:
            raise NotFound(f"No model named {name!r} is loaded.") from None
        self._models.move_to_end(name)
        return served

    async def infer(self, name: str, inputs: Inputs, timeout_s: float | None = None) -> Outputs:
        """Run a request on the named model."""
        return await self.get(name).infer(inputs, timeout_s)

    async def close(self) -> None:
        """Stop every batcher."""
        for served in self._models.values():
            await served.batcher.close()
        self._models.clear()
