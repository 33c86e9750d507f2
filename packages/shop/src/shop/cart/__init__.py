"""Carts: per customer or anonymous session, in Redis (in-process on the embedded defaults)."""
