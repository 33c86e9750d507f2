"""The ``aquaculture`` command: ``serve``, ``worker``, ``migrate`` (the kit's scaffold),
``train`` and ``generate`` (the classifier)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forgekit.cli import add_role_commands

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from aquaculture.runtime import AquacultureRuntime
    from forgekit.product import Product

app = typer.Typer(
    name="aquaculture",
    help="Aquaculture: fish-species observations for farms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _product() -> Product[Any, Any]:
    from aquaculture.product import PRODUCT

    return PRODUCT


add_role_commands(app, _product, title="Aquaculture", env_prefix="AQUA_")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Where to write the ImageFolder tree.")],
    per_class: Annotated[int, typer.Option(help="Images per species.")] = 500,
    size: Annotated[int, typer.Option(help="Side of the square images, pixels.")] = 96,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
) -> None:
    """Write a seeded synthetic fish data set (one folder per species)."""
    from aquaculture.classifier.synth import write_dataset

    counts = write_dataset(out, per_class=per_class, size=size, seed=seed)
    typer.echo(f"wrote {sum(counts.values())} images of {len(counts)} species to {out}")


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="ImageFolder tree: one folder per species.")],
    out: Annotated[Path, typer.Option(help="Output directory (model.onnx, card).")] = Path(
        "aquaculture-model"
    ),
    epochs: Annotated[int, typer.Option(help="Most epochs (early stopping may end sooner).")] = 30,
    size: Annotated[int, typer.Option(help="Input side, pixels.")] = 64,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 64,
    patience: Annotated[int, typer.Option(help="Epochs without validation gain.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed (split, initialisation, augmentation).")] = 0,
    synthetic: Annotated[
        bool, typer.Option(help="Say in the card that the data is generated.")
    ] = False,
) -> None:
    """Train the classifier (needs the ``train`` extra: PyTorch CPU)."""
    from aquaculture.classifier.train import TrainConfig, train_and_export

    cfg = TrainConfig(
        data=data,
        out=out,
        epochs=epochs,
        size=size,
        batch_size=batch_size,
        patience=patience,
        seed=seed,
        synthetic=synthetic,
    )
    card = train_and_export(cfg)
    typer.echo(
        f"val accuracy {card['metrics']['val_accuracy']:.3f}, test accuracy "
        f"{card['metrics']['test_accuracy']:.3f}, ECE {card['metrics']['ece']:.3f} -> {out}"
    )


async def _in_registry(change: Callable[[AsyncSession, AquacultureRuntime], Awaitable[str]]) -> str:
    """Run ``change`` in one transaction on the configured database and storage."""
    from aquaculture.product import PRODUCT
    from aquaculture.settings import get_settings

    settings = get_settings()
    runtime = PRODUCT.build_runtime(settings.kit(), settings)
    try:
        async with runtime.db.transaction() as session:
            return await change(session, runtime)
    finally:
        await runtime.close()


@app.command()
def promote(
    model: Annotated[Path, typer.Argument(help="A `train` output directory.")],
    force: Annotated[
        bool, typer.Option(help="Promote even if validation accuracy is lower.")
    ] = False,
) -> None:
    """Make a trained model live (only if its validation accuracy is not worse)."""
    from aquaculture.classifier.registry import PromotionRefused
    from aquaculture.classifier.registry import promote as promote_model

    if not (model / "card.json").is_file() or not (model / "model.onnx").is_file():
        typer.echo(f"error: {model} holds no model.onnx and card.json", err=True)
        raise typer.Exit(2)
    try:
        version = asyncio.run(_in_registry(
            lambda s, rt: promote_model(s, rt.storage, rt.app_settings, model, force=force)
        ))
    except PromotionRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{version} is live; the API and workers switch to it without a restart")


@app.command()
def rollback() -> None:
    """Retire the live model; the previous one (or the shipped default) serves again."""
    from aquaculture.classifier.registry import rollback as rollback_model

    version = asyncio.run(_in_registry(lambda s, rt: rollback_model(s)))
    typer.echo(f"{version} is live; the API and workers switch to it without a restart")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
