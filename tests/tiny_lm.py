"""Test helpers for scoring: a small benchmark workspace and an OpenAI-shaped server backed by a real tiny LM."""
from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.tables import Item, ItemUnit

DISCIPLINES = """
[[disciplines]]
name = "physics"
prefix = "phys"
iri = "https://example.org/physics/"

[[disciplines]]
name = "biology"
prefix = "bio"
iri = "https://example.org/biology/"
"""

FACTS = {
    "physics": [
        ("Which quantity is measured in newtons?", ["force", "mass", "time", "charge"]),
        ("What resists the motion of a sliding block?", ["friction", "momentum", "light", "heat capacity"]),
        ("Which quantity is mass times velocity?", ["momentum", "power", "pressure", "density"]),
        ("What pulls objects toward the Earth?", ["gravity", "magnetism", "buoyancy", "sound"]),
        ("Which law says force equals mass times acceleration?", ["Newton's second law", "Hooke's law",
                                                                 "Ohm's law", "Boyle's law"]),
        ("What is the rate of change of velocity?", ["acceleration", "displacement", "inertia", "work"]),
        ("Which energy does a moving car have?", ["kinetic energy", "chemical energy", "nuclear energy",
                                                  "elastic energy"]),
        ("What is work done per unit time?", ["power", "torque", "impulse", "frequency"]),
    ],
    "biology": [
        ("Which organelle makes ATP?", ["mitochondrion", "ribosome", "lysosome", "vacuole"]),
        ("What holds the genetic material of a cell?", ["nucleus", "cell wall", "cytoplasm", "membrane pore"]),
        ("Which structure synthesises proteins?", ["ribosome", "centriole", "chloroplast", "vesicle"]),
        ("What surrounds every cell?", ["plasma membrane", "cell wall", "capsule", "nuclear envelope"]),
        ("Which organelle performs photosynthesis?", ["chloroplast", "peroxisome", "Golgi apparatus",
                                                      "nucleolus"]),
        ("What is the basic unit of life?", ["cell", "atom", "organ", "tissue"]),
        ("Which molecule carries the genetic code?", ["DNA", "glucose", "cholesterol", "ATP"]),
        ("Which organelle digests waste?", ["lysosome", "ribosome", "nucleus", "centrosome"]),
    ],
}


def item_rows() -> list[dict]:
    """32 items: each fact twice (answer rotated), levels L1/L2/L3 in turn, dev/test alternating, one leaked."""
    rows = []
    for disc, facts in FACTS.items():
        for k, (question, choices) in enumerate(facts):
            for rep in range(2):
                shift = (k + rep) % 4
                rotated = choices[-shift:] + choices[:-shift] if shift else list(choices)
                n = len(rows)
                rows.append(dict(
                    id=f"{disc[:3]}-{k:02d}-{rep}", discipline=disc, level=("L1", "L2", "L3")[n % 3],
                    kind="test_item", source="generated", benchmark=None, external_id=f"ext-{disc}-{k}-{rep}",
                    question=question, choices=json.dumps(rotated), answer=rotated.index(choices[0]),
                    trace=json.dumps({"concepts": [f"{disc}:c{k}"], "relations": [], "chain": None}),
                    split="dev" if rep == 0 else "test", leak=None))
    rows[4]["leak"] = "overlaps build example ex-1"  # a dev item: never scored
    for r in rows[-4:]:  # imported items: external ids name them in lm-eval files
        r["source"], r["level"] = "imported", "EXT"
        r["benchmark"] = "bench.jsonl"
    return rows


def make_bench_workspace(root: Path, store_url: str | None = None) -> Path:
    """A workspace with two disciplines and :func:`item_rows` in its store."""
    root.mkdir(parents=True, exist_ok=True)
    store = f'[store]\nurl = "{store_url}"\n\n' if store_url else ""
    (root / "syllabus.toml").write_text(store + DISCIPLINES, encoding="utf-8")
    insert_items(root, item_rows())
    return root


def insert_items(root: Path, rows: list[dict]) -> None:
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            for r in rows:
                s.add(Item(**r))
                s.flush()
                for c in json.loads(r["trace"])["concepts"]:
                    s.add(ItemUnit(item_id=r["id"], unit=f"concept:{c}"))
    finally:
        st.close()


PROMPT = re.compile(r"Question: (?P<q>.*?)\n(?P<opts>(?:[A-Z]\. .*\n)+)Answer:", re.DOTALL)


class _Handler(BaseHTTPRequestHandler):
    server_version = "tiny-openai/0"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        srv = self.server
        srv.requests.append(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if srv.mode == "error":
            return self._send(500, {"error": {"message": "model crashed"}})
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        content = body["messages"][-1]["content"]
        match = PROMPT.search(content)
        if match is None:
            return self._send(400, {"error": {"message": "unexpected prompt"}})
        choices = [line[3:] for line in match.group("opts").splitlines()]
        from syllabus.bench.scoring import LETTERS, MCItem

        with srv.lock:
            [scored], _stats = srv.scorer.score([MCItem("q", match.group("q"), choices, 0)])
        letter = LETTERS[scored.prediction]
        reply = {"garbage": "I cannot tell.", "verbose": f"The answer is {letter}."}.get(srv.mode, letter)
        srv.replies.append(reply)
        self._send(200, {"id": "cmpl-1", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": reply}}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}})

    def _send(self, status: int, data: dict) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextmanager
def openai_server(scorer, mode: str = "letter"):
    """An OpenAI-compatible chat server on 127.0.0.1 answering with *scorer*'s log-likelihood choice.

    mode: "letter" (reply "B"), "verbose" ("The answer is B."), "garbage" (no letter), "error" (HTTP 500).
    Yields the base URL (``http://127.0.0.1:PORT/v1``); the server has ``requests`` and ``replies`` lists.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.scorer, server.mode, server.lock = scorer, mode, threading.Lock()
    server.requests, server.replies = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
