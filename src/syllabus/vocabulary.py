"""The small controlled vocabularies that several stages share, each defined once.

Gap kinds and statuses (written by diagnosis, read by gap queries, repair, the patch renderer
and the experiment), benchmark levels and splits, and the unit family each gap kind repairs.
"""
from __future__ import annotations

#: what diagnosis finds (see syllabus.debug.diagnose)
GAP_KINDS = ("concept_gap", "weak_edge", "reasoning_break", "missing_edge", "suspicious")
#: a gap's life: found, patched by a repair, verified by a later run, or dismissed by hand
GAP_STATUSES = ("open", "patched", "verified", "dismissed")
#: benchmark item levels: generated L1-L3, and EXT for imported external items
ITEM_LEVELS = ("L1", "L2", "L3", "EXT")
#: item splits: diagnosis and repair read dev; improvement is reported on test
ITEM_SPLITS = ("dev", "test")

#: the kind of gap a unit with no probes of its own (``suspicious``) is repaired as, by unit family
SUSPICIOUS_AS = {"concept": "concept_gap", "relation": "weak_edge", "chain": "reasoning_break"}
#: the unit family whose examples repair each kind of gap
FAMILY_OF_KIND = {"concept_gap": "concept", "weak_edge": "relation", "missing_edge": "relation",
                  "reasoning_break": "chain"}


def repair_kind(kind: str, unit: str) -> str:
    """The kind a gap is repaired as: a suspicious unit as its family suggests, any other kind as itself."""
    if kind != "suspicious":
        return kind
    return SUSPICIOUS_AS.get(unit.split(":", 1)[0], kind)
