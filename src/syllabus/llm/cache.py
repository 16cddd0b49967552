"""The persistent, content-addressed response cache: one SQLite file, one row per paid answer.

The key is the sha256 of the canonical JSON of everything that decides an answer: the model, the
prompt template's name and version, the messages and the request parameters (temperature, seed,
max_tokens, the answer schema). The server address and the API key are not part of it: the same
question to the same model is the same answer wherever it is served. Each answer is committed as it
arrives, so a crash or Ctrl-C loses nothing that was paid for, and a re-run reads the same bytes.
Only valid answers are stored; failures go to their own table (for reports) and are asked again.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syllabus.errors import SyllabusError

SCHEMA = """
CREATE TABLE IF NOT EXISTS response (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    template TEXT NOT NULL,
    content TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failure (
    key TEXT NOT NULL,
    unit TEXT NOT NULL,
    template TEXT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
    command TEXT NOT NULL,
    model TEXT NOT NULL,
    counts TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def cache_key(model: str, template: str, version: str, messages: list[dict], params: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of what decides an answer (never a key or an address)."""
    payload = {"model": model, "template": template, "version": version, "messages": messages, "params": params}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Cached:
    content: str
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    """A thread-safe handle on the cache file; every write is its own committed transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise SyllabusError("E187", file=str(self.path), detail=str(exc)) from exc

    def get(self, key: str) -> Cached | None:
        with self._lock:
            row = self._db.execute("SELECT content, prompt_tokens, completion_tokens FROM response WHERE key = ?",
                                   (key,)).fetchone()
        return Cached(*row) if row else None

    def put(self, key: str, model: str, template: str, answer: Cached) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO response VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, model, template, answer.content, answer.prompt_tokens, answer.completion_tokens,
                              time.time()))

    def record_failure(self, key: str, unit: str, template: str, code: str, detail: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO failure VALUES (?, ?, ?, ?, ?, ?)",
                             (key, unit, template, code, detail[:2000], time.time()))

    def record_usage(self, command: str, model: str, counts: dict[str, int]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO usage VALUES (?, ?, ?, ?)",
                             (command, model, json.dumps(counts, sort_keys=True), time.time()))

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM response").fetchone()[0]

    def failures(self) -> list[dict[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT unit, template, code, detail FROM failure ORDER BY rowid").fetchall()
        return [dict(unit=u, template=t, code=c, detail=d) for u, t, c, d in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
