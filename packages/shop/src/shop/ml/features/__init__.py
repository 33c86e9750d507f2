"""The feature store: features defined once, computed point-in-time, served online,
watched for drift."""
