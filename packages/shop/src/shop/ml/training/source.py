"""Where the trainers read: the shop's own tables, through one interface.

:class:`ShopTables` reads part 1's tables into each trainer's data: signed-in customers'
product views and cart adds (the storefront's event log, ``shop_analytics_events``) and the
order lines of their live orders as implicit interactions (recommendations; co-purchase reads
the purchases only), reservations as demand per product and warehouse (forecasting), reviews
with their star ratings (sentiment), and the orders as scored at checkout with staff's
feedback labels (fraud: ``fraud_cases``). The cart store itself is not read: it keeps no
history to split in time, while the event log dates every cart add.

:func:`training_data` takes the shop's data when it holds at least :data:`MIN_SHOP_ROWS` of
the kind (``SHOP_ML_MIN_SHOP_ROWS`` overrides), else the seeded generator's, and says which
in ``source`` (every run and model card carries it, and ``synthetic: true`` for the
generator's).
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.analytics.models import AnalyticsEvent, EventKind
from shop.catalogue.models import Product, Variant
from shop.inventory.models import Reservation, ReservationStatus
from shop.ml.forecast.data import daily_series
from shop.ml.fraud.data import OrderRow, sorted_orders
from shop.ml.models import CaseStatus, FraudCase
from shop.ml.recs.data import Catalogue, Interactions
from shop.ml.sentiment.data import texts_and_labels
from shop.ml.training.data import ForecastData, FraudData, RecsData, SentimentData, synthetic
from shop.orders.models import Order, OrderLine
from shop.orders.states import Status
from shop.reviews.models import Review

#: The least the shop's tables must hold before a trainer reads them instead of the
#: generator: interactions of signed-in customers (views, cart adds, purchases), scored
#: orders (with at least one confirmed fraud among the later 30 %), reviews (two star labels
#: among the first 80 %), days of demand history (the 28-day hold-out plus two 28-day
#: backtest folds and the lag model's warm-up).
MIN_SHOP_ROWS: dict[str, int] = {"recs": 500, "fraud": 300, "sentiment": 200, "forecast": 126}
UNITS = {"recs": "interactions (views, cart adds, purchases) of signed-in customers",
         "fraud": "scored orders", "sentiment": "reviews",
         "forecast": "days of demand"}  # fmt: skip
#: Orders that never became a sale say nothing about taste or demand.
_NOT_SOLD = (Status.DRAFT, Status.CANCELLED, Status.EXPIRED)


class TrainingSource(ABC):
    """A source of one trainer's data."""

    name: str

    @abstractmethod
    async def load(self, session: AsyncSession, kind: str, minimum: int) -> Any | str:
        """The data of ``kind``, or why there is too little (a sentence)."""


class SyntheticSource(TrainingSource):
    """The seeded generators of :mod:`shop.ml.training.data`."""

    name = "synthetic"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    async def load(self, session: AsyncSession, kind: str, minimum: int) -> Any:
        """The generator's data for ``kind`` (never too little)."""
        return synthetic(kind, self.seed)


def _ts(value: dt.datetime) -> float:
    return value.timestamp()


