"""A CNN written from first principles in NumPy (Victor Zhou's "CNNs from scratch")."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
