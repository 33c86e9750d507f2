"""Test support shared by the kit's and the products' test suites (needs pytest)."""
