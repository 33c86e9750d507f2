"""Dynamic batching: requests to one model queue up and run together as one batch.

A batch runs when ``max_batch_size`` requests wait or when the oldest has waited
``max_queue_delay_ms``, whichever comes first. Requests of variable size (sequences) may be
given a *bucket* (say, their length rounded up): a batch then only holds requests of the
oldest request's bucket, so a short sequence is not padded to the longest one in the queue.
Batches of one model run one at a time on a thread of their own (ONNX Runtime releases the
GIL), so the event loop keeps serving while a batch computes and the next batch fills
meanwhile. The queue is bounded: past ``max_queue_size`` waiting requests a submit raises
:class:`InferenceOverloaded` (503).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from forgekit.inference.errors import InferenceOverloaded
from forgekit.inference.metrics import InferenceMetrics
from forgekit.inference.settings import InferenceSettings

Array = npt.NDArray[np.generic]
Inputs = Mapping[str, Array]
Outputs = dict[str, Array]
RunBatch = Callable[[dict[str, Array]], Outputs]
BucketOf = Callable[[Inputs], Hashable]


@dataclass(slots=True)
class _Request:
    inputs: Inputs
    rows: int
    future: asyncio.Future[Outputs]
    bucket: Hashable
    enqueued: float = field(default_factory=time.monotonic)


def pad_concat(arrays: list[Array], pad_value: float | int = 0) -> Array:
    """Concatenate along axis 0, padding every other axis to the largest size first."""
    shape = [max(a.shape[d] for a in arrays) for d in range(1, arrays[0].ndim)]
    rows = sum(a.shape[0] for a in arrays)
    out = np.full((rows, *shape), pad_value, dtype=arrays[0].dtype)
    start = 0
    for a in arrays:
        out[(slice(start, start + a.shape[0]), *(slice(0, s) for s in a.shape[1:]))] = a
        start += a.shape[0]
    return out


class DynamicBatcher:
    """Batches requests for one model version; :meth:`submit` returns that request's rows.

    Inputs of a request carry its rows on axis 0 (usually one); other axes may differ between
    requests and are padded with ``pad_values`` (default 0), so outputs keep the batch's padded
    sizes — the caller crops what it needs.
    """

    def __init__(
        self,
        model: str,
        version: str,
        run_batch: RunBatch,
        settings: InferenceSettings,
        metrics: InferenceMetrics | None = None,
        pad_values: Mapping[str, float | int] | None = None,
        bucket_of: BucketOf | None = None,
    ) -> None:
        self.model, self.version = model, version
        self._bucket_of = bucket_of
        self._run_batch = run_batch
        self._settings = settings
        self._metrics = metrics
        self._pad = dict(pad_values or {})
        self._queue: deque[_Request] = deque()
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"infer-{model}")
        self.batches_run = 0

    @property
    def depth(self) -> int:
        """Requests waiting for a batch."""
        return len(self._queue)

    async def submit(self, inputs: Inputs) -> Outputs:
        """Queue a request and wait for its outputs; :class:`InferenceOverloaded` when full."""
        if len(self._queue) >= self._settings.max_queue_size:
            if self._metrics is not None:
                self._metrics.errors.labels(self.model, self.version, "overloaded").inc()
            raise InferenceOverloaded(self.model, self._settings.retry_after_s)
        rows = int(next(iter(inputs.values())).shape[0])
        bucket = self._bucket_of(inputs) if self._bucket_of is not None else None
        request = _Request(inputs, rows, asyncio.get_running_loop().create_future(), bucket)
        self._queue.append(request)
        self._gauge()
        self._arrived.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._loop(), name=f"batcher-{self.model}")
        return await request.future

    def _gauge(self) -> None:
        if self._metrics is not None:
            self._metrics.queue_depth.labels(self.model).set(len(self._queue))

    async def _loop(self) -> None:
        delay = self._settings.max_queue_delay_ms / 1000
        limit = self._settings.max_batch_size
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            oldest = self._queue[0]
            deadline = oldest.enqueued + delay
            while self._count(oldest.bucket, limit) < limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    break
            batch = self._take(oldest.bucket, limit)
            self._gauge()
            await self._run(batch)

    def _count(self, bucket: Hashable, limit: int) -> int:
        if self._bucket_of is None:
            return len(self._queue)
        n = 0
        for r in self._queue:
            n += r.bucket == bucket
            if n >= limit:
                break
        return n

    def _take(self, bucket: Hashable, limit: int) -> list[_Request]:
        """Up to ``limit`` requests of ``bucket``, oldest first; the others keep their order."""
        if self._bucket_of is None:
            return [self._queue.popleft() for _ in range(min(limit, len(self._queue)))]
        taken: list[_Request] = []
        kept: deque[_Request] = deque()
        for r in self._queue:
            (taken if r.bucket == bucket and len(taken) < limit else kept).append(r)
        self._queue = kept
        return taken

    async def _run(self, batch: list[_Request]) -> None:
        batch = [r for r in batch if not r.future.done()]  # a caller may have given up
        if not batch:
            return
        names = list(batch[0].inputs)
        merged = {n: pad_concat([r.inputs[n] for r in batch], self._pad.get(n, 0)) for n in names}
        loop = asyncio.get_running_loop()
        try:
            outputs = await loop.run_in_executor(self._executor, self._run_batch, merged)
        except Exception as exc:  # the model failed: every request of the batch learns why
            if self._metrics is not None:
                self._metrics.errors.labels(self.model, self.version, "failed").inc(len(batch))
            for r in batch:
                if not r.future.done():
                    r.future.set_exception(exc)
            return
        self.batches_run += 1
        now = time.monotonic()
        if self._metrics is not None:
            self._metrics.batch_size.labels(self.model, self.version).observe(len(batch))
        start = 0
        for r in batch:
            part = {k: v[start : start + r.rows] for k, v in outputs.items()}
            start += r.rows
            if self._metrics is not None:
                self._metrics.latency.labels(self.model, self.version).observe(now - r.enqueued)
            if not r.future.done():
                r.future.set_result(part)

    async def close(self) -> None:
        """Stop the worker; waiting requests fail with ``CancelledError``."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for r in self._queue:
            r.future.cancel()
        self._queue.clear()
        self._executor.shutdown(wait=False)
