"""Billing: the payment provider's webhooks and the local mirror of its invoices."""
