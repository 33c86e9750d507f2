"""Storefront analytics: recorded events (view, cart, checkout, paid) and the reports over them."""
