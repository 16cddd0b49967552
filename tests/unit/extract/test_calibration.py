"""Calibrated confidences: a judged pattern's figure wins, then its predicate's, then the tier's."""
import pytest

from syllabus.extract import calibration

TABLE = {
    "relations": {"*": 0.55, "is_a|*": 0.7, "is_a|copula:kind": {"confidence": 0.93, "judged": 12, "correct": 12},
                  "used_for|*": 0.4},
    "definitions": {"*": 0.8, "definition:copula": {"confidence": 0.91, "judged": 20, "correct": 19}},
}


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setattr(calibration, "table", lambda: TABLE)


def test_relation_lookup_order(table):
    assert calibration.relation_confidence("is_a", "copula:kind", 0.1) == 0.93
    assert calibration.relation_confidence("is_a", "verb:include", 0.1) == 0.7
    assert calibration.relation_confidence("causes", "verb:cause", 0.1) == 0.55


def test_definition_lookup_order(table):
    assert calibration.definition_confidence("definition:copula", 0.2) == 0.91
    assert calibration.definition_confidence("definition:appositive", 0.2) == 0.8


def test_uncalibrated_pattern_keeps_its_default(monkeypatch):
    monkeypatch.setattr(calibration, "table", lambda: {})
    assert calibration.relation_confidence("is_a", "copula:kind", 0.42) == 0.42
    assert calibration.definition_confidence("definition:copula", 0.37) == 0.37


def test_shipped_table_is_valid():
    shipped = calibration.table()
    for section in ("relations", "definitions"):
        for key, entry in shipped.get(section, {}).items():
            value = entry["confidence"] if isinstance(entry, dict) else entry
            assert 0.0 <= value <= 1.0, (section, key)
    assert len(calibration.digest()) == 16
