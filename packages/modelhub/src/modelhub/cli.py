"""The ``modelhub`` command: ``serve``, ``worker`` and ``migrate`` from the kit's scaffold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from forgekit.cli import add_role_commands
from modelhub.billing import cli as billing_commands

if TYPE_CHECKING:
    from forgekit.product import Product

app = typer.Typer(
    name="modelhub",
    help="Modelhub: an AI model marketplace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _product() -> Product[Any, Any]:
    from modelhub.product import PRODUCT

    return PRODUCT


add_role_commands(app, _product, title="Modelhub", env_prefix="MODELHUB_")
billing_commands.register(app)  # `modelhub billing invoice|collect|payout` (modelhub.billing)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
