"""Unit fingerprints: a hash of each unit's content, with a hash per field so a plan can say what changed.

Unit keys: ``concept:ID`` (label, definition, type, other labels, evidence), ``label:ID`` (just the
preferred label, for renderers that only name a concept), ``out:ID`` and
``in:ID`` (the concept's usable edges), ``relation:ID`` (triple, status, confidence, source,
evidence) and ``chain:ID`` (rule, relations, conclusion) and ``gap:ID`` (a repaired gap: kind, unit, repair plan). An example depends on the units its
renderer read; its id hashes their fingerprints, so upstream changes reach it through them.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from syllabus.compile.graph import Graph

UNIT_KINDS = ("concept", "label", "out", "in", "relation", "chain", "gap")
PRIMARY_KINDS = ("concept", "relation", "chain", "gap")


def digest(text: str, size: int = 16) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def compact_encoder(sort_keys: bool = False) -> Callable[[object], str]:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=...)`` as one reusable
    function: the json module's C encoder is made once, where ``JSONEncoder.encode`` makes one (and
    a float formatter) on every call, a third of the time for the small values hashed here. The
    values are fresh trees of dicts and lists, so the cycle check is left out.
    """
    if json.encoder.c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"),
                                check_circular=False).encode
    encode = json.encoder.c_make_encoder(None, _no_default, json.encoder.encode_basestring, None, ":", ",",
                                         sort_keys, False, True)
    return lambda value: "".join(encode(value, 0))


def _no_default(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


canonical = compact_encoder(sort_keys=True)
canonical.__doc__ = "Compact JSON with sorted keys."


def split_key(key: str) -> tuple[str, str]:
    kind, _, ident = key.partition(":")
    if kind not in UNIT_KINDS or not ident:
        raise ValueError(f"not a unit key: {key}")
    return kind, ident


def unit_fields(graph: Graph, key: str) -> tuple[str, dict] | None:
    """(discipline, fields) of the unit as the graph has it now, or None when it is gone or unusable."""
    kind, ident = split_key(key)
    if kind == "concept":
        c = graph.concept(ident)
        if c is None:
            return None
        return c.discipline, {"label": c.label, "definition": c.definition, "type": c.type,
                              "labels": list(c.alt_labels), "evidence": [_ev(e) for e in c.evidence]}
    if kind == "label":
        c = graph.concept(ident)
        return None if c is None else (c.discipline, {"label": c.label})
    if kind in ("out", "in"):
        c = graph.concept(ident)
        if c is None:
            return None
        edges = graph.out_edges(ident) if kind == "out" else graph.in_edges(ident)
        return c.discipline, {"edges": [[e.predicate, e.object if kind == "out" else e.subject, e.relation]
                                        for e in edges]}
    if kind == "relation":
        r = graph.relation(ident)
        if r is None:
            return None
        return r.discipline, {"triple": [r.subject, r.predicate, r.object], "status": r.status,
                              "confidence": r.confidence, "source": r.source,
                              "evidence": [_ev(e) for e in r.evidence]}
    if kind == "gap":
        g = graph.gap(ident)
        return None if g is None else (g.discipline, {"kind": g.kind, "unit": g.unit, "repair": g.repair})
    h = graph.chain(ident)
    if h is None:
        return None
    return h.discipline, {"rule": h.rule, "relations": list(h.relation_ids),
                          "conclusion": [h.subject, h.predicate, h.object]}


def fingerprint(fields: dict) -> tuple[str, str]:
    """(fingerprint, field hashes) of a unit's fields; the hashes are canonical JSON (field -> hash)."""
    hashes = canonical({name: digest(canonical(value), 8) for name, value in fields.items()})
    return digest(hashes), hashes


def _ev(e) -> list:
    return [e.id, e.document, e.chunk, e.start, e.end, e.sentence]


def deps_text(keys: list[str], fps: list[str]) -> str:
    """A dependency map as compact text (``key fingerprint`` per line; *keys* sorted), hashed into example ids."""
    return "\n".join(map(" ".join, zip(keys, fps)))


def parse_deps(text: str) -> dict[str, str]:
    """A stored dependency map: JSON (key -> fingerprint), or the ``key fingerprint`` lines
    (see :func:`deps_text`) that rows written by earlier versions hold."""
    if text.startswith("{"):
        return json.loads(text)
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line)
