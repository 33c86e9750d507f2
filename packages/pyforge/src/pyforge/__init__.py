"""PyForge: self-hostable code intelligence for Python."""

__version__ = "0.1.0"
