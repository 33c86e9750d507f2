"""Reconciliation of object storage with the rows that reference it.

Objects are stored before the row that names them is committed (a reader must never find a
row without its bytes), so a process that dies between the two leaves an *orphan* object,
and one killed mid-write leaves a temporary. Neither is visible to users; both waste space.
A *missing* object (a row naming a key that storage lacks) would be a real loss: the check
reports it loudly and never "repairs" it.

Orphans are removed only past a grace period: an upload in flight has stored its objects but
not yet committed its rows, and must not lose them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from forgekit.periodic import PeriodicJob
from forgekit.storage.base import ObjectStorage

log = logging.getLogger("forgekit.storage.reconcile")

ReferencedKeys = Callable[[], Awaitable[Collection[str]]]
"""Returns every object key the product's rows reference (read after the listing)."""


@dataclass(frozen=True)
class ReconcileReport:
    """What one reconciliation found and did."""

    stored: int
    referenced: int
    orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed_orphans: int = 0
    removed_partials: int = 0

    @property
    def consistent(self) -> bool:
        """No row points at a missing object and no orphan is left."""
        return not self.missing and len(self.orphans) == self.removed_orphans


async def reconcile(
    storage: ObjectStorage,
    referenced_keys: ReferencedKeys,
    *,
    grace_s: float,
    remove: bool = True,
    now: datetime | None = None,
) -> ReconcileReport:
    """Compare storage with ``referenced_keys()``; remove orphans older than ``grace_s``.

    The listing is taken *before* the references are read, so an object stored and committed
    in between is seen as referenced, never as an orphan.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=grace_s)
    listed = {item.key: item.modified_at async for item in storage.listing()}
    referenced = set(await referenced_keys())
    orphans = sorted(k for k, at in listed.items() if k not in referenced and at < cutoff)
    missing = sorted(referenced - listed.keys())
    removed = 0
    if remove:
        for key in orphans:
            await storage.delete(key)
            removed += 1
    partials = await storage.remove_stale_partials(cutoff) if remove else 0
    if missing:
        log.error("%d referenced objects are missing from storage", len(missing),
                  extra={"keys": missing[:20]})  # fmt: skip
    return ReconcileReport(len(listed), len(referenced), orphans, missing, removed, partials)


class StorageReconciler(PeriodicJob):
    """A background service running :func:`reconcile` every ``interval_s`` seconds."""

    name = "storage-reconciler"

    def __init__(
        self,
        storage: ObjectStorage,
        referenced_keys: ReferencedKeys,
        *,
        interval_s: float,
        grace_s: float,
        consumer_group: str | None = None,
    ) -> None:
        # The first pass waits one interval: start-up is busy enough.
        super().__init__(interval_s, first_delay_s=interval_s)
        self.storage, self.referenced_keys, self.grace_s = storage, referenced_keys, grace_s
        #: Runs only in processes consuming this group (one role, not every API replica).
        self.consumer_group = consumer_group
        self.last: ReconcileReport | None = None

    async def run_once(self) -> ReconcileReport:
        """Reconcile now; the report is also kept as :attr:`last`."""
        self.last = await reconcile(self.storage, self.referenced_keys, grace_s=self.grace_s)
        if self.last.orphans or self.last.removed_partials:
            log.info("storage reconciled: %d orphans and %d partial uploads removed",
                     self.last.removed_orphans, self.last.removed_partials)  # fmt: skip
        return self.last
