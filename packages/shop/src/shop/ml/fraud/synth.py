"""A seeded synthetic order stream with injected fraud (the figures on it are synthetic).

Honest customers order from their home country, on one or two devices, to one or two
addresses, with amounts around their own level, mostly in the daytime. Three fraud patterns
are injected at ``fraud_rate``: account takeover (a new device and address, another country,
a large basket), card testing (a burst of small orders within minutes) and reshipping
(billing and shipping countries differ, at night, on a fresh account). Some honest orders
carry one of those traits too (travel, a new phone, a gift), so neither rules nor the model
can be perfect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shop.ml.fraud.data import OrderRow, sorted_orders

DAY = 86_400.0
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "PL", "SE", "US", "GB", "BR", "NG", "VN")


@dataclass(frozen=True)
class FraudSynthConfig:
    """Sizes of the generated order stream."""

    customers: int = 600
    days: int = 90
    orders_per_customer: float = 6.0
    fraud_rate: float = 0.03
    seed: int = 0


def _honest(rng: np.random.Generator, cid: int, cfg: FraudSynthConfig) -> list[OrderRow]:
    home = COUNTRIES[int(rng.integers(0, 7))]
    created = float(rng.uniform(-200, cfg.days * 0.5)) * DAY
    level = float(rng.lognormal(8.0, 0.6))  # minor units, ~30 EUR median
    devices = [f"d{cid}-{i}" for i in range(int(rng.integers(1, 3)))]
    addresses = [f"a{cid}-{i}" for i in range(int(rng.integers(1, 3)))]
    out = []
    for j in range(max(1, int(rng.poisson(cfg.orders_per_customer)))):
        day = float(rng.uniform(max(created / DAY, 0.0) + 0.5, cfg.days))
        hour = float(np.clip(rng.normal(15, 4), 0, 23.9))
        traveling = rng.random() < 0.04
        out.append(OrderRow(
            order_id=f"o{cid}-{j}", customer=f"c{cid}",
            amount_minor=int(level * rng.lognormal(0.0, 0.5)), currency="EUR",
            time=np.floor(day) * DAY + hour * 3600.0,
            device=str(rng.choice(devices)) if rng.random() > 0.05 else f"d{cid}-new{j}",
            address=str(rng.choice(addresses)) if rng.random() > 0.05 else f"a{cid}-gift{j}",
            bill_country=home, ship_country=home if rng.random() > 0.03 else COUNTRIES[8],
            ip_country=COUNTRIES[int(rng.integers(0, 12))] if traveling else home,
            account_created=created, fraud=False,
        ))  # fmt: skip
    return out


def _takeover(rng: np.random.Generator, victim: OrderRow, n: int) -> list[OrderRow]:
    # Careful takeovers stay in the victim's country and spend modestly.
    careful = rng.random() < 0.4
    country = victim.bill_country if careful else COUNTRIES[int(rng.integers(7, 12))]
    return [OrderRow(
        order_id=f"f-ato-{n}", customer=victim.customer,
        amount_minor=int(victim.amount_minor * rng.uniform(1.5, 10)), currency="EUR",
        time=victim.time + float(rng.uniform(1, 10)) * DAY, device=f"evil-{n}",
        address=f"drop-{n}", bill_country=victim.bill_country, ship_country=country,
        ip_country=country, account_created=victim.account_created, fraud=True,
    )]  # fmt: skip


def _card_testing(rng: np.random.Generator, n: int, days: int) -> list[OrderRow]:
    start = float(rng.uniform(1, days)) * DAY + float(rng.uniform(0, 24)) * 3600.0
    country = COUNTRIES[int(rng.integers(0, 12))]
    return [OrderRow(
        order_id=f"f-ct-{n}-{i}", customer=f"ct{n}", amount_minor=int(rng.integers(100, 600)),
        currency="EUR", time=start + i * float(rng.uniform(30, 300)), device=f"bot-{n}",
        address=f"ct-addr-{n}", bill_country=country, ship_country=country,
        ip_country=COUNTRIES[int(rng.integers(0, 12))], account_created=start - 3600.0,
        fraud=True,
    ) for i in range(int(rng.integers(3, 7)))]  # fmt: skip


def _reshipping(rng: np.random.Generator, n: int, days: int) -> list[OrderRow]:
    created = float(rng.uniform(1, days)) * DAY
    return [OrderRow(
        order_id=f"f-rs-{n}", customer=f"rs{n}", amount_minor=int(rng.lognormal(9.5, 0.5)),
        # The night after the account was opened.
        currency="EUR", time=(created // DAY + 1) * DAY + float(rng.uniform(1, 5)) * 3600.0,
        device=f"rs-dev-{n}", address=f"rs-addr-{n}",
        bill_country=COUNTRIES[int(rng.integers(0, 7))],
        ship_country=COUNTRIES[int(rng.integers(7, 12))],
        ip_country=COUNTRIES[int(rng.integers(0, 12))], account_created=created, fraud=True,
    )]  # fmt: skip


def generate(cfg: FraudSynthConfig = FraudSynthConfig()) -> list[OrderRow]:
    """Orders in time order with ``fraud`` labels, reproducible from ``cfg.seed``."""
    rng = np.random.default_rng(cfg.seed)
    orders = [o for c in range(cfg.customers) for o in _honest(rng, c, cfg)]
    n_fraud_events = max(3, int(len(orders) * cfg.fraud_rate))
    patterns = rng.integers(0, 3, size=n_fraud_events)
    fraud: list[OrderRow] = []
    for n, kind in enumerate(patterns):
        if kind == 0:
            fraud += _takeover(rng, orders[int(rng.integers(0, len(orders)))], n)
        elif kind == 1:
            fraud += _card_testing(rng, n, cfg.days)
        else:
            fraud += _reshipping(rng, n, cfg.days)
    return sorted_orders(orders + fraud)
