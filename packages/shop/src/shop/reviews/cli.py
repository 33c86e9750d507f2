"""``shop sentiment score [--all|--unscored]``: score reviews' sentiment in batch, here with a
progress bar, or as a job for a worker (``--queue``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shop.reviews.sentiment import Scope


async def _queue(scope: Scope) -> str:
    from shop.ml.events import SENTIMENT_SCORE_REQUESTED, SentimentScoreRequested
    from shop.product import PRODUCT

    settings = PRODUCT.settings()
    runtime = PRODUCT.build_runtime(settings.kit(), settings)
    try:
        # Committed to the outbox; the relay of a running API or worker publishes it.
        event = await runtime.events.emit(
            SENTIMENT_SCORE_REQUESTED, SentimentScoreRequested(scope=scope).model_dump()
        )
    finally:
        await runtime.close()
    return f"queued sentiment job {event.id} ({scope}) for the worker (consumer group ml)"


async def _score(scope: Scope, chunk: int | None) -> str:
    from prometheus_client import CollectorRegistry
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from shop.ml.serving import MlServing
    from shop.product import PRODUCT
    from shop.reviews.sentiment import CHUNK, NoSentimentModel, count, score_batch

    settings = PRODUCT.settings()
    runtime = PRODUCT.build_runtime(settings.kit(), settings)
    serving = MlServing(runtime.db, runtime.storage, CollectorRegistry(), runtime.cache)
    try:
        async with runtime.db.session() as session:
            await serving.refresh(session, force=True)
            if serving.sentiment is None:
                raise NoSentimentModel()
            total = await count(session, scope)
        columns = ("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(f"scoring {scope} reviews", total=total)
            scored, version = await score_batch(
                runtime.db, serving, scope, chunk=chunk or CHUNK,
                progress=lambda n: bar.advance(task, n),
            )  # fmt: skip
    finally:
        await serving.close()
        await runtime.close()
    return f"{scored} reviews scored with sentiment model v{version}"


def register(app: typer.Typer) -> None:
    """Add the ``sentiment`` command group to the shop CLI."""
    group = typer.Typer(help="Review sentiment.", no_args_is_help=True)
    app.add_typer(group, name="sentiment")

    @group.command()
    def score(
        every: Annotated[
            bool,
            typer.Option("--all/--unscored", help="Score every review again with the active "
                                                  "model, or only those without a score."),
        ] = False,
        chunk: Annotated[
            int | None, typer.Option(min=1, max=5000, help="Reviews per transaction [200].")
        ] = None,
        queue: Annotated[
            bool, typer.Option("--queue", help="Leave the job to a worker instead.")
        ] = False,
    ) -> None:  # fmt: skip
        """Score reviews' sentiment (label, aspects, language) with the active model."""
        from shop.reviews.sentiment import NoSentimentModel

        scope: Scope = "all" if every else "unscored"
        if queue:
            typer.echo(asyncio.run(_queue(scope)))
            return
        try:
            typer.echo(asyncio.run(_score(scope, chunk)))
        except NoSentimentModel as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
