"""``pyforge tui``: a keyboard-driven terminal UI over a local report or a PyForge server."""
