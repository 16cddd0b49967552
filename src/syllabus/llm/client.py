"""One client for every OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, hosted APIs, `transformers serve`).

A :class:`Request` names the unit it is about (a chunk, a relation, an item: errors name it), its
prompt template and version, the messages and, for structured answers, a pydantic model. The
client asks at ``temperature`` and ``seed`` from ``[llm]``, sends the model's JSON schema as
``response_format`` (servers that ignore it still answer; the reply is parsed and validated either
way), retries transport failures, 408/429/5xx and invalid answers with exponential backoff, and
caches every valid answer as it arrives (:mod:`syllabus.llm.cache`). At most ``max_concurrency``
requests are in flight at once, however many threads call :meth:`LLMClient.ask`.

Transport failures that survive the retries abort the command (E180 unreachable, E181 timeout,
E182 HTTP error); an answer that stays invalid is recorded as a failure and returned with its
E183 error, never half-used. ``budget_calls`` / ``budget_tokens`` cap what one command pays (E184).
The API key is read from the variable ``api_key_env`` names, sent as a bearer token and nothing
else: it is not in the cache key, the cache, errors or reports.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from syllabus.config import LLMConfig
from syllabus.errors import SyllabusError
from syllabus.llm.cache import Cached, ResponseCache, cache_key

RETRY_STATUS = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class Request:
    unit: str  # what is being processed, e.g. `chunk 12` or `item phy-01-0`
    template: str  # prompt template name
    version: str  # prompt template version (a hash of its text)
    messages: tuple[dict[str, str], ...]
    answer: type[BaseModel] | None = None  # None: free text
    max_tokens: int | None = None  # default [llm] max_tokens


@dataclass
class Answer:
    unit: str
    key: str
    content: str | None = None
    data: BaseModel | None = None
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: SyllabusError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Usage:
    """Counts of one command: requests, cache hits, paid calls (retries included) and their tokens."""

    requests: int = 0
    cached: int = 0
    paid_calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0

    @property
    def paid_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def endpoint_url(base_url: str) -> str:
    """``.../v1/chat/completions`` from a base URL given with or without ``/v1`` (or as the full path)."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def parse_json_answer(content: str, model: type[BaseModel]) -> BaseModel:
    """Validate a reply as *model*: the whole text, else inside a ``` fence, else its outermost braces."""
    text = content.strip()
    candidates = [text]
    if "```" in text:
        inner = text.split("```", 2)[1]
        candidates.append(inner.removeprefix("json").strip())
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{"):text.rindex("}") + 1])
    error: Exception | None = None
    for candidate in candidates:
        try:
            return model.model_validate_json(candidate)
        except ValidationError as exc:
            error = exc
    assert error is not None
    raise error


