"""`syllabus experiment repair` with the tiny model: every arm trained and scored, the control matched, nothing leaked."""
import hashlib
import json
import shutil

import pytest

pytestmark = pytest.mark.slow

ARGS = ["experiment", "repair", "--model", "tiny", "--seeds", "2", "--budget", "16", "--dev-items", "80",
        "--test-items", "80", "--train-limit", "120", "--full", "--lr", "3e-3", "--max-length", "128",
        "--batch-size", "16", "--max-steps", "6", "--out", "exp"]


@pytest.fixture
def ws(tmp_path, request):
    compiled = request.getfixturevalue("compiled")
    root = tmp_path / "ws"
    shutil.copytree(compiled, root, symlinks=True)
    return root


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_experiment_trains_every_arm_and_reports(ws, cli):
    store_before = _digest(ws / ".syllabus/store.db")
    latest_before = (ws / "build/latest").resolve().name
    result = cli(ws, *ARGS, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    out = ws / "exp"
    for name in ("report.md", "report.json", "report.png"):
        assert (out / name).is_file()
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    seeds = report["results"]["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1]
    assert len(report["results"]["V0_per_item"]) == 80
    for s in seeds:
        assert 0 < s["patch_examples"] <= 16
        assert s["random_examples"] == s["patch_examples"]  # the control has exactly the same size
        assert s["training"]["V2"]["patch_examples"] == s["patch_examples"]
        assert s["training"]["V2-random"]["patch_examples"] == s["random_examples"]
        assert s["training"]["V1"]["patch_examples"] == 0
        assert s["training"]["V1"]["build_examples"] == 120  # the same fixed sample for every seed
        # encoded: all but those whose answer starts past --max-length
        assert s["training"]["V1"]["examples"] == 120 - s["training"]["V1"]["skipped_no_answer"] >= 110
        assert set(s["per_item"]) == {"V1", "V2", "V2-random"}
        assert all(len(v) == 80 for v in s["per_item"].values())
        assert set(s["touched_test_items"]) <= set(report["results"]["test_items"])
        targeted = {a["unit"] for a in s["allocations"]}
        assert not targeted & {a["unit"] for a in s["random_allocations"]}  # random units are other units
    patch = [json.loads(line) for line in (out / "work/patch-seed0.jsonl").read_text().splitlines()]
    random = [json.loads(line) for line in (out / "work/random-seed0.jsonl").read_text().splitlines()]
    def families(examples):
        return {e["task"].split(".")[1] for e in examples}

    assert families(random) <= families(patch)  # the same patch task types, on other units
    assert all(any(u.startswith("gap:") for u in e["units"]) for e in patch + random)
    assert "V2-random" in (out / "report.md").read_text() and summary["verdict"]
    groups = report["summary"]
    assert {"all", "repaired units", "other items", "level L1"} <= set(groups)
    assert groups["all"]["arms"]["V1"]["n"] == 2
    # the user's workspace is untouched: the experiment works on copies
    assert _digest(ws / ".syllabus/store.db") == store_before
    assert (ws / "build/latest").resolve().name == latest_before
    # a second run reuses every model and run and writes the same figures
    again = cli(ws, *ARGS, "--json")
    assert again.exit_code == 0, again.output
    second = json.loads((out / "report.json").read_text())
    assert second["summary"] == report["summary"]
    assert second == report  # the same results give the same report, byte for byte in every field
    # other options need their own folder: nothing is mixed into this one
    other = cli(ws, *[("24" if a == "16" else a) for a in ARGS])
    assert other.exit_code == 2 and "E094" in other.output and "budget" in other.output
    assert json.loads((out / "report.json").read_text())["summary"] == report["summary"]


def test_max_gaps_concentrates_the_budget(ws, cli):
    args = list(ARGS)
    args[args.index("--seeds") + 1] = "1"
    args[args.index("--out") + 1] = "exp-top"
    result = cli(ws, *args, "--max-gaps", "3", "--json")
    assert result.exit_code == 0, result.output
    seed = json.loads((ws / "exp-top/report.json").read_text())["results"]["seeds"][0]
    assert 0 < len(seed["allocations"]) <= 3
    assert sum(a["examples"] for a in seed["allocations"]) == 16
    assert seed["random_examples"] == seed["patch_examples"] > 3


def test_experiment_needs_a_build(sample_ws, cli):
    result = cli(sample_ws, *ARGS)
    assert result.exit_code == 2 and "E070" in result.output
    assert not (sample_ws / "exp").exists()
