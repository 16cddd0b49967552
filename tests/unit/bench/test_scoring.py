"""Scoring backends with a real tiny GPT-2: log-likelihoods checked by hand, batching, letters, the chat backend."""
from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_lm import FACTS, openai_server  # noqa: E402

from syllabus.bench import models  # noqa: E402
from syllabus.bench.scoring import (  # noqa: E402
    MCItem,
    OpenAIScorer,
    TransformersScorer,
    context_text,
    continuation_text,
    endpoint_url,
    parse_letter,
)
from syllabus.config import LLMConfig  # noqa: E402
from syllabus.errors import SyllabusError  # noqa: E402
from syllabus.llm.client import LLMClient  # noqa: E402

ITEMS = [MCItem(f"{d}-{k}", q, c, 0) for d, facts in FACTS.items() for k, (q, c) in enumerate(facts)]
TEXTS = [q for q, _ in sum(FACTS.values(), [])] + [c for _, cs in sum(FACTS.values(), []) for c in cs]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = models.build_tiny_model(TEXTS, tmp_path_factory.mktemp("m") / "tiny")
    return models.load("tiny", path, device="cpu")


def _by_hand(loaded, question: str, choice: str) -> tuple[float, int]:
    """Sum of log P(continuation token | everything before), one unpadded forward pass."""
    tok = loaded.tokenizer
    ctx = tok(context_text(question), add_special_tokens=False)["input_ids"]
    whole = tok(context_text(question) + continuation_text(choice), add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([whole])).logits[0]
    logp = torch.log_softmax(logits, dim=-1)
    total = sum(float(logp[i - 1, whole[i]]) for i in range(len(ctx), len(whole)))
    return total, len(whole) - len(ctx)


def test_scores_are_length_normalised_log_likelihoods(tiny):
    results, stats = TransformersScorer(tiny, batch_size=8).score(ITEMS[:3])
    for item, res in zip(ITEMS[:3], results):
        for choice, entry in zip(item.choices, res.scores):
            total, n = _by_hand(tiny, item.question, choice)
            assert entry["tokens"] == n
            assert entry["logprob"] == pytest.approx(total, abs=1e-4)
            assert entry["score"] == pytest.approx(total / n, abs=1e-4)
        best = max(range(4), key=lambda j: res.scores[j]["score"])
        assert res.prediction == best
    assert stats.items == 3 and stats.sequences == 12 and stats.tokens > 0


def test_batching_gives_the_same_predictions_as_one_at_a_time(tiny):
    one, _ = TransformersScorer(tiny, batch_size=1).score(ITEMS)
    for size in (3, 16, 64):
        many, _ = TransformersScorer(tiny, batch_size=size).score(ITEMS)
        assert [r.prediction for r in many] == [r.prediction for r in one]
        for a, b in zip(many, one):
            assert [s["score"] for s in a.scores] == pytest.approx([s["score"] for s in b.scores], abs=1e-4)


def test_scoring_is_deterministic_and_norms_differ_only_in_division(tiny):
    a, _ = TransformersScorer(tiny).score(ITEMS[:4])
    b, _ = TransformersScorer(tiny).score(ITEMS[:4])
    assert [r.scores for r in a] == [r.scores for r in b]
    raw, _ = TransformersScorer(tiny, norm="none").score(ITEMS[:4])
    for x, y in zip(a, raw):
        assert [s["score"] for s in y.scores] == pytest.approx([s["logprob"] for s in x.scores])


def test_long_contexts_are_truncated_from_the_left(tiny):
    item = MCItem("long", "word " * 2000 + "Which is it?", ["force", "mass"], 0)
    [res], stats = TransformersScorer(tiny, batch_size=2).score([item])
    assert all(math.isfinite(s["score"]) for s in res.scores)
    assert stats.tokens <= 2 * tiny.max_length


def test_tiny_model_is_deterministic(tmp_path):
    a = models.build_tiny_model(TEXTS, tmp_path / "a")
    b = models.build_tiny_model(list(reversed(TEXTS)), tmp_path / "b")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert json.loads((a / models.MANIFEST).read_text())["n_layer"] == 2


def test_missing_model_folder_is_e083(tmp_path):
    with pytest.raises(SyllabusError) as err:
        models.resolve(str(tmp_path / "nope"), tmp_path)
    assert err.value.code == "E083"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{}")
    with pytest.raises(SyllabusError) as err:
        models.load("bad", tmp_path / "bad")
    assert err.value.code == "E083"


@pytest.mark.parametrize("reply, expected", [
    ("B", 1), ("b", 1), ("(c)", 2), ("D.", 3), ("**B**", 1), ("B) force", 1), ("The answer is C.", 2),
    ("Answer: A", 0), ("I think B", 1), ("Option (D)", 3), ("\n C\n", 2),
    ("a force", None), ("E", None), ("", None), (None, None), ("I cannot tell.", None),
])
def test_parse_letter(reply, expected):
    assert parse_letter(reply, 4) == expected


def test_endpoint_url_forms():
    assert endpoint_url("http://h:1/v1") == "http://h:1/v1/chat/completions"
    assert endpoint_url("http://h:1/") == "http://h:1/v1/chat/completions"
    assert endpoint_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"


def scorer(url, tmp_path, **cfg) -> OpenAIScorer:
    settings = dict(base_url=url, model="tiny", backoff_s=0.01, **cfg)
    return OpenAIScorer(LLMClient(LLMConfig(**settings), tmp_path / "llm-cache.db", command="test"))


@pytest.mark.parametrize("mode", ["letter", "verbose"])
def test_openai_backend_matches_the_log_likelihood_choice(tiny, mode, tmp_path):
    local = TransformersScorer(tiny, batch_size=4)
    expected, _ = local.score(ITEMS)
    with openai_server(local, mode) as (url, server):
        got, stats = scorer(url, tmp_path, max_concurrency=4).score(ITEMS)
        again, cached = scorer(url, tmp_path, max_concurrency=4).score(ITEMS)  # the LLM cache answers
    assert [r.prediction for r in got] == [r.prediction for r in expected]
    assert set(server.requests) == {"/v1/chat/completions"} and len(server.requests) == len(ITEMS)
    assert stats.extra["unparsed"] == 0 and stats.tokens == 11 * len(ITEMS)
    assert [r.prediction for r in again] == [r.prediction for r in got] and cached.extra["llm"]["cached"] == len(ITEMS)


def test_openai_backend_errors_name_the_item(tiny, tmp_path):
    local = TransformersScorer(tiny)
    with openai_server(local, "error") as (url, server):
        with pytest.raises(SyllabusError) as err:
            scorer(url, tmp_path, max_concurrency=1, retries=1).score(ITEMS[:2])
    assert err.value.code == "E182" and "HTTP 500" in err.value.message and f"item {ITEMS[0].id}" in err.value.message
    assert len(server.requests) == 2  # one retry, then the command stops
    with openai_server(local) as (url, _server):
        dead = url  # the port is closed once the server stops
    with pytest.raises(SyllabusError) as err:
        scorer(dead, tmp_path, timeout_s=5).score(ITEMS[:1])
    assert err.value.code == "E180"


def test_unreadable_replies_are_predictions_of_minus_one(tiny, tmp_path):
    with openai_server(TransformersScorer(tiny), "garbage") as (url, _server):
        got, stats = scorer(url, tmp_path).score(ITEMS[:3])
    assert [r.prediction for r in got] == [-1, -1, -1] and stats.extra["unparsed"] == 3
