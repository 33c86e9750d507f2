"""Payments for orders on the kit's payment port (``forgekit.payments``)."""
