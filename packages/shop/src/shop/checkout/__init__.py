"""Checkout: a cart becomes an order holding its stock; discount codes, tax and shipping."""
