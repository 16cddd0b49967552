"""Syllabus: a knowledge-graph-backed corpus compiler."""

__version__ = "0.1.0"
