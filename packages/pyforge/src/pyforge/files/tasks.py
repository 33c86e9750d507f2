"""Storage reconciliation: the periodic check that rows and stored objects agree.

Every object PyForge stores is named by a row: a project file (live or history), an analysed
tree's manifest (branch and pull-request trees live only there), or a registered ML model.
Anything else older than the grace period is an orphan of an upload cut short (or of purged
history) and is removed; a row naming a missing object is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from forgekit.storage.reconcile import ReconcileReport, StorageReconciler, reconcile
from pyforge.analyses.models import Analysis
from pyforge.files.models import ProjectFile
from pyforge.predictions.models import MlModel

if TYPE_CHECKING:
    from pyforge.runtime import PyForgeRuntime

#: The analysis workers run it: one role, not every API replica.
CONSUMER_GROUP = "analysis"


async def referenced_keys(runtime: PyForgeRuntime) -> set[str]:
    """Every object key a PyForge row references."""
    async with runtime.db.session() as session:
        keys = set(await session.scalars(select(ProjectFile.sha256).distinct()))
        keys.update(await session.scalars(select(MlModel.sha256).distinct()))
        manifests = await session.scalars(
            select(Analysis.manifest).where(Analysis.manifest.is_not(None))
        )
        for manifest in manifests:
            keys.update(str(v) for v in (manifest or {}).values())
    return keys


async def reconcile_storage(
    runtime: PyForgeRuntime, *, grace_s: float | None = None, remove: bool = True
) -> ReconcileReport:
    """Run one reconciliation now (the periodic job and ``make reliability`` call this)."""
    grace = runtime.app_settings.storage_reconcile_grace_s if grace_s is None else grace_s
    return await reconcile(
        runtime.storage, lambda: referenced_keys(runtime), grace_s=grace, remove=remove
    )


def register(runtime: PyForgeRuntime) -> StorageReconciler:
    """Add the periodic reconciliation to the runtime's background services."""
    settings = runtime.app_settings
    job = StorageReconciler(
        runtime.storage, lambda: referenced_keys(runtime),
        interval_s=settings.storage_reconcile_interval_s,
        grace_s=settings.storage_reconcile_grace_s, consumer_group=CONSUMER_GROUP,
    )  # fmt: skip
    runtime.services.append(job)
    return job
