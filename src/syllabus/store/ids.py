"""Deterministic ids for store rows that have no natural key of their own."""
from __future__ import annotations

import hashlib


def relation_id(subject: str, predicate: str, obj: str, origin: str) -> str:
    """A stable relation id: the same triple and origin get the same id in every store."""
    digest = hashlib.sha256("\x1f".join((subject, predicate, obj, origin)).encode()).hexdigest()
    return "rel:" + digest[:24]
