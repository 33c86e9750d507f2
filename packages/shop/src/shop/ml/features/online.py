"""Online fraud features: each customer's :class:`CustomerState` in the kit's cache.

The fraud features are defined once (:func:`shop.ml.fraud.features.order_features` over a
:class:`~shop.ml.fraud.features.CustomerState`); training folds the orders into the state in
time order (point-in-time), and at checkout this store hands scoring the customer's state in
one cache read (Redis in production, in-process embedded) instead of reading the customer's
orders from the database. Scoring writes the state back with the new order once its case is
committed; a missing or expired state is rebuilt from the scored orders in the database (the
fallback) and stored again.
"""

from __future__ import annotations

from dataclasses import dataclass

from forgekit.cache import Cache
from forgekit.cache.keys import cache_key
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.features import FEATURE_NAMES, CustomerState

DAY = 86_400.0


@dataclass(frozen=True)
class OrderFeatureSet:
    """A feature set computed per order from its entity's state (name, entity, source,
    freshness), like :class:`shop.ml.features.store.FeatureDef` for single numbers."""

    name: str
    entity: str
    source: str
    freshness: float
    features: tuple[str, ...]


FRAUD_ORDER_FEATURES = OrderFeatureSet(
    name="fraud_order",
    entity="customer",
    # The orders as scored at checkout (device, address, countries) with staff's labels.
    source="SELECT order_data FROM fraud_cases WHERE customer_ref = :customer",
    # A day: a state older than that is rebuilt from the database, so a write lost to two
    # simultaneous orders of one customer heals within a day at most.
    freshness=DAY,
    features=FEATURE_NAMES,
)


class FraudFeatureStore:
    """Customer states of :data:`FRAUD_ORDER_FEATURES` in the cache."""

    def __init__(self, cache: Cache, feature_set: OrderFeatureSet = FRAUD_ORDER_FEATURES) -> None:
        self.cache, self.feature_set = cache, feature_set

    def _key(self, customer: str) -> str:
        return cache_key("feature", self.feature_set.name, customer)

    async def get(self, customer: str) -> CustomerState | None:
        """The stored state (None when missing or expired: rebuild it from the database)."""
        data = await self.cache.get(self._key(customer))
        return None if data is None else CustomerState.from_json(data)

    async def put(self, customer: str, state: CustomerState) -> None:
        """Store a customer's state for :attr:`OrderFeatureSet.freshness` seconds."""
        await self.cache.set(self._key(customer), state.to_json(), self.feature_set.freshness)

    async def record(self, order: OrderRow, state: CustomerState | None) -> CustomerState:
        """Fold a placed order into the state it was scored with and store the result."""
        new = CustomerState.from_json(state.to_json()) if state else CustomerState()
        new.add(order)
        await self.put(order.customer, new)
        return new
