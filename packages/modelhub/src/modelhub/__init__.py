"""Modelhub: publishers upload models, consumers find, try, buy and call them (seed 003)."""

__version__ = "0.1.0"
