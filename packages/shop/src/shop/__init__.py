"""Shop: an e-commerce platform on the kit (seed 002): catalogue, search, cart, orders,
payments and inventory."""

__version__ = "0.1.0"
