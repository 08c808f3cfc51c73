"""IMDB movie-review sentiment, binary classification (Deep Learning with Python, 4.1)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
