"""Shop's event types and their payloads (published through the kit's outbox)."""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import BaseModel

from forgekit.events.types import EventType


class ProductEvent(BaseModel):
    """A product changed state (``shop.product.*``)."""

    product_id: uuid.UUID
    slug: str


class PriceChanged(BaseModel):
    """``shop.price.changed``: a variant's price in a channel changed."""

    variant_id: uuid.UUID
    channel: str
    amount: int
    currency: str
    previous: int | None


PRODUCT_PUBLISHED: Final = EventType("shop.product.published", ProductEvent)
PRODUCT_UNPUBLISHED: Final = EventType("shop.product.unpublished", ProductEvent)
PRODUCT_DELETED: Final = EventType("shop.product.deleted", ProductEvent)
PRICE_CHANGED: Final = EventType("shop.price.changed", PriceChanged)


class ImportRequested(BaseModel):
    """``shop.catalogue.import_requested``: a catalogue CSV waits for the import worker."""

    job_id: uuid.UUID


IMPORT_REQUESTED: Final = EventType("shop.catalogue.import_requested", ImportRequested)


class OrderTransition(BaseModel):
    """``shop.order.<action>``: an order moved from one status to another."""

    order_id: uuid.UUID
    action: str
    from_status: str
    to_status: str
    total: int
    currency: str


def order_event(action: str) -> EventType[OrderTransition]:
    """The event type of an order action (``shop.order.confirm``...)."""
    return EventType(f"shop.order.{action}", OrderTransition)


class Shipped(BaseModel):
    """``shop.shipment.created``: units of an order left under a tracking number."""

    order_id: uuid.UUID
    fulfilment_id: uuid.UUID


class Refunded(BaseModel):
    """``shop.refund.succeeded``: money went back on an order's payment (minor units)."""

    order_id: uuid.UUID
    refund_id: uuid.UUID
    amount: int
    currency: str


SHIPMENT_CREATED: Final = EventType("shop.shipment.created", Shipped)
REFUND_SUCCEEDED: Final = EventType("shop.refund.succeeded", Refunded)


class ReviewEvent(BaseModel):
    """``shop.review.created`` / ``shop.review.edited``: a review's text is new."""

    review_id: uuid.UUID
    product_id: uuid.UUID


REVIEW_CREATED: Final = EventType("shop.review.created", ReviewEvent)
REVIEW_EDITED: Final = EventType("shop.review.edited", ReviewEvent)
