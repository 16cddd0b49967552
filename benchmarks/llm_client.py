"""The LLM client against a real server: cold (paid) requests versus cache hits, and concurrency.

What it measures
----------------
``--requests`` distinct chat requests (``Say something {i}.``, ``--max-tokens`` completion tokens)
go through :class:`syllabus.llm.client.LLMClient` with a fresh cache, once at each concurrency of
``--concurrency`` (a new cache file each time), then again against the filled cache. It prints
requests per second and the token counts the server reported for each cold pass, and the time of
the warm pass (no request leaves the machine; the answers are the same bytes, which it checks).

With no ``--base-url`` it starts ``transformers serve`` on 127.0.0.1 with ``--model`` (a local
checkpoint folder; default: a tiny GPT-2 built on the fly), offline.

How to run
----------
    .venv/bin/python benchmarks/llm_client.py                                   # tiny model, CPU
    .venv/bin/python benchmarks/llm_client.py --model .syllabus/models/smollm2-135m-instruct
    .venv/bin/python benchmarks/llm_client.py --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from syllabus.config import LLMConfig
from syllabus.llm.client import LLMClient, Request


def _serve(model: str, folder: Path) -> tuple[subprocess.Popen, str]:
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = open(folder / "serve.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("transformers")), "serve", model, "--host",
                             "127.0.0.1", "--port", str(port), "--device", "cpu", "--log-level", "warning"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit((folder / "serve.log").read_text(errors="replace")[-2000:])
            time.sleep(0.3)
    raise SystemExit("transformers serve did not start")


def _tiny(folder: Path) -> str:
    from syllabus.bench.models import build_tiny_model

    path = build_tiny_model([f"Say something {i}." for i in range(100)], folder / "tiny")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}assistant:{% endif %}")
    tok.save_pretrained(str(path))
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--concurrency", default="1,4")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="syllabus-llm-bench-"))
    proc = None
    model = args.model
    url = args.base_url
    if url is None:
        model = model or _tiny(folder)
        proc, url = _serve(model, folder)
    requests = [Request(f"request {i}", "bench.echo", "v1", ({"role": "user", "content": f"Say something {i}."},))
                for i in range(args.requests)]
    out = {"base_url": url, "model": model, "requests": args.requests, "max_tokens": args.max_tokens, "runs": []}
    try:
        for k in [int(x) for x in args.concurrency.split(",")]:
            cfg = LLMConfig(base_url=url, model=model, max_concurrency=k, max_tokens=args.max_tokens)
            cache = folder / f"cache-{k}.db"
            with LLMClient(cfg, cache, command="benchmark") as cold:
                t = time.perf_counter()
                first = cold.ask_all(requests)
                cold_s = time.perf_counter() - t
                usage = cold.usage.to_dict()
            with LLMClient(cfg, cache, command="benchmark") as warm:
                t = time.perf_counter()
                second = warm.ask_all(requests)
                warm_s = time.perf_counter() - t
            same = [a.content for a in first] == [a.content for a in second] and all(a.cached for a in second)
            out["runs"].append({"concurrency": k, "cold_s": round(cold_s, 3), "cold_req_per_s": round(len(requests) / cold_s, 2),
                                "warm_s": round(warm_s, 4), "warm_req_per_s": round(len(requests) / warm_s, 1),
                                "same_bytes": same, "prompt_tokens": usage["prompt_tokens"],
                                "completion_tokens": usage["completion_tokens"]})
    finally:
        if proc is not None:
            proc.kill()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{args.requests} requests, max_tokens {args.max_tokens}, {url} ({model})")
    for r in out["runs"]:
        print(f"concurrency {r['concurrency']}: cold {r['cold_s']:.2f} s ({r['cold_req_per_s']:.1f} req/s, "
              f"{r['prompt_tokens']}+{r['completion_tokens']} tokens paid); warm from cache {r['warm_s'] * 1000:.1f} ms "
              f"({r['warm_req_per_s']:.0f} req/s); same bytes: {r['same_bytes']}")


if __name__ == "__main__":
    main()
