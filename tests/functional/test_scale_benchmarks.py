"""The scale benchmarks of the test-and-debug loop run end to end on a small synthetic graph.

Only that they run and report sound figures is checked here; the figures themselves are the
benchmarks' business (no timing assertions in the suite).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--concepts", "3000", "--relations", "2400", "--chains", "600", "--disciplines", "2"]


def _bench(name: str, tmp_path: Path, *extra: str) -> dict:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *SMALL, "--workdir", str(tmp_path),
                             "--json", *extra], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{"):])


@pytest.mark.slow
def test_bench_build_scale_builds_then_finds_everything_unchanged(tmp_path):
    out = _bench("bench_build_scale.py", tmp_path)
    first, again = out["first"], out["rebuild"]
    assert first["items"] > 1000 and first["new"] == first["items"] and set(first["levels"]) == {"L1", "L2", "L3"}
    assert again["new"] == 0 and again["removed"] == 0 and again["unchanged"] == first["items"]


@pytest.mark.slow
def test_gap_queries_answer_every_case(tmp_path):
    out = _bench("gap_queries.py", tmp_path, "--gaps", "2000", "--items", "3000", "--repeat", "3")
    queries = out["queries"]
    assert {"gaps --under ROOT (whole discipline)", "gaps report --discipline D"} <= set(queries)
    assert all(q["rows"] > 0 and q["p95_ms"] >= q["p50_ms"] > 0 for q in queries.values())
    # a discipline root's subtree holds at least the gaps of a mid-level concept's
    assert queries["gaps --under ROOT (whole discipline) --json (all rows)"]["rows"] >= \
        queries["gaps --under MID (depth 2) --json (all rows)"]["rows"]


@pytest.mark.slow
def test_report_scale_writes_every_page_twice_the_same(tmp_path):
    out = _bench("report_scale.py", tmp_path, "--compile")
    first, second = out["reports"]
    assert out["same_bytes"] is True and first["digest"] == second["digest"]
    assert first["summary"]["concept_pages"] == out["store"]["concepts"] == 3000
    assert first["files"] > 3000 and first["bytes"] > first["largest_page"] * 100 and first["peak_mb"] > 0
