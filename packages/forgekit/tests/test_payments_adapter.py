"""The Stripe adapter over HTTP against the fake provider (a subprocess): every port method,
idempotency, declines, faults, refunds, invoices, subscriptions, connected accounts and
transfers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from forgekit.payments import (
    AuthenticationFailed,
    CardDeclined,
    IdempotencyConflict,
    InvalidRequest,
    PaymentProvider,
    ProviderUnavailable,
    StripeAdapter,
    TransferFailed,
)
from forgekit.payments.objects import Customer, PaymentIntent
from forgekit.testing.payments import (  # noqa: F401 (fixture)
    FakeProvider,
    fake_provider,
    payment_provider,
)

DAY = 86_400


def key(label: str = "k") -> str:
    """A fresh idempotency key."""
    return f"{label}-{uuid.uuid4().hex}"


@pytest.fixture
async def stripe(payment_provider: FakeProvider) -> AsyncIterator[StripeAdapter]:  # noqa: F811
    await payment_provider.control.reset()
    async with payment_provider.adapter(timeout_s=30.0) as adapter:
        yield adapter


async def events_about(fake: FakeProvider, type_: str, **fields: str) -> list[dict[str, object]]:
    """The fake's events of ``type_`` whose object has ``fields``."""
    return [
        e
        for e in await fake.control.events()
        if e["type"] == type_ and all(e["data"]["object"][k] == v for k, v in fields.items())
    ]


async def calls_with_key(fake: FakeProvider, idempotency_key: str) -> list[dict[str, object]]:
    """The API requests the fake answered for one idempotency key."""
    return [r for r in await fake.control.requests() if r["idempotency_key"] == idempotency_key]


async def authorise(stripe: StripeAdapter, amount: int) -> PaymentIntent:
    """An intent authorised on a card, waiting for its manual capture."""
    return await stripe.create_payment_intent(
        amount,
        "usd",
        payment_method="pm_card_visa",
        capture_method="manual",
        idempotency_key=key(),
    )


async def paying_customer(stripe: StripeAdapter, card: str = "pm_card_visa") -> Customer:
    customer = await stripe.create_customer("payer@example.com", "Payer", idempotency_key=key())
    await stripe.attach_payment_method(customer.id, card, idempotency_key=key())
    return await stripe.retrieve_customer(customer.id)


async def test_adapter_is_a_payment_provider(stripe: StripeAdapter) -> None:
    assert isinstance(stripe, PaymentProvider)


async def test_customer_round_trip_and_idempotent_replay(stripe: StripeAdapter) -> None:
    k = key()
    first = await stripe.create_customer("a@example.com", "Ada", {"team": "t1"}, idempotency_key=k)
    again = await stripe.create_customer("a@example.com", "Ada", {"team": "t1"}, idempotency_key=k)
    assert again == first
    assert first.id.startswith("cus_") and first.metadata == {"team": "t1"}
    assert await stripe.retrieve_customer(first.id) == first


async def test_same_key_with_other_parameters_is_a_conflict(stripe: StripeAdapter) -> None:
    k = key()
    await stripe.create_customer("a@example.com", idempotency_key=k)
    with pytest.raises(IdempotencyConflict):
        await stripe.create_customer("b@example.com", idempotency_key=k)


