"""Renderers: one plan in, one output format out. See common.py for the shared rules."""
