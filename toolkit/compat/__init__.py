"""Compatibility data and resolver: framework <-> CUDA <-> cuDNN <-> Python <-> driver <-> base image.

Self-contained: knows nothing about the profile YAML format. ``resolve(StackRequest(...))``
returns a :class:`Resolution` (with a :class:`Decision` per resolved value) or raises
:class:`CompatError` listing every :class:`CompatIssue` found.
"""

from .companions import companion_requirement
from .data_model import CompatData, CompatDataError, load_data
from .model import CompatError, CompatIssue, Decision, Resolution, StackRequest
from .resolver import family_floor, resolve, toolkit_driver

__all__ = [
    "companion_requirement",
    "CompatData",
    "CompatDataError",
    "CompatError",
    "CompatIssue",
    "Decision",
    "Resolution",
    "StackRequest",
    "family_floor",
    "load_data",
    "resolve",
    "toolkit_driver",
]
