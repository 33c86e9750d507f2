"""The catalogue: channels, categories, products, variants, prices and their history."""
