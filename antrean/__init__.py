"""Antrean: queue tickets for kecamatan offices. This package is the core and the queue service."""

__version__ = "0.1.0"
