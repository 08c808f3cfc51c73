"""The book's first network: MNIST digits with two Dense layers (Deep Learning with
Python, 2.1)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
