"""A customer's saved addresses and profile preferences."""
