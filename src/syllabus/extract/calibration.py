"""Calibrated confidences: judged precision per extraction pattern, not guessed numbers.

``calibration.json`` (next to this module) is written by ``benchmarks/extract_precision.py
--calibrate`` from the judged facts in ``benchmarks/gold/``: for each relation pattern
(``predicate|pattern``) and definition pattern, the smoothed share of its facts that judges found
correct. A pattern that was never judged falls back to its predicate's figure, then to the
tier's, then to the pattern's built-in confidence.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def table() -> dict:
    """The calibration table shipped with the package (empty when none was written)."""
    path = resources.files("syllabus.extract").joinpath("calibration.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def digest() -> str:
    """A short hash of the table: extraction results depend on it."""
    return hashlib.sha256(json.dumps(table(), sort_keys=True).encode()).hexdigest()[:16]


def _value(entry) -> float:
    return float(entry["confidence"] if isinstance(entry, dict) else entry)


def relation_confidence(predicate: str, pattern: str, default: float) -> float:
    """Calibrated confidence of a relation found by *pattern*."""
    rel = table().get("relations", {})
    for key in (f"{predicate}|{pattern}", f"{predicate}|*", "*"):
        if key in rel:
            return _value(rel[key])
    return default


def definition_confidence(pattern: str, default: float) -> float:
    """Calibrated confidence of a definition found by *pattern*."""
    defs = table().get("definitions", {})
    for key in (pattern, "*"):
        if key in defs:
            return _value(defs[key])
    return default


DEFAULT_SENSE_THRESHOLD = 0.5


def sense_threshold(configured: float | None) -> float:
    """The sense check's threshold: the configured one, else the calibrated one."""
    if configured is not None:
        return configured
    return float(table().get("sense_threshold", DEFAULT_SENSE_THRESHOLD))
