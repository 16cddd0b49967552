"""`syllabus loop` on the sample workspace with the tiny model: every step real, the patch traceable."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_loop_runs_every_step_and_the_new_build_differs_by_the_patch(sample_ws, cli):
    result = cli(sample_ws, "loop", "--model", "tiny", "--limit", "80", "--budget", "12", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["accuracy"]["overall"]["items"] == 80
    assert sum(report["gaps"].values()) > 0
    assert report["build_after"] != report["build_before"]
    allocated = report["repair"]["examples"]
    assert 0 < allocated <= 12
    diff = json.loads(cli(sample_ws, "builds", "diff", report["build_before"], report["build_after"], "--json").stdout)
    # without accepted proposals the graph did not change: the builds differ by patch examples only
    assert diff["removed"] == 0 and diff["changed"] == 0
    assert all(e["unit"].startswith("gap:") for e in diff["examples"])
    gaps = json.loads(cli(sample_ws, "gaps", "--status", "patched", "--json").stdout)
    assert gaps and all(g["build"] == report["build_after"] for g in gaps)
    explained = json.loads(cli(sample_ws, "explain", diff["examples"][0]["id"], "--json").stdout)
    assert explained["renderer"] == "patch@2"
