"""toolkit: from nothing to a verified deep-learning environment."""

__version__ = "0.1.0"
