"""Scoring backends: multiple-choice items in, one prediction (and per-choice scores) per item out.

``transformers``: log-likelihood, as lm-evaluation-harness scores multiple choice. The context is
plain text, ``"Question: {question}\\nAnswer:"``, and each continuation is ``" " + choice``; no chat
template, because the continuation's log-probability must be read right after the context, which a
template's turn markers would put in between (and the tiny test model has no template). Each
(context, continuation) pair is tokenised as lm-eval does (``whole = enc(ctx + cont)``,
``cont = whole[len(enc(ctx)):]``), pairs are sorted by length, right-padded into batches with an
attention mask, and run in one forward pass per batch; the log-softmax is taken only at the
continuation positions and gathered at the continuation tokens. A choice's score is the sum of its
token log-probabilities divided by its token count (``norm="tokens"``; also ``"chars"``, lm-eval's
acc_norm, or ``"none"``: the raw sum); the prediction is the arg-max (the first on ties).
Deterministic: eval mode (no dropout), a fixed seed, inference mode, float32.

``openai``: any OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, Ollama, a hosted API),
asked at temperature 0 for the letter of the answer and parsed by :func:`parse_letter`, through the
LLM tier's one client (:mod:`syllabus.llm.client`): answers are cached, so scoring the same items with
the same model again costs nothing; transport failures are E180-E182 naming the item.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from syllabus.errors import check_choice
from syllabus.llm.client import LLMClient, Request, endpoint_url, prompt_version

__all__ = ["MCItem", "OpenAIScorer", "Scored", "Stats", "TransformersScorer", "endpoint_url", "parse_letter"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NORMS = ("tokens", "chars", "none")


@dataclass(frozen=True)
class MCItem:
    id: str
    question: str
    choices: list[str]
    answer: int


@dataclass
class Scored:
    """One item's outcome: the chosen index (-1: no answer could be read) and per-choice scores (or None)."""

    prediction: int
    scores: list[dict[str, Any]] | None = None


@dataclass
class Stats:
    items: int = 0
    sequences: int = 0  # forward-pass rows (transformers) or requests (openai)
    tokens: int = 0  # tokens read by the model (non-padding), or reported by the server
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def context_text(question: str) -> str:
    return f"Question: {question.strip()}\nAnswer:"


def continuation_text(choice: str) -> str:
    return " " + choice.strip()


def pick(scores: list[float]) -> int:
    """Index of the highest score, the first one on ties."""
    best = 0
    for i, s in enumerate(scores):
        if s > scores[best]:
            best = i
    return best


# ---------------------------------------------------------------- transformers


@dataclass
class _Seq:
    item: int
    choice: int
    tokens: list[int]  # context + continuation, truncated to max_length + 1
    ctx_len: int  # tokens of the context inside *tokens*


class TransformersScorer:
    """Length-normalised log-likelihood scoring with a loaded causal LM (see the module docstring)."""

    name = "transformers"

    def __init__(self, loaded, *, batch_size: int = 16, norm: str = "tokens") -> None:
        check_choice("--norm", norm, NORMS)
        self.loaded = loaded
        self.batch_size = max(1, int(batch_size))
        self.norm = norm

    def params(self) -> dict[str, Any]:
        import torch

        return {"batch_size": self.batch_size, "normalisation": self.norm, "device": self.loaded.device,
                "threads": torch.get_num_threads() if self.loaded.device == "cpu" else None,
                "dtype": self.loaded.dtype, "context": "Question: {question}\\nAnswer:", "continuation": " {choice}"}

    def encode(self, items: list[MCItem]) -> list[_Seq]:
        tok = self.loaded.tokenizer
        limit = self.loaded.max_length + 1  # inputs are tokens[:-1]
        contexts = [context_text(it.question) for it in items]
        ctx_ids = tok(contexts, add_special_tokens=False)["input_ids"]
        wholes = [c + continuation_text(ch) for it, c in zip(items, contexts) for ch in it.choices]
        whole_ids = tok(wholes, add_special_tokens=False)["input_ids"] if wholes else []
        seqs: list[_Seq] = []
        k = 0
        for i, it in enumerate(items):
            ctx = ctx_ids[i]
            for j in range(len(it.choices)):
                whole = whole_ids[k]
                k += 1
                cont = whole[len(ctx):] if whole[:len(ctx)] == ctx else \
                    tok(continuation_text(it.choices[j]), add_special_tokens=False)["input_ids"]
                tokens = list(ctx) + list(cont)
                ctx_len = len(ctx)
                if len(tokens) > limit:  # drop the oldest context tokens (and, if need be, the continuation's)
                    cut = len(tokens) - limit
                    tokens = tokens[cut:]
                    ctx_len = max(1, ctx_len - cut)
                if ctx_len < 1:  # the first token has no prediction: an empty context scores from token 1
                    ctx_len = 1
                seqs.append(_Seq(i, j, tokens, ctx_len))
        return seqs

    def score(self, items: list[MCItem], progress: Callable[[int], None] | None = None) -> tuple[list[Scored], Stats]:
        import torch

        torch.manual_seed(0)
        model = self.loaded.model
        model.eval()
        pad = self.loaded.tokenizer.pad_token_id or 0
        start = time.perf_counter()
        seqs = self.encode(items)
        order = sorted(range(len(seqs)), key=lambda s: (-len(seqs[s].tokens), s))
        logprob: dict[int, tuple[float, int, bool]] = {}
        stats = Stats(items=len(items), sequences=len(seqs))
        done = 0
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                batch = [seqs[s] for s in order[b:b + self.batch_size]]
                width = max(len(s.tokens) - 1 for s in batch)
                ids = torch.full((len(batch), max(width, 1)), pad, dtype=torch.long)
                mask = torch.zeros_like(ids)
                for r, s in enumerate(batch):
                    n = len(s.tokens) - 1
                    if n > 0:
                        ids[r, :n] = torch.tensor(s.tokens[:-1], dtype=torch.long)
                        mask[r, :n] = 1
                    stats.tokens += max(n, 0)
                logits = model(input_ids=ids.to(self.loaded.device), attention_mask=mask.to(self.loaded.device)).logits
                for r, s in enumerate(batch):
                    n = len(s.tokens) - 1
                    target = torch.tensor(s.tokens[s.ctx_len:], dtype=torch.long, device=logits.device)
                    if target.numel() == 0:
                        logprob[order[b + r]] = (-math.inf, 0, False)
                        continue
                    rows = torch.log_softmax(logits[r, s.ctx_len - 1:n].float(), dim=-1)
                    picked = rows.gather(1, target.unsqueeze(1)).squeeze(1)
                    greedy = bool((rows.argmax(dim=-1) == target).all())
                    logprob[order[b + r]] = (float(picked.sum()), int(target.numel()), greedy)
                if progress:
                    finished = {seqs[s].item for s in order[:b + len(batch)]}
                    progress(len(finished) - done)
                    done = len(finished)
        results: list[Scored] = []
        k = 0
        for it in items:
            per_choice = []
            for ch in it.choices:
                total, n, greedy = logprob[k]
                k += 1
                per_choice.append(self._entry(total, n, greedy, ch))
            keys = [c["score"] if c["score"] is not None else -math.inf for c in per_choice]
            results.append(Scored(pick(keys), per_choice))
        stats.seconds = time.perf_counter() - start
        return results, stats

    def _entry(self, total: float, n: int, greedy: bool, choice: str) -> dict[str, Any]:
        if n == 0 or math.isinf(total):
            return {"logprob": None, "tokens": n, "score": None, "greedy": False}
        if self.norm == "tokens":
            norm = total / n
        elif self.norm == "chars":
            norm = total / max(1, len(continuation_text(choice)))
        else:
            norm = total
        return {"logprob": total, "tokens": n, "score": norm, "greedy": greedy}


