"""Bulk catalogue import (a job on the worker role) and export, as CSV."""
