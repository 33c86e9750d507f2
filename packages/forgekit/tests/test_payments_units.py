"""Money and Stripe's nested form encoding (the adapter encodes, the fake decodes)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgekit.payments import Money
from forgekit.payments.forms import decode, encode


def test_money_is_integer_minor_units_in_lower_case_currency() -> None:
    assert Money(1050, "EUR") == Money(1050, "eur")
    assert Money(1000, "usd") - Money(250, "usd") == Money(750, "usd")
    assert -Money(5, "usd") == Money(-5, "usd")
    with pytest.raises(TypeError):
        Money(10.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "usd")
    with pytest.raises(ValueError):
        Money(1, "euro")
    with pytest.raises(ValueError):
        Money(1, "usd") + Money(1, "eur")


def test_nested_parameters_encode_as_stripe_does() -> None:
    pairs = encode(
        {
            "customer": "cus_1",
            "items": [{"price": "price_1"}],
            "metadata": {"a": "1"},
            "confirm": True,
            "skip": None,
        }
    )
    assert pairs == [
        ("customer", "cus_1"),
        ("items[0][price]", "price_1"),
        ("metadata[a]", "1"),
        ("confirm", "true"),
    ]
    assert decode(pairs) == {
        "customer": "cus_1",
        "items": {"0": {"price": "price_1"}},
        "metadata": {"a": "1"},
        "confirm": "true",
    }
    with pytest.raises(ValueError):
        decode([("a", "1"), ("a[b]", "2")])


keys = st.text(alphabet="abcxyz_-.0129é ", min_size=1, max_size=8)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        keys,
        st.text(max_size=8) | st.dictionaries(keys, st.text(max_size=8), max_size=3),
        max_size=5,
    )
)
def test_property_decode_inverts_encode(params: dict[str, object]) -> None:
    expected = {k: v for k, v in params.items() if v != {}}
    assert decode(encode(params)) == expected
