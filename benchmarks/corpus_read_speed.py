"""Speed of reading and chunking a corpus folder (the store-free half of ingest).

What it measures
----------------
Every file under the folder (default: ``../shared/data/corpora/python-docs``, the Python
documentation's RST sources, 497 files) whose suffix has a reader is read with
:func:`syllabus.corpus.readers.read_file` and chunked with
:func:`syllabus.corpus.chunking.chunk_document`, in one process, in sorted path order. Files a
reader rejects with a coded error (for example E042, a page that is only a ``toctree``) are
counted by code, as ingest would skip them with a warning. One warm-up pass (not counted) loads
the modules and fills the OS file cache; then ``--runs`` passes are timed and the fastest is
reported, with the median.

It prints files, words and seconds, and two rates: source words per second (whitespace-split
words of the raw files, markup included) and text words per second (words of the extracted
text, which is what the extraction stage then processes; plain spaCy runs about 4.5 k words/s
on this machine, and the target for reading is at least 300 k words/s). It makes no
assertions: it exits 0 whatever the figures, and 0 with a message when the data folder is
absent.

How to run
----------
    .venv/bin/python benchmarks/corpus_read_speed.py
    .venv/bin/python benchmarks/corpus_read_speed.py --root ../shared/data/corpora/sympy-physics --runs 5
    .venv/bin/python benchmarks/corpus_read_speed.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "corpora" / "python-docs"
TARGET_WORDS_PER_S = 300_000


def one_pass(files: list[Path], max_words: int) -> dict:
    from syllabus.corpus.chunking import chunk_document
    from syllabus.corpus.readers import read_file
    from syllabus.errors import SyllabusError

    t0 = time.perf_counter()
    words = chunks = 0
    skipped: Counter[str] = Counter()
    for path in files:
        try:
            result = read_file(path)
        except SyllabusError as exc:
            skipped[exc.code] += 1
            continue
        words += len(result.text.split())
        chunks += len(chunk_document(result, max_words=max_words))
    return {"seconds": time.perf_counter() - t0, "text_words": words, "chunks": chunks, "skipped": dict(skipped)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Read + chunk speed over a corpus folder (see the module docstring).")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"corpus folder (default {DEFAULT_ROOT})")
    parser.add_argument("--runs", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--max-words", type=int, default=200, help="chunk size in words (default 200)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    if not args.root.is_dir():
        print(f"corpus_read_speed: skipped, no corpus folder at {args.root} "
              "(the shared data set is not present on this machine)")
        return 0

    sys.path.insert(0, str(REPO / "src"))
    from syllabus.corpus.readers import reader_for

    files = sorted(p for p in args.root.rglob("*") if p.is_file() and reader_for(p) is not None)
    source_words = sum(len(p.read_bytes().split()) for p in files)
    one_pass(files, args.max_words)  # warm-up
    passes = [one_pass(files, args.max_words) for _ in range(args.runs)]
    best = min(passes, key=lambda p: p["seconds"])
    seconds = best["seconds"]
    results = {
        "root": str(args.root),
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "files": len(files),
        "files_read": len(files) - sum(best["skipped"].values()),
        "skipped_by_code": best["skipped"],
        "source_words": source_words,
        "text_words": best["text_words"],
        "chunks": best["chunks"],
        "max_words": args.max_words,
        "runs": args.runs,
        "best_s": seconds,
        "median_s": statistics.median(p["seconds"] for p in passes),
        "source_words_per_s": source_words / seconds,
        "text_words_per_s": best["text_words"] / seconds,
        "target_words_per_s": TARGET_WORDS_PER_S,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"corpus_read_speed: {args.root}  (1 warm-up + {args.runs} timed passes, best shown)")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print()
    skipped = ", ".join(f"{code} x{n}" for code, n in sorted(best["skipped"].items())) or "none"
    print(f"files        {len(files)} ({results['files_read']} read; skipped: {skipped})")
    print(f"words        {source_words} in the source files, {best['text_words']} of extracted text")
    print(f"chunks       {best['chunks']} (max {args.max_words} words)")
    print(f"seconds      {seconds:.2f} best, {results['median_s']:.2f} median")
    print(f"words/s      {results['source_words_per_s']:,.0f} source, {results['text_words_per_s']:,.0f} text "
          f"(target >= {TARGET_WORDS_PER_S:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