class _Failure(Exception):
    def __init__(self, kind: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.status = kind, detail, status


class LLMClient:
    """Asks one server for answers, through the cache, within the command's budget."""

    def __init__(self, cfg: LLMConfig, cache_path: str | Path, *, command: str, config_file: str = "syllabus.toml",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        for key in ("base_url", "model"):
            if not getattr(cfg, key):
                raise SyllabusError("E186", what=f"`{command}`", key=key, file=config_file)
        self.api_key = None
        if cfg.api_key_env:
            self.api_key = os.environ.get(cfg.api_key_env)
            if not self.api_key:
                raise SyllabusError("E185", env=cfg.api_key_env)
        import httpx

        self._httpx = httpx
        self.cfg = cfg
        self.command = command
        self.url = endpoint_url(cfg.base_url)
        self.usage = Usage()
        self.cache = ResponseCache(cache_path)
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(cfg.max_concurrency)
        self._lock = threading.Lock()
        self._seen: dict[str, Answer | None] = {}  # keys asked by this client: None when answered, else the failure
        self._structured = cfg.structured_output == "json_schema"
        self._http = httpx.Client(timeout=httpx.Timeout(cfg.timeout_s),
                                  limits=httpx.Limits(max_connections=cfg.max_concurrency,
                                                      max_keepalive_connections=cfg.max_concurrency))

    @classmethod
    def from_workspace(cls, ws, command: str, **overrides: Any) -> "LLMClient":
        """The client for *ws*'s ``[llm]`` table, with *overrides* (None values ignored) applied."""
        cfg = ws.config.llm
        changes = {k: v for k, v in overrides.items() if v is not None}
        if changes:
            cfg = LLMConfig.model_validate({**cfg.model_dump(), **changes})
        return cls(cfg, ws.path(cfg.cache), command=command, config_file=str(ws.config_path))

    # ------------------------------------------------------------------ keys and parameters

    def params(self, request: Request) -> dict[str, Any]:
        """The request parameters that decide an answer (part of the cache key)."""
        params: dict[str, Any] = {"temperature": self.cfg.temperature, "seed": self.cfg.seed,
                                  "max_tokens": request.max_tokens or self.cfg.max_tokens}
        if request.answer is not None:
            params["schema"] = request.answer.model_json_schema()
        return params

    def key(self, request: Request) -> str:
        return cache_key(self.cfg.model, request.template, request.version, list(request.messages),
                         self.params(request))

    def is_cached(self, request: Request) -> bool:
        return self.cache.get(self.key(request)) is not None

    # ------------------------------------------------------------------ asking

    def ask_all(self, requests: list[Request], progress: Callable[[int], None] | None = None) -> list[Answer]:
        """Answers in the order of *requests*; identical requests are asked once. Fatal errors propagate
        after the calls in flight have finished (and been cached)."""
        keys = [self.key(r) for r in requests]
        unique: dict[str, Request] = {}
        for k, r in zip(keys, requests):
            unique.setdefault(k, r)
        answers: dict[str, Answer] = {}
        stop = threading.Event()  # set by the first fatal error: requests not yet sent are not sent
        pool = ThreadPoolExecutor(max_workers=min(self.cfg.max_concurrency, max(1, len(unique))))
        try:
            futures = {pool.submit(self.ask, r, k, stop): k for k, r in unique.items()}
            for future in as_completed(futures):
                answers[futures[future]] = future.result()
                if progress:
                    progress(1)
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        out = []
        for k, r in zip(keys, requests):
            a = answers[k]
            out.append(a if a.unit == r.unit else Answer(**{**a.__dict__, "unit": r.unit}))
        return out

    def ask(self, request: Request, key: str | None = None, stop: threading.Event | None = None) -> Answer:
        """One answer: from the cache, else from the server (cached once valid).

        A question asked before by this client is answered again without counting it twice (and a
        failure is not paid for twice in one command)."""
        key = key or self.key(request)
        with self._lock:
            seen = key in self._seen
            failure = self._seen.get(key)
        if failure is not None:
            return failure
        if not seen:
            with self._lock:
                self.usage.requests += 1
        hit = self.cache.get(key)
        if hit is not None:
            answer = self._answer(request, key, hit, cached=True)
            if answer.ok:
                with self._lock:
                    if not seen:
                        self.usage.cached += 1
                        self.usage.cached_prompt_tokens += hit.prompt_tokens
                        self.usage.cached_completion_tokens += hit.completion_tokens
                    self._seen[key] = None
                return answer
        stop = stop or threading.Event()
        try:
            answer = self._fetch(request, key, stop)
        except SyllabusError:
            stop.set()
            raise
        with self._lock:
            self._seen[key] = None if answer.ok else answer
        return answer

    def _answer(self, request: Request, key: str, got: Cached, cached: bool) -> Answer:
        answer = Answer(request.unit, key, got.content, None, cached, got.prompt_tokens, got.completion_tokens)
        if request.answer is not None:
            try:
                answer.data = parse_json_answer(got.content, request.answer)
            except ValidationError as exc:
                answer.error = SyllabusError("E183", unit=request.unit, template=request.template, attempts=1,
                                             detail=_short(exc))
        return answer

    def _fetch(self, request: Request, key: str, stop: threading.Event) -> Answer:
        attempts = self.cfg.retries + 1
        last: _Failure | None = None
        for attempt in range(attempts):
            if stop.is_set():
                raise SyllabusError("E180", url=self.url, unit=request.unit, attempts=attempt,
                                    detail="stopped after another request failed")
            if attempt:
                self._sleep(self.cfg.backoff_s * 2 ** (attempt - 1))
            try:
                got = self._post(request)
            except _Failure as failure:
                last = failure
                if failure.kind == "fatal":
                    break
                continue
            answer = self._answer(request, key, got, cached=False)
            if answer.ok:
                self.cache.put(key, self.cfg.model, f"{request.template}@{request.version}", got)
                return answer
            last = _Failure("invalid", answer.error.fields["detail"])
        assert last is not None
        tried = attempt + 1
        if last.kind == "invalid":
            error = SyllabusError("E183", unit=request.unit, template=request.template, attempts=tried,
                                  detail=last.detail)
            self.cache.record_failure(key, request.unit, request.template, error.code, last.detail)
            with self._lock:
                self.usage.failed += 1
            return Answer(request.unit, key, error=error)
        if last.kind == "timeout":
            raise SyllabusError("E181", url=self.url, timeout=self.cfg.timeout_s, unit=request.unit, attempts=tried)
        if last.kind == "unreachable":
            raise SyllabusError("E180", url=self.url, unit=request.unit, attempts=tried, detail=last.detail)
        raise SyllabusError("E182", url=self.url, status=last.status, unit=request.unit, attempts=tried,
                            detail=last.detail)

    def _spend(self, unit: str) -> None:
        with self._lock:
            cfg, used = self.cfg, self.usage
            if cfg.budget_calls is not None and used.paid_calls >= cfg.budget_calls:
                raise SyllabusError("E184", limit=cfg.budget_calls, what="calls", unit=unit, key="budget_calls")
            if cfg.budget_tokens is not None and used.paid_tokens >= cfg.budget_tokens:
                raise SyllabusError("E184", limit=cfg.budget_tokens, what="tokens", unit=unit, key="budget_tokens")
            used.paid_calls += 1

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.cfg.model, "messages": list(request.messages),
                                "temperature": self.cfg.temperature, "seed": self.cfg.seed,
                                "max_tokens": request.max_tokens or self.cfg.max_tokens, "stream": False}
        if request.answer is not None and self._structured:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.template.replace(".", "_").replace("@", "_"),
                "schema": request.answer.model_json_schema()}}
        return body

    def _post(self, request: Request) -> Cached:
        httpx = self._httpx
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        self._spend(request.unit)
        with self._slots:
            try:
                response = self._http.post(self.url, json=self._body(request), headers=headers)
            except httpx.TimeoutException as exc:
                raise _Failure("timeout", f"{type(exc).__name__}") from exc
            except httpx.HTTPError as exc:  # refused, reset, closed mid-answer
                raise _Failure("unreachable", f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 400:
            text = response.text[:300]
            if status == 400 and self._structured and "response_format" in text:
                self._structured = False  # the server refuses structured output: ask with the prompt alone
                return self._post(request)
            kind = "http" if status >= 500 or status in RETRY_STATUS else "fatal"
            raise _Failure(kind, text or response.reason_phrase, status)
        try:
            data = response.json()
            content = data["choices"][0]["message"]["content"]
            if not isinstance(content, str):
                raise TypeError("message content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Failure("invalid", f"not an OpenAI chat completion: {response.text[:200]!r}") from exc
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        got = Cached(content, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        with self._lock:
            self.usage.prompt_tokens += got.prompt_tokens
            self.usage.completion_tokens += got.completion_tokens
        return got

    # ------------------------------------------------------------------ the end of a command

    def close(self) -> dict[str, int]:
        """Record this command's usage in the cache file, close everything, return the counts."""
        counts = self.usage.to_dict()
        try:
            if counts["requests"]:
                self.cache.record_usage(self.command, self.cfg.model, counts)
        finally:
            self._http.close()
            self.cache.close()
        return counts

    def __enter__(self) -> "LLMClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    where = ".".join(str(p) for p in first.get("loc", ())) or "(answer)"
    return f"{where}: {first.get('msg')}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")


@dataclass
class Estimate:
    """What a command would ask: requests, how many the cache answers, and a token estimate for the rest."""

    requests: int = 0
    cached: int = 0
    to_pay: int = 0
    prompt_tokens: int = 0  # estimated, ~4 characters a token
    completion_tokens: int = 0  # upper bound: max_tokens per call
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate(client: LLMClient, requests: list[Request]) -> Estimate:
    """The cost of *requests* before paying: nothing is sent."""
    est = Estimate()
    seen: set[str] = set()
    for r in requests:
        key = client.key(r)
        if key in seen:
            continue
        seen.add(key)
        est.requests += 1
        if client.cache.get(key) is not None:
            est.cached += 1
            continue
        est.to_pay += 1
        est.prompt_tokens += sum(len(m.get("content", "")) for m in r.messages) // 4 + 4 * len(r.messages)
        est.completion_tokens += r.max_tokens or client.cfg.max_tokens
    return est


def prompt_version(*parts: str) -> str:
    """A short, stable version for a prompt template: the hash of its texts."""
    import hashlib

    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:12]
