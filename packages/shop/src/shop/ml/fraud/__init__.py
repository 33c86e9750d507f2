"""Fraud scoring: order features, an IsolationForest, editable rules and a combined decision."""