class ShopTables(TrainingSource):
    """Part 1's tables (and the fraud case queue) as each trainer's data."""

    name = "shop"

    async def load(self, session: AsyncSession, kind: str, minimum: int) -> Any | str:
        """The shop's data of ``kind``, or why there is too little."""
        readers = {"recs": self.recs, "fraud": self.fraud, "sentiment": self.sentiment,
                   "forecast": self.forecast}  # fmt: skip
        return await readers[kind](session, minimum)

    async def recs(self, session: AsyncSession, minimum: int) -> RecsData | str:
        """Signed-in customers' product views, cart adds and purchases (one per order line of
        a live order), weighted by kind as :data:`~shop.ml.recs.data.KIND_WEIGHTS` says."""
        rows = sorted([*await _purchases(session), *await _browsing(session)], key=_time)
        if len(rows) < minimum:
            return _short("recs", len(rows), minimum)
        return _recs_data(rows)

    async def fraud(self, session: AsyncSession, minimum: int) -> FraudData | str:
        """Orders as scored at checkout; staff's feedback is the label (unreviewed: honest)."""
        stmt = select(FraudCase.order_data, FraudCase.status)
        orders = sorted_orders(
            OrderRow.from_mapping({**data, "fraud": status == CaseStatus.CONFIRMED_FRAUD})
            for data, status in (await session.execute(stmt)).all()
        )
        if len(orders) < minimum:
            return _short("fraud", len(orders), minimum)
        later = orders[int(len(orders) * 0.7) :]
        if not any(o.fraud for o in later) or all(o.fraud for o in later):
            return f"no confirmed fraud (or nothing else) among the later {len(later)} orders"
        first, last = (dt.datetime.fromtimestamp(o.time, dt.UTC) for o in (orders[0], orders[-1]))
        return FraudData(orders, False, _window("scored orders (fraud_cases)", first, last,
                                                len(orders)))  # fmt: skip

    async def sentiment(self, session: AsyncSession, minimum: int) -> SentimentData | str:
        """Reviews in the order written, labelled by their stars (rejected ones left out)."""
        stmt = (
            select(Review.title, Review.body, Review.rating, Review.created_at)
            .where(Review.status != "rejected")
            .order_by(Review.created_at, Review.id)
        )
        rows = (await session.execute(stmt)).all()
        if len(rows) < minimum:
            return _short("sentiment", len(rows), minimum)
        texts, labels = texts_and_labels({"title": r[0], "body": r[1], "stars": r[2]} for r in rows)
        if len(set(labels[: int(len(labels) * 0.8)])) < 2:
            return "the earlier reviews carry a single star label"
        return SentimentData(texts, labels, False, _window("reviews (shop_reviews)", rows[0][3],
                                                           rows[-1][3], len(rows)))  # fmt: skip

    async def forecast(self, session: AsyncSession, minimum: int) -> ForecastData | str:
        """Units reserved per product, warehouse and day (released reservations left out)."""
        stmt = (
            select(Variant.product_id, Reservation.warehouse_id, Reservation.created_at,
                   Reservation.quantity)
            .join(Variant, Variant.id == Reservation.variant_id)
            .where(Reservation.status != ReservationStatus.RELEASED)
            .order_by(Reservation.created_at)
        )  # fmt: skip
        rows = (await session.execute(stmt)).all()
        days = (rows[-1][2].date() - rows[0][2].date()).days + 1 if rows else 0
        if days < minimum:
            return _short("forecast", days, minimum)
        series = daily_series({"product": str(r[0]), "warehouse": str(r[1]),
                               "day": r[2].date(), "quantity": r[3]} for r in rows)  # fmt: skip
        return ForecastData(series, False, _window("reserved units (shop_reservations)",
                                                   rows[0][2], rows[-1][2], len(rows)))  # fmt: skip


#: (customer, product, category, kind, time): one interaction, ids as text, ``kind`` in the
#: recommender's vocabulary (``view``, ``cart``, ``purchase``).
_Interaction = tuple[str, str, str | None, str, dt.datetime]
#: The storefront's event kinds that say something about taste, in that vocabulary.
_BROWSING = {EventKind.VIEWED.value: "view", EventKind.CARTED.value: "cart"}
_SIGNED_IN = "u:"


def _time(row: _Interaction) -> dt.datetime:
    return row[4]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def _purchases(session: AsyncSession) -> list[_Interaction]:
    """One purchase per order line of a live order with a customer."""
    stmt = (
        select(Order.customer_id, Variant.product_id, Product.category_id, Order.created_at)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Order.customer_id.is_not(None), Order.status.not_in(_NOT_SOLD))
    )
    return [(str(c), str(p), _text(k), "purchase", at)
            for c, p, k, at in (await session.execute(stmt)).all()]  # fmt: skip


