"""Shop declared to the kit: settings, routers, consumers, tables and migrations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import shop.permissions  # noqa: F401  (Shop's roles, known before any route)
from forgekit.product import Product, Registration
from shop import __version__
from shop.db import MIGRATION_DIRS
from shop.settings import ShopSettings, get_settings

if TYPE_CHECKING:
    from fastapi import APIRouter

    from shop.runtime import ShopRuntime


def _routers() -> Sequence[APIRouter]:
    from shop.accounts.router import router as accounts_router
    from shop.analytics.router import router as analytics_router
    from shop.cart.router import router as cart_router
    from shop.catalogue.router import router as catalogue_router
    from shop.checkout.guest_router import router as guest_router
    from shop.checkout.router import router as checkout_router
    from shop.gallery.router import router as gallery_router
    from shop.imports.router import router as imports_router
    from shop.inventory.router import router as inventory_router
    from shop.invoices.router import router as invoices_router
    from shop.ml.router import router as ml_router
    from shop.orders.router import router as orders_router
    from shop.payments.router import router as payments_router
    from shop.reviews.router import router as reviews_router
    from shop.search.router import router as search_router

    return [
        catalogue_router,
        search_router,
        inventory_router,
        cart_router,
        checkout_router,
        orders_router,
        invoices_router,
        payments_router,
        reviews_router,
        ml_router,
        accounts_router,
        guest_router,
        gallery_router,
        imports_router,
        analytics_router,
    ]


def _runtime() -> type[ShopRuntime]:
    from shop.runtime import ShopRuntime

    return ShopRuntime


def _consumers() -> Sequence[Registration]:
    from shop import demo
    from shop.analytics import tasks as analytics_tasks
    from shop.imports import tasks as import_tasks
    from shop.inventory import tasks as inventory_tasks
    from shop.invoices import tasks as invoice_tasks
    from shop.ml import tasks as ml_tasks
    from shop.orders import mail as order_mail
    from shop.payments import local as local_payments
    from shop.reviews import tasks as review_tasks

    return [
        demo.register,
        inventory_tasks.register,
        local_payments.register,
        order_mail.register,
        invoice_tasks.register,
        analytics_tasks.register,
        ml_tasks.register,
        import_tasks.register,
        review_tasks.register,
    ]


PRODUCT: Product[ShopSettings, ShopRuntime] = Product(
    name="shop",
    title="Shop",
    version=__version__,
    description=(
        "An e-commerce platform: catalogue, search, carts and checkout, orders, payments "
        f"and inventory. {__version__}"
    ),
    settings=get_settings,
    app_factory="shop.app:create_app",
    runtime_class=_runtime,
    routers=_routers,
    consumers=_consumers,
    models="shop.models",
    migration_dirs=tuple(MIGRATION_DIRS),
)
