"""Recommendations: implicit ALS with category cold start, co-purchase, popularity fallback."""
