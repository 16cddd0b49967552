"""Differences between two ontology files, for review in pull requests."""
from __future__ import annotations

from syllabus.ontology.model import ParsedOntology

_FIELDS = ("pref_label", "definition", "type", "status")


def diff(old: ParsedOntology, new: ParsedOntology) -> dict:
    """Added, removed and changed concepts (with field-level changes) and relations."""
    a, b = old.concept_map(), new.concept_map()
    changed = []
    for cid in sorted(set(a) & set(b)):
        fields = {f: {"old": getattr(a[cid], f), "new": getattr(b[cid], f)}
                  for f in _FIELDS if getattr(a[cid], f) != getattr(b[cid], f)}
        added_labels = sorted(b[cid].labels - a[cid].labels)
        removed_labels = sorted(a[cid].labels - b[cid].labels)
        if added_labels or removed_labels:
            fields["labels"] = {"added": [list(x) for x in added_labels], "removed": [list(x) for x in removed_labels]}
        if fields:
            changed.append({"id": cid, "changes": fields})
    ra, rb = old.relation_keys(), new.relation_keys()
    return {
        "old": old.path,
        "new": new.path,
        "concepts": {
            "added": [{"id": c, "label": b[c].pref_label} for c in sorted(set(b) - set(a))],
            "removed": [{"id": c, "label": a[c].pref_label} for c in sorted(set(a) - set(b))],
            "changed": changed,
        },
        "relations": {
            "added": [list(r) for r in sorted(rb - ra)],
            "removed": [list(r) for r in sorted(ra - rb)],
        },
    }


def is_empty(result: dict) -> bool:
    return not any(result["concepts"][k] for k in ("added", "removed", "changed")) and not any(
        result["relations"][k] for k in ("added", "removed"))
