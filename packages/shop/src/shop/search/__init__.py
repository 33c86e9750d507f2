"""Storefront search: full text, typo tolerance, filters, facets, sorts and autocomplete."""
