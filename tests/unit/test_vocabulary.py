"""The shared vocabularies: one definition each, and the kind a gap is repaired as."""
from syllabus.vocabulary import FAMILY_OF_KIND, GAP_KINDS, SUSPICIOUS_AS, repair_kind


def test_suspicious_units_are_repaired_as_their_family_suggests():
    assert repair_kind("suspicious", "concept:phys:Force") == "concept_gap"
    assert repair_kind("suspicious", "relation:rel:abc") == "weak_edge"
    assert repair_kind("suspicious", "chain:ch1") == "reasoning_break"
    assert repair_kind("suspicious", "pair:a|b") == "suspicious"  # no family: nothing to render
    assert repair_kind("weak_edge", "concept:phys:Force") == "weak_edge"  # other kinds stay as they are


def test_every_repairable_kind_has_a_family():
    assert set(SUSPICIOUS_AS.values()) <= set(FAMILY_OF_KIND) <= set(GAP_KINDS)
    assert set(GAP_KINDS) - set(FAMILY_OF_KIND) == {"suspicious"}
