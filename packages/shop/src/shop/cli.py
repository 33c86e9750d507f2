"""The ``shop`` command: ``serve``, ``worker`` and ``migrate`` (the kit's scaffold)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from forgekit.cli import add_role_commands
from shop.ml.training import cli as train_commands
from shop.reviews import cli as sentiment_commands

if TYPE_CHECKING:
    from forgekit.product import Product

app = typer.Typer(
    name="shop",
    help="Shop: an e-commerce platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _product() -> Product[Any, Any]:
    from shop.product import PRODUCT

    return PRODUCT


add_role_commands(app, _product, title="Shop", env_prefix="SHOP_")
train_commands.register(app)  # `shop train recs|fraud|sentiment|forecast` (shop.ml)
sentiment_commands.register(app)  # `shop sentiment score [--all|--unscored]`


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
