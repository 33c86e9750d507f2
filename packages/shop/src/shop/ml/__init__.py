"""The shop's ML services: recommendations, fraud scoring, review sentiment, demand forecasts.

Each domain keeps its pure modelling code (generators, features, training, evaluation) apart
from the database and the API, so the same code trains on the shop's tables, on any table of
the same shape, and on the seeded synthetic generators the model cards name as such.
"""
