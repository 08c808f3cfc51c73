"""Keras Classics"""

__version__ = "0.1"
