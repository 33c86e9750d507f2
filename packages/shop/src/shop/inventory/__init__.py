"""Inventory: warehouses, stock per variant, and reservations that expire."""
