"""Invoices: a PDF per paid order, numbered without gaps per year, kept in object storage."""
