"""shop initial schema

Revision ID: shop_0001
Revises:
Create Date: 2026-12-03 06:30:00.000000
"""

from collections.abc import Sequence

revision: str = "shop_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("shop",)
depends_on: str | Sequence[str] | None = "forgekit_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