# ---------------------------------------------------------------- openai-compatible chat


def chat_prompt(question: str, choices: list[str]) -> str:
    """The user message: the question, lettered options, and a request for the letter alone."""
    options = "\n".join(f"{LETTERS[i]}. {c.strip()}" for i, c in enumerate(choices))
    return ("Answer the following multiple-choice question with the letter of the correct option only.\n\n"
            f"Question: {question.strip()}\n{options}\nAnswer:")


_PATTERNS = [
    re.compile(r"^\W*\(?([A-Z])\)?(?:[\s.:),*]|$)"),  # "B", "(B)", "B.", "B) force", "**B**"
    re.compile(r"\b(?i:answer|option|choice)\s*(?:is|:)?\s*\(?\**([A-Z])\b"),  # "The answer is B"
    re.compile(r"\b([A-Z])\b"),  # a lone capital letter anywhere
]


def parse_letter(text: str | None, n_choices: int) -> int | None:
    """The option index a reply names ("B", "(b)", "The answer is C.", "**A** because ..."), or None."""
    if not text:
        return None
    valid = LETTERS[:n_choices]
    stripped = text.strip()
    core = re.sub(r"[^A-Za-z]", "", stripped)
    if len(core) == 1 and core.upper() in valid:  # "b", "(c)", "D."
        return valid.index(core.upper())
    for pattern in _PATTERNS:
        for match in pattern.finditer(stripped):
            letter = match.group(1)
            if letter in valid:
                return valid.index(letter)
    return None


PROMPT_NAME = "bench.multiple-choice"
PROMPT_VERSION = prompt_version(PROMPT_NAME, chat_prompt("{question}", ["{choice}"]))


class OpenAIScorer:
    """Asks an OpenAI-compatible chat endpoint, through :class:`~syllabus.llm.client.LLMClient` (so cached,
    bounded by ``max_concurrency``, retried), for the letter of each item's answer."""

    name = "openai"

    def __init__(self, client: LLMClient, *, max_tokens: int = 5) -> None:
        self.client = client
        self.url = client.url
        self.model = client.cfg.model
        self.max_tokens = max_tokens

    def params(self) -> dict[str, Any]:
        cfg = self.client.cfg
        return {"base_url": self.url, "concurrency": cfg.max_concurrency, "temperature": cfg.temperature,
                "seed": cfg.seed, "max_tokens": self.max_tokens, "prompt": "lettered options, reply with one letter",
                "prompt_version": PROMPT_VERSION}

    def request(self, item: MCItem) -> Request:
        return Request(f"item {item.id}", PROMPT_NAME, PROMPT_VERSION,
                       ({"role": "user", "content": chat_prompt(item.question, item.choices)},),
                       max_tokens=self.max_tokens)

    def score(self, items: list[MCItem], progress: Callable[[int], None] | None = None) -> tuple[list[Scored], Stats]:
        start = time.perf_counter()
        stats = Stats(items=len(items), sequences=len(items))
        answers = self.client.ask_all([self.request(item) for item in items], progress)
        results: list[Scored] = []
        unread = 0
        for item, answer in zip(items, answers):
            found = parse_letter(answer.content, len(item.choices))
            results.append(Scored(-1 if found is None else found, None))
            stats.tokens += answer.prompt_tokens + answer.completion_tokens
            unread += found is None
        stats.seconds = time.perf_counter() - start
        stats.extra["unparsed"] = unread
        stats.extra["llm"] = self.client.usage.to_dict()
        return results, stats
