"""Test helpers for the LLM tier: a real `transformers serve` on 127.0.0.1 and a fault-injecting proxy.

The model is a tiny GPT-2 (2 layers, n_embd 64) whose tokenizer is trained on the fly, saved with
a chat template, and optionally fine-tuned for a few hundred steps to say given answers to given
conversations (greedy decoding then reproduces them), so that tests see real, valid JSON answers
produced by a real model through a real server. Nothing is downloaded: the hub is off.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
SERVE = Path(sys.executable).with_name("transformers")


def serve_available() -> str | None:
    """None when `transformers serve` can run here, else why not."""
    if not SERVE.exists():
        return f"{SERVE} is missing (install the `serving` extra)"
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"transformers[serving] is not installed ({exc})"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_chat_model(target: Path, texts: list[str], answers: list[tuple[list[dict], str]] = (), *,
                     steps: int = 300, seed: int = 0) -> Path:
    """A tiny chat model at *target*; fine-tuned so that each conversation in *answers* gets its answer."""
    from syllabus.bench.models import offline, tiny_config, train_tokenizer

    offline()
    import torch
    from transformers import GPT2LMHeadModel

    corpus = sorted(set(texts) | {m["content"] for conv, _ in answers for m in conv} | {a for _, a in answers})
    tokenizer = train_tokenizer(corpus + [CHAT_TEMPLATE], vocab_size=4096)
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(tiny_config(len(tokenizer), n_layer=2, n_embd=64, n_positions=2048))
    if answers:
        rows = []
        for conversation, answer in answers:
            prompt = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            ids = tokenizer(prompt + answer)["input_ids"] + [tokenizer.eos_token_id]
            labels = [-100] * len(tokenizer(prompt)["input_ids"])
            labels += ids[len(labels):]
            rows.append((torch.tensor([ids]), torch.tensor([labels])))
        optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        for step in range(steps):
            ids, labels = rows[step % len(rows)]
            loss = model(input_ids=ids, labels=labels).loss
            loss.backward()
            optimiser.step()
            optimiser.zero_grad()
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    return target


GREETING = ([{"role": "user", "content": "Greet the reader as JSON."}], '{"greeting": "hello", "count": 3}')


# A small corpus for the LLM extractor: the file text, the chunk text ingest makes of it, and the
# answer the test model is trained to give (None: never taught, so its reply is not valid JSON).
EXTRACT_CORPUS = {
    "a.txt": ("Momentum is the product of mass and velocity.\nMomentum is a kind of vector quantity.\n",
              "Momentum is the product of mass and velocity. Momentum is a kind of vector quantity.",
              {"concepts": [{"label": "Momentum", "quote": "Momentum is a kind of vector quantity.",
                             "definition": "Momentum is the product of mass and velocity."},
                            {"label": "vector quantity", "quote": "Momentum is a kind of vector quantity."}],
               "relations": [{"subject": "momentum", "predicate": "is_a", "object": "vector quantity",
                              "quote": "Momentum is a kind of  vector quantity."},
                             {"subject": "momentum", "predicate": "causes", "object": "vector quantity",
                              "quote": "Momentum always causes vector quantities."}]}),
    "b.txt": ("Kinetic energy is the energy of motion. Kinetic energy requires   mass.\n",
              "Kinetic energy is the energy of motion. Kinetic energy requires mass.",
              {"concepts": [{"label": "kinetic energy", "quote": "Kinetic energy is the energy of motion.",
                             "definition": "Kinetic energy is the energy of motion."},
                            {"label": "mass", "quote": "Kinetic energy requires mass."},
                            {"label": "Isaac Newton", "quote": "Newton wrote about energy."}],
               "relations": [{"subject": "kinetic energy", "predicate": "requires", "object": "mass",
                              "quote": "Kinetic energy requires\n  mass."}]}),
    "c.txt": ("Torque is a turning force.\n", "Torque is a turning force.", None),
}


def trained_pairs() -> list[tuple[list[dict], str]]:
    """The conversations the shared test model is trained to answer, and its answers."""
    from syllabus.extract.llm_extractor import messages
    from syllabus.extract.llm_judge import messages as judge_messages

    pairs = [GREETING]
    for _raw, chunk, answer in EXTRACT_CORPUS.values():
        if answer is not None:
            pairs.append((list(messages(chunk)), json.dumps(answer)))
    for (subject, predicate, obj, passage), answer in JUDGED.items():
        pairs.append((list(judge_messages(subject, predicate, obj, [passage])), json.dumps(answer)))
    return pairs


# what the judge is taught to say about the two relations the extractor finds in EXTRACT_CORPUS
JUDGED = {
    ("Momentum", "is_a", "vector quantity", "Momentum is a kind of vector quantity."):
        {"score": 0.9, "reason": "stated"},
    ("kinetic energy", "requires", "mass", "Kinetic energy requires mass."): {"score": 0.25, "reason": "vague"},
}


class ServeProcess:
    """`transformers serve FOLDER` on 127.0.0.1, offline; stop() kills it."""

    def __init__(self, model_dir: Path, log: Path, port: int | None = None) -> None:
        self.model = str(model_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "OMP_NUM_THREADS": "1"}
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([str(SERVE), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                                      "--device", "cpu", "--log-level", "warning", "--default-seed", "0"],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.log = log
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("transformers serve did not become healthy in 180 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._log.close()


class Proxy:
    """A counting, fault-injecting HTTP proxy on 127.0.0.1 in front of an upstream server.

    ``faults`` is a list consumed one per request: ``"500"`` (answer HTTP 500), ``"garbage"`` (HTTP
    200 with a body that is not JSON), ``"badjson"`` (a chat completion whose content is not JSON),
    ``"hang"`` (hold the request ``hang_s`` seconds, then forward it), ``"drop"`` (close the
    connection without an answer), ``"no_schema"`` (HTTP 400 if the request has a response_format,
    else forward), or ``"pass"``. When the list is empty every request passes.
    ``hold_s`` delays every forwarded request (so that concurrent requests overlap).
    """

    def __init__(self, upstream: str) -> None:
        host_port = upstream.split("//", 1)[1].split("/", 1)[0]
        self.upstream_host, port = host_port.split(":")
        self.upstream_port = int(port)
        self.faults: list[str] = []
        self.hold_s = 0.0
        self.hang_s = 5.0
        self.requests = 0
        self.headers: list[dict] = []
        self.bodies: list[dict] = []
        self.forwarded = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self.lock:
            self.faults, self.hold_s, self.requests, self.forwarded, self.max_in_flight = [], 0.0, 0, 0, 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy.lock:
                    proxy.requests += 1
                    proxy.headers.append(dict(self.headers))
                    proxy.bodies.append(json.loads(body or b"{}"))
                    fault = proxy.faults.pop(0) if proxy.faults else "pass"
                    proxy.in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy.in_flight)
                try:
                    self._serve(fault, body)
                finally:
                    with proxy.lock:
                        proxy.in_flight -= 1

            def _serve(self, fault: str, body: bytes) -> None:
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "injected failure"}}')
                if fault == "garbage":
                    return self._send(200, b"<html>not json</html>")
                if fault == "no_schema":  # a server that refuses structured output
                    if b"response_format" in body:
                        return self._send(400, b'{"error": {"message": "response_format is not supported"}}')
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if fault == "hang":
                    time.sleep(proxy.hang_s)
                if proxy.hold_s:
                    time.sleep(proxy.hold_s)
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                upstream = conn.getresponse()
                data = upstream.read()
                conn.close()
                with proxy.lock:
                    proxy.forwarded += 1
                if fault == "badjson" and upstream.status == 200:
                    reply = json.loads(data)
                    reply["choices"][0]["message"]["content"] = '{"concepts": [ {"label": '
                    data = json.dumps(reply).encode()
                self._send(upstream.status, data)

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

        return Handler