async def test_unknown_id_and_bad_key_are_refused(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    with pytest.raises(InvalidRequest) as info:
        await stripe.retrieve_payment_intent("pi_missing")
    assert info.value.status == 404 and info.value.code == "resource_missing"
    async with StripeAdapter(payment_provider.base_url, "sk_test_wrong") as wrong:
        with pytest.raises(AuthenticationFailed):
            await wrong.create_customer("x@example.com", idempotency_key=key())


async def test_attach_card_sets_the_default_and_a_declining_card_is_refused(
    stripe: StripeAdapter,
) -> None:
    customer = await stripe.create_customer("c@example.com", idempotency_key=key())
    method = await stripe.attach_payment_method(customer.id, "pm_card_visa", idempotency_key=key())
    assert method.customer == customer.id and method.card is not None
    assert method.card.last4 == "4242"
    assert (await stripe.retrieve_customer(customer.id)).default_payment_method == method.id
    assert await stripe.retrieve_payment_method(method.id) == method
    with pytest.raises(CardDeclined) as info:
        await stripe.attach_payment_method(
            customer.id, "pm_card_chargeDeclined", idempotency_key=key()
        )
    assert info.value.decline_code == "generic_decline"


async def test_automatic_payment_succeeds(stripe: StripeAdapter) -> None:
    customer = await paying_customer(stripe)
    intent = await stripe.create_payment_intent(
        1999,
        "EUR",
        customer.id,
        customer.default_payment_method,
        metadata={"order": "o1"},
        idempotency_key=key(),
    )
    assert intent.status == "succeeded" and intent.amount_received == 1999
    assert intent.currency == "eur" and intent.metadata == {"order": "o1"}
    assert intent.money.amount == 1999


async def test_declined_card_leaves_the_intent_awaiting_a_method(stripe: StripeAdapter) -> None:
    with pytest.raises(CardDeclined) as info:
        await stripe.create_payment_intent(
            500,
            "usd",
            payment_method="pm_card_chargeDeclinedInsufficientFunds",
            idempotency_key=key(),
        )
    assert info.value.decline_code == "insufficient_funds" and info.value.status == 402
    assert info.value.payment_intent_id is not None
    intent = await stripe.retrieve_payment_intent(info.value.payment_intent_id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None
    assert intent.last_payment_error.decline_code == "insufficient_funds"


async def test_declined_answer_is_replayed_not_retried(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    await payment_provider.control.fail_next("decline")
    k = key()
    for _ in range(2):
        with pytest.raises(CardDeclined):
            await stripe.create_payment_intent(
                700, "usd", payment_method="pm_card_visa", idempotency_key=k
            )
    calls = await calls_with_key(payment_provider, k)
    assert [r["replayed"] for r in calls] == [False, True]


async def test_manual_capture_partial_and_cancel(stripe: StripeAdapter) -> None:
    held = await authorise(stripe, 5000)
    assert held.status == "requires_capture" and held.amount_capturable == 5000
    with pytest.raises(InvalidRequest):
        await stripe.capture_payment_intent(held.id, 6000, idempotency_key=key())
    captured = await stripe.capture_payment_intent(held.id, 4200, idempotency_key=key())
    assert captured.status == "succeeded" and captured.amount_received == 4200
    with pytest.raises(InvalidRequest):
        await stripe.cancel_payment_intent(held.id, idempotency_key=key())
    other = await stripe.create_payment_intent(
        800, "usd", payment_method="pm_card_visa", capture_method="manual", idempotency_key=key()
    )
    canceled = await stripe.cancel_payment_intent(other.id, idempotency_key=key())
    assert canceled.status == "canceled" and canceled.amount_capturable == 0
    with pytest.raises(InvalidRequest):
        await stripe.capture_payment_intent(other.id, idempotency_key=key())


async def test_unconfirmed_intent_waits_for_a_method(stripe: StripeAdapter) -> None:
    intent = await stripe.create_payment_intent(300, "usd", idempotency_key=key())
    assert intent.status == "requires_payment_method"
    assert (await stripe.cancel_payment_intent(intent.id, idempotency_key=key())).status == (
        "canceled"
    )


async def test_refunds_full_partial_and_over_refund(stripe: StripeAdapter) -> None:
    intent = await stripe.create_payment_intent(
        1000, "usd", payment_method="pm_card_visa", idempotency_key=key()
    )
    part = await stripe.create_refund(intent.id, 300, idempotency_key=key())
    assert (part.amount, part.status, part.payment_intent) == (300, "succeeded", intent.id)
    with pytest.raises(InvalidRequest) as info:
        await stripe.create_refund(intent.id, 701, idempotency_key=key())
    assert info.value.code == "amount_too_large"
    rest = await stripe.create_refund(intent.id, idempotency_key=key())
    assert rest.amount == 700
    assert await stripe.retrieve_refund(rest.id) == rest
    with pytest.raises(InvalidRequest) as info:
        await stripe.create_refund(intent.id, 1, idempotency_key=key())
    assert info.value.code == "charge_already_refunded"
    pending = await authorise(stripe, 400)
    with pytest.raises(InvalidRequest):
        await stripe.create_refund(pending.id, idempotency_key=key())


async def test_timeout_is_unavailable_and_the_retry_captures_once(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    held = await authorise(stripe, 2500)
    # The answer is held 20 times longer than the impatient client waits (not so long that
    # stopping the fake at the end of the module waits for it).
    await payment_provider.control.fail_next("timeout", hang_s=10.0)
    k = key("capture")
    async with payment_provider.adapter(timeout_s=0.5) as impatient:
        with pytest.raises(ProviderUnavailable):
            await impatient.capture_payment_intent(held.id, idempotency_key=k)
    retried = await stripe.capture_payment_intent(held.id, idempotency_key=k)
    assert retried.status == "succeeded" and retried.amount_received == 2500
    calls = await calls_with_key(payment_provider, k)
    assert [r["replayed"] for r in calls] == [False, True]
    captures = await events_about(payment_provider, "charge.captured", payment_intent=held.id)
    assert len(captures) == 1


async def test_server_errors_are_retried_with_the_same_key(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    await payment_provider.control.fail_next("error")
    with pytest.raises(ProviderUnavailable) as info:
        await stripe.create_customer("e@example.com", idempotency_key=key())
    assert info.value.status == 500
    await payment_provider.control.fail_next("rate_limit")
    with pytest.raises(ProviderUnavailable) as info:
        await stripe.create_customer("e@example.com", idempotency_key=key())
    assert info.value.status == 429
    customer = await stripe.create_customer("e@example.com", idempotency_key=key())
    await payment_provider.control.fail_next("error")
    with pytest.raises(ProviderUnavailable):  # reads fail too
        await stripe.retrieve_customer(customer.id)
    assert await stripe.retrieve_customer(customer.id) == customer
    await payment_provider.control.fail_next("error", count=2)
    k = key("retry")
    async with payment_provider.adapter(max_retries=2, retry_backoff_s=0.01) as patient:
        intent = await patient.create_payment_intent(
            900, "usd", payment_method="pm_card_visa", idempotency_key=k
        )
    assert intent.status == "succeeded"
    calls = await calls_with_key(payment_provider, k)
    assert len(calls) == 1 and calls[0]["status"] == 200


async def test_unreachable_provider_is_unavailable() -> None:
    async with StripeAdapter("http://127.0.0.1:9", "sk_test_x", 1.0) as nowhere:
        with pytest.raises(ProviderUnavailable):
            await nowhere.retrieve_customer("cus_x")


async def test_invoice_state_machine(stripe: StripeAdapter) -> None:
    customer = await paying_customer(stripe)
    with pytest.raises(InvalidRequest):
        await stripe.create_invoice(customer.id, idempotency_key=key())
    item = await stripe.create_invoice_item(
        customer.id, 1200, "usd", "Usage: 1200 calls", {"meter": "calls"}, idempotency_key=key()
    )
    await stripe.create_invoice_item(customer.id, 300, "usd", "Support", idempotency_key=key())
    draft = await stripe.create_invoice(customer.id, idempotency_key=key())
    assert draft.status == "draft" and draft.total == 1500 and len(draft.lines.data) == 2
    assert (await stripe.retrieve_invoice_item(item.id)).invoice == draft.id
    with pytest.raises(InvalidRequest):
        await stripe.pay_invoice(draft.id, idempotency_key=key())
    with pytest.raises(InvalidRequest):
        await stripe.void_invoice(draft.id, idempotency_key=key())
    opened = await stripe.finalize_invoice(draft.id, idempotency_key=key())
    assert opened.status == "open" and opened.number and opened.amount_due == 1500
    paid = await stripe.pay_invoice(opened.id, idempotency_key=key())
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 1500, 0)
    for transition in (stripe.void_invoice, stripe.mark_uncollectible, stripe.finalize_invoice):
        with pytest.raises(InvalidRequest):
            await transition(paid.id, idempotency_key=key())


async def test_open_invoice_uncollectible_then_void_or_paid(stripe: StripeAdapter) -> None:
    customer = await paying_customer(stripe)

    async def open_invoice(amount: int) -> str:
        await stripe.create_invoice_item(customer.id, amount, "usd", "x", idempotency_key=key())
        draft = await stripe.create_invoice(customer.id, idempotency_key=key())
        return (await stripe.finalize_invoice(draft.id, idempotency_key=key())).id

    first = await open_invoice(100)
    bad = await stripe.mark_uncollectible(first, idempotency_key=key())
    assert bad.status == "uncollectible"
    assert (await stripe.void_invoice(first, idempotency_key=key())).status == "void"
    second = await open_invoice(200)
    await stripe.mark_uncollectible(second, idempotency_key=key())
    assert (await stripe.pay_invoice(second, idempotency_key=key())).status == "paid"
    third = await open_invoice(300)
    assert (await stripe.void_invoice(third, idempotency_key=key())).status == "void"
    with pytest.raises(InvalidRequest):
        await stripe.mark_uncollectible(third, idempotency_key=key())


async def test_declined_invoice_payment_leaves_it_open(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    customer = await paying_customer(stripe, "pm_card_chargeCustomerFail")
    await stripe.create_invoice_item(customer.id, 999, "usd", "x", idempotency_key=key())
    draft = await stripe.create_invoice(customer.id, idempotency_key=key())
    invoice = await stripe.finalize_invoice(draft.id, idempotency_key=key())
    with pytest.raises(CardDeclined):
        await stripe.pay_invoice(invoice.id, idempotency_key=key())
    assert (await stripe.retrieve_invoice(invoice.id)).status == "open"
    assert len(await events_about(payment_provider, "invoice.payment_failed", id=invoice.id)) == 1


async def test_subscription_upgrade_and_downgrade_prorate(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    customer = await paying_customer(stripe)
    basic = await stripe.create_price("Basic", 1000, "usd", idempotency_key=key())
    pro = await stripe.create_price("Pro", 3000, "usd", idempotency_key=key())
    assert basic.recurring is not None and basic.recurring.interval == "month"
    assert await stripe.retrieve_price(pro.id) == pro
    subscription = await stripe.create_subscription(customer.id, basic.id, idempotency_key=key())
    assert subscription.status == "active" and subscription.price.id == basic.id
    assert subscription.latest_invoice is not None
    first = await stripe.retrieve_invoice(subscription.latest_invoice)
    assert (first.status, first.amount_paid) == ("paid", 1000)

    await payment_provider.control.advance_clock(15 * DAY)  # half of the fake's 30-day month
    upgraded = await stripe.update_subscription(subscription.id, pro.id, idempotency_key=key())
    assert upgraded.price.id == pro.id and upgraded.status == "active"
    invoice = await stripe.create_invoice(customer.id, idempotency_key=key())
    prorations = sorted(line.amount for line in invoice.lines.data if line.proration)
    assert prorations == [-500, 1500] and invoice.total == 1000
    assert all(line.subscription == subscription.id for line in invoice.lines.data)
    paid = await stripe.pay_invoice(
        (await stripe.finalize_invoice(invoice.id, idempotency_key=key())).id,
        idempotency_key=key(),
    )
    assert paid.amount_paid == 1000

    await payment_provider.control.advance_clock(9 * DAY)  # 6 of 30 days left
    await stripe.update_subscription(subscription.id, basic.id, idempotency_key=key())
    credit = await stripe.create_invoice(customer.id, idempotency_key=key())
    assert sorted(line.amount for line in credit.lines.data) == [-600, 200]
    settled = await stripe.finalize_invoice(credit.id, idempotency_key=key())
    assert (settled.status, settled.amount_due) == ("paid", 0)
    assert (await stripe.retrieve_customer(customer.id)).balance == -400


async def test_price_change_without_proration_creates_no_items(stripe: StripeAdapter) -> None:
    customer = await paying_customer(stripe)
    basic = await stripe.create_price("Basic", 1000, "usd", idempotency_key=key())
    pro = await stripe.create_price("Pro", 3000, "usd", idempotency_key=key())
    subscription = await stripe.create_subscription(customer.id, basic.id, idempotency_key=key())
    await stripe.update_subscription(
        subscription.id, pro.id, proration_behavior="none", idempotency_key=key()
    )
    with pytest.raises(InvalidRequest):  # nothing pending to invoice
        await stripe.create_invoice(customer.id, idempotency_key=key())
    yearly = await stripe.create_price("Yearly", 10000, "usd", "year", idempotency_key=key())
    with pytest.raises(InvalidRequest):
        await stripe.update_subscription(subscription.id, yearly.id, idempotency_key=key())


async def test_cancel_at_period_end_and_now(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    customer = await paying_customer(stripe)
    price = await stripe.create_price("Plan", 500, "usd", idempotency_key=key())
    subscription = await stripe.create_subscription(customer.id, price.id, idempotency_key=key())
    ending = await stripe.cancel_subscription(subscription.id, idempotency_key=key())
    assert ending.status == "active" and ending.cancel_at_period_end
    assert ending.cancel_at == subscription.current_period_end
    await payment_provider.control.advance_clock(31 * DAY)
    ended = await stripe.retrieve_subscription(subscription.id)
    assert ended.status == "canceled" and ended.canceled_at == subscription.current_period_end

    other = await stripe.create_subscription(customer.id, price.id, idempotency_key=key())
    now = await stripe.cancel_subscription(other.id, at_period_end=False, idempotency_key=key())
    assert now.status == "canceled" and not now.cancel_at_period_end
    with pytest.raises(InvalidRequest):
        await stripe.update_subscription(other.id, price.id, idempotency_key=key())


async def test_subscription_renews_and_goes_past_due_on_decline() -> None:
    # Its own fake: advancing the clock renews every subscription, and the armed decline
    # must hit this one's renewal, not another test's.
    with fake_provider() as fake:
        async with fake.adapter() as stripe:
            customer = await paying_customer(stripe)
            price = await stripe.create_price("Plan", 700, "usd", "week", idempotency_key=key())
            subscription = await stripe.create_subscription(
                customer.id, price.id, idempotency_key=key()
            )
            await fake.control.advance_clock(7 * DAY)
            renewed = await stripe.retrieve_subscription(subscription.id)
            assert renewed.current_period_start == subscription.current_period_end
            assert renewed.latest_invoice != subscription.latest_invoice
            assert (await stripe.retrieve_invoice(renewed.latest_invoice or "")).status == "paid"
            await fake.control.fail_next("decline")
            await fake.control.advance_clock(7 * DAY)
            assert (await stripe.retrieve_subscription(subscription.id)).status == "past_due"


async def test_subscription_without_a_card_is_incomplete(stripe: StripeAdapter) -> None:
    customer = await stripe.create_customer("nocard@example.com", idempotency_key=key())
    price = await stripe.create_price("Plan", 700, "usd", idempotency_key=key())
    subscription = await stripe.create_subscription(customer.id, price.id, idempotency_key=key())
    assert subscription.status == "incomplete"
    assert subscription.latest_invoice is not None
    assert (await stripe.retrieve_invoice(subscription.latest_invoice)).status == "open"


async def test_transfers_to_a_connected_account_succeed_fail_and_replay(
    stripe: StripeAdapter,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    account = await stripe.create_account("seller@example.com", "DE", {"ref": "s1"},
                                          idempotency_key=key())  # fmt: skip
    assert account.id.startswith("acct_") and account.payouts_enabled
    assert (account.country, account.metadata) == ("DE", {"ref": "s1"})
    assert await stripe.retrieve_account(account.id) == account
    k = key("transfer")
    sent = await stripe.create_transfer(1234, "EUR", account.id, "g1", {"payout": "p1"},
                                        idempotency_key=k)  # fmt: skip
    again = await stripe.create_transfer(1234, "EUR", account.id, "g1", {"payout": "p1"},
                                         idempotency_key=k)  # fmt: skip
    assert again == sent and await stripe.retrieve_transfer(sent.id) == sent
    assert (sent.status, sent.amount, sent.currency, sent.destination) == (
        "paid", 1234, "eur", account.id)  # fmt: skip
    assert [r["replayed"] for r in await calls_with_key(payment_provider, k)] == [False, True]
    assert len(await events_about(payment_provider, "transfer.created", id=sent.id)) == 1
    with pytest.raises(IdempotencyConflict):  # the same key for another amount
        await stripe.create_transfer(999, "eur", account.id, idempotency_key=k)

    await payment_provider.control.fail_next("transfer_failure")
    refused = key("refused")
    for _ in range(2):  # a refusal is definitive for its key: replayed, not redone
        with pytest.raises(TransferFailed) as info:
            await stripe.create_transfer(500, "eur", account.id, idempotency_key=refused)
        assert info.value.code == "balance_insufficient" and info.value.transfer_id
    failed = await stripe.retrieve_transfer(info.value.transfer_id or "")
    assert (failed.status, failed.failure_code) == ("failed", "balance_insufficient")
    assert len(await events_about(payment_provider, "transfer.failed", id=failed.id)) == 1
    # The failure was used up: a new key pays; an unknown destination is refused.
    assert (await stripe.create_transfer(500, "eur", account.id, idempotency_key=key())).status == "paid"
    with pytest.raises(TransferFailed) as info:
        await stripe.create_transfer(500, "eur", "acct_nobody", idempotency_key=key())
    assert info.value.code == "resource_missing"
    with pytest.raises(InvalidRequest) as bad:  # a bad request is no failed transfer
        await stripe.create_transfer(0, "eur", account.id, idempotency_key=key())
    assert bad.value.code == "parameter_invalid_integer"
    assert not isinstance(bad.value, TransferFailed)
