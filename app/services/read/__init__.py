"""The read model: each resource's document declared once (specs.py, with the elements of
spec.py), and built from that declaration by Python (python_builder.py) or by the database as
JSON text (sql_builder.py, dialects.py), byte for byte the same."""

from app.services.read.reader import DocumentReader

__all__ = ["DocumentReader"]