async def _browsing(session: AsyncSession) -> list[_Interaction]:
    """Views and cart adds of signed-in customers (the join drops an event whose product has
    no row: the log keeps no foreign keys).

    Anonymous visitors (``a:<hash>``) are left out: they are nobody the shop can recommend
    to by name, and their events join the customer's when ``POST /cart/merge`` adopts them at
    sign-in. The visitor key, not ``customer_id``, says who: cart adds carry only the key.
    """
    event = AnalyticsEvent
    stmt = (
        select(event.visitor, event.product_id, Product.category_id, event.kind, event.at)
        .join(Product, Product.id == event.product_id)
        .where(event.kind.in_(list(_BROWSING)), event.visitor.startswith(_SIGNED_IN))
    )
    out: list[_Interaction] = []
    for visitor, product, category, kind, at in (await session.execute(stmt)).all():
        customer = _customer_of(visitor)
        if customer is not None:
            out.append((customer, str(product), _text(category), _BROWSING[kind], at))
    return out


def _customer_of(visitor: str | None) -> str | None:
    """The user id of a ``u:<user id>`` key, spelt as orders spell it (None if malformed: the
    log has no foreign keys, so a bad key costs its row, not the run)."""
    try:
        return str(uuid.UUID((visitor or "").removeprefix(_SIGNED_IN)))
    except ValueError:
        return None


def _recs_data(rows: list[_Interaction]) -> RecsData:
    """Dense indices over the rows' customers and products, and where the rows came from."""
    customers = sorted({r[0] for r in rows})
    products = sorted({r[1] for r in rows})
    c_index = {c: i for i, c in enumerate(customers)}
    p_index = {p: i for i, p in enumerate(products)}
    events = [{"customer": c_index[r[0]], "product": p_index[r[1]], "kind": r[3],
               "time": _ts(r[4])} for r in rows]  # fmt: skip
    inter = Interactions.from_rows(events, n_customers=len(customers), n_products=len(products))
    count = Counter(r[3] for r in rows)
    what = (f"interactions of signed-in customers ({count['view']} product views and "
            f"{count['cart']} cart adds from shop_analytics_events, {count['purchase']} "
            "purchases from shop_order_lines)")  # fmt: skip
    return RecsData(inter, _catalogue(rows, p_index), customers, products, False,
                    _window(what, rows[0][4], rows[-1][4], len(rows)))  # fmt: skip


def _catalogue(rows: list[_Interaction], p_index: dict[str, int]) -> Catalogue:
    """Each product's category as a dense index (``-1`` without one)."""
    categories = sorted({r[2] for r in rows if r[2] is not None})
    k_index = {k: i for i, k in enumerate(categories)}
    category = np.full(len(p_index), -1, dtype=np.int64)
    for r in rows:
        if r[2] is not None:
            category[p_index[r[1]]] = k_index[r[2]]
    return Catalogue(category)


def _short(kind: str, have: int, minimum: int) -> str:
    return f"the shop has {have} {UNITS[kind]}, under the {minimum} needed"


def _window(what: str, first: dt.datetime, last: dt.datetime, n: int) -> str:
    return f"{n} {what} from {first.date().isoformat()} to {last.date().isoformat()}"


async def training_data(
    session: AsyncSession,
    kind: str,
    *,
    seed: int = 0,
    minimum: Mapping[str, int] | None = None,
    shop: TrainingSource | None = None,
) -> Any:
    """``kind``'s data from the shop's tables when they hold enough, else the generator's;
    ``data.source`` says which (and why the generator, when it is)."""
    need = {**MIN_SHOP_ROWS, **(minimum or {})}[kind]
    loaded = await (shop or ShopTables()).load(session, kind, need)
    if not isinstance(loaded, str):
        return loaded
    data = await SyntheticSource(seed).load(session, kind, need)
    data.source = f"synthetic (seed {seed}): {loaded}"
    return data
