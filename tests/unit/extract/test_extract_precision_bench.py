"""The judged-set arithmetic of benchmarks/extract_precision.py on hand-made facts: calibration
is conservative and ordered, the gate sweep and the cross-validation count what they say."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import extract_precision as ep  # noqa: E402


def rel(i, pattern, confidence=0.8, predicate="is_a"):
    return {"tier": "relation", "key": f"relation|d|s{i}|{predicate}|o{i}", "predicate": predicate,
            "patterns": [pattern], "confidence": confidence, "rendered": confidence >= 0.75, "discipline": "d"}


FACTS = [rel(i, "copula:is a|head") for i in range(12)] + [rel(100 + i, "including", 0.4) for i in range(12)]
GOLD = {f["key"]: {"verdict": "correct" if (i < 12 or i % 3 == 0) else "incorrect"} for i, f in enumerate(FACTS)}


def test_calibration_orders_patterns_by_judged_precision_and_is_conservative():
    table = ep.calibrate(FACTS, GOLD)
    good = table["relations"]["is_a|copula:is a|head"]
    bad = table["relations"]["is_a|including"]
    assert good["judged"] == 12 and good["correct"] == 12 and bad["correct"] == 4
    assert good["confidence"] > bad["confidence"]
    assert good["confidence"] < 1.0  # 12 of 12 is strong evidence, not certainty
    few = ep.calibrate(FACTS[:2] + FACTS[12:], {k: GOLD[k] for k in [f["key"] for f in FACTS[:2] + FACTS[12:]]})
    assert few["relations"]["is_a|copula:is a|head"]["confidence"] < good["confidence"]  # 2 of 2 counts less


def test_gate_sweep_and_figures_count_rendered_judged_facts():
    rows = {r["min_confidence"]: r for r in ep.gate_sweep(FACTS, GOLD)}
    assert rows[0.5]["relation"] == {"facts": 12, "judged": 12, "correct": 12, "precision": 1.0}
    res = ep.figures(FACTS, GOLD, 0.5)
    assert res["tiers"]["relation"]["precision"] == 1.0
    assert res["held_back"]["relation"] == {"facts": 12, "judged": 12, "judged_correct": 4}


def test_cross_validation_scores_each_fact_once():
    out = ep.cross_validate(FACTS, GOLD, gate=0.0)
    assert out["relation"]["judged"] == len(FACTS) and out["relation"]["correct"] == 16


def test_gold_files_are_validated(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"key": "k", "verdict": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="a.jsonl:1"):
        ep.load_gold(tmp_path)


def test_the_shipped_judged_set_holds_no_corpus_text():
    gold = ep.load_gold()
    assert len(gold) >= 300
    for row in gold.values():
        assert set(row) <= {"key", "tier", "workspace", "verdict", "category", "reason", "evidence_sha256"}
        assert len(row["reason"]) < 200
