"""CLI commands, one module per process role."""
