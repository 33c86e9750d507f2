"""``modelhub billing invoice|collect|payout``: the billing job's steps by hand (idempotent,
like the job: a rerun bills, charges and pays out nothing twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from forgekit.errors import ProblemError
from forgekit.payments import PaymentError

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

T = TypeVar("T")

billing = typer.Typer(help="Monthly usage invoices, payment retries and publisher payouts.",
                      no_args_is_help=True)  # fmt: skip

Period = Annotated[str, typer.Option(help="The month, YYYY-MM (e.g. 2026-11).")]


def _run(work: Callable[[ModelhubRuntime], Awaitable[T]]) -> T:
    """Run ``work`` on a runtime built from the environment; errors become one line, exit 1."""
    from modelhub.product import PRODUCT

    async def main() -> T:
        settings = PRODUCT.settings()
        runtime = PRODUCT.build_runtime(settings.kit(), settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except (ValueError, ProblemError, PaymentError, OSError) as exc:
        typer.echo(f"error: {getattr(exc, 'detail', None) or exc}", err=True)
        raise typer.Exit(1) from None


@billing.command()
def invoice(period: Period) -> None:
    """Invoice a month's billable usage (after free tiers) and charge it."""
    from modelhub.billing.tasks import invoice_period

    report = _run(lambda runtime: invoice_period(runtime, period))
    typer.echo(f"{period}: {report.planned} planned now, {len(report.paid)} paid, "
               f"{len(report.failed)} failed (dunning), {len(report.pending)} pending")  # fmt: skip


@billing.command()
def collect() -> None:
    """Retry the past-due invoices whose retry is due."""
    from modelhub.billing.tasks import collect as collect_due

    typer.echo(f"{_run(collect_due)} invoices paid on retry")


@billing.command()
def payout(period: Period) -> None:
    """Pay out publishers' balances at or above the threshold for a month (once), and
    transfer pending payouts to their connected accounts."""
    from modelhub.billing.tasks import pay_out

    made, sent = _run(lambda runtime: pay_out(runtime, period))
    for p in made:
        typer.echo(f"{p.publisher_id} {p.amount} {p.currency} ({p.period}, attempt {p.attempt})")
    typer.echo(
        f"{len(made)} payouts recorded; transfers: {len(sent.paid)} paid, "
        f"{len(sent.failed)} failed (credited back), {len(sent.pending)} pending"
    )


def register(app: typer.Typer) -> None:
    """Add ``billing`` to the modelhub command."""
    app.add_typer(billing, name="billing")
