"""Training service: trainers per model kind, the run table, the version registry."""
