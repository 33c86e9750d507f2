"""Shop's own settings (env prefix ``SHOP_``); the backbone's are the kit's ``FORGE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from forgekit.product import ProductSettings


class ShopSettings(ProductSettings):
    """Where and how Shop runs; every field can be set as ``SHOP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=".env", extra="ignore")
    product_name: ClassVar[str] = "shop"
    api_key_prefix: ClassVar[str] = "shk_"
    #: Self-registered accounts are customers; staff are made by an administrator.
    default_user_role: ClassVar[str] = "customer"
    #: Staff (and admins, who hold everything) must enrol TOTP before any staff action: the
    #: kit's MFA policy holds their sessions to the enrolment endpoints until they do.
    mfa_required_permissions: ClassVar[tuple[str, ...]] = (
        "catalogue:manage", "order:manage", "order:refund", "review:moderate", "analytics:read",
    )  # fmt: skip

    port: int = 8003
    data_dir: Path = Path(".shop-data")
    #: Largest page of a listing.
    max_page_size: int = 100
    #: Seed a demo catalogue when the API starts on an empty catalogue (``make run``).
    demo_catalogue: bool = True

    # Carts (shop.cart).
    #: A cart untouched this long is forgotten.
    cart_ttl_s: int = 7 * 24 * 3600
    #: Most units of one variant in a cart.
    cart_max_quantity: int = 99

    # Checkout, inventory and orders (shop.orders, shop.inventory).
    #: An unpaid order holds its stock this long, then expires (released by the sweep job).
    reservation_ttl_s: int = 15 * 60
    #: How often the sweep job looks for expired reservations.
    reservation_sweep_interval_s: float = 30.0
    #: Tax added to the discounted subtotal and shipping, in basis points (2000 = 20 %).
    tax_rate_bp: int = 2000
    #: Shipping: a base fee plus a fee per started kilogram, free from a subtotal on.
    shipping_base: int = 490
    shipping_per_kg: int = 100
    shipping_free_from: int = 10_000

    # Product images (shop.gallery): judged by content, cleaned, thumbnailed.
    #: Largest upload, in bytes.
    image_max_bytes: int = 10 * 1024**2
    #: Most pixels (width x height, read from the header before decoding: bombs are refused).
    image_max_pixels: int = 40_000_000
    #: The two WebP thumbnails' longest side, in pixels.
    image_thumb_small_px: int = 200
    image_thumb_large_px: int = 600
    #: Most images in one product's gallery.
    product_max_images: int = 20

    # Catalogue CSV import (shop.imports).
    #: Largest CSV file, in bytes, and most data rows in one.
    import_max_bytes: int = 20 * 1024**2
    import_max_rows: int = 50_000
    #: A running import whose heartbeat is older than this is taken for dead (its worker was
    #: killed) and re-queued; the run heartbeats every fifth of it.
    import_lease_s: float = 300.0
    #: How often the janitor looks for such imports (in processes consuming ``imports``).
    import_sweep_interval_s: float = 60.0
    #: Claims of one import before the janitor gives up on it (a file that kills its
    #: worker every time is marked failed, not retried forever).
    import_max_attempts: int = 3
    #: Test hook: a run stops, alive and heartbeating, after checking its rows and before
    #: writing them (the SIGKILL test kills its worker there). Never on in production.
    import_halt_before_write: bool = False
    # Invoices (shop.invoices): a PDF per paid order, numbered YYYY-NNNNNN without gaps.
    #: Who issues them: lines separated by ``\n`` (name, address, VAT number...).
    invoice_issuer: str = "Shop\n1 Market Street\nLondon N1 1AA\nGB"
    #: A TrueType font embedded for text beyond Latin-1; empty or missing: the PDF core
    #: Helvetica (Latin-1; other characters print as ``?``).
    invoice_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    # Payments (shop.payments, on forgekit.payments).
    #: The provider's API base URL (Stripe's, or the kit's fake); empty: no online payments.
    payments_url: str = ""
    payments_api_key: SecretStr = SecretStr("")
    #: The secret webhooks are signed with (``t=,v1=`` HMAC-SHA256, 300 s tolerance).
    payments_webhook_secret: SecretStr = SecretStr("")
    payments_timeout_s: float = 10.0
    #: With no ``payments_url``: start the kit's fake provider on this port and use it
    #: (shop.payments.local; what ``make run APP=shop`` pays through).
    payments_fake: bool = True
    payments_fake_port: int = 8103


@lru_cache(maxsize=1)
def get_settings() -> ShopSettings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return ShopSettings()
