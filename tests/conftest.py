"""Fixtures shared by the suite: store backends (SQLite and a real PostgreSQL), workspaces, CLI."""
from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from pg import PostgresServer, find_bin_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_server():
    if find_bin_dir() is None:
        pytest.skip("PostgreSQL tests need a server binary (initdb/pg_ctl); none is installed here. "
                    "`scripts/setup.sh --test` installs one.")
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty database on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


def make_workspace(root: Path, store_url: str | None = None, disciplines: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    store = f'[store]\nurl = "{store_url}"\n\n' if store_url else ""
    (root / "syllabus.toml").write_text(store + disciplines, encoding="utf-8")
    return root


MINI_DISCIPLINE = """
[[disciplines]]
name = "mini"
prefix = "mini"
iri = "https://example.org/mini/"
ontologies = ["ontologies/mini.ttl"]
"""


@pytest.fixture
def workspace(tmp_path, store_url):
    """A workspace with the `mini` discipline (tests/data/mini.ttl) on each store backend."""
    root = make_workspace(tmp_path / "ws", store_url, MINI_DISCIPLINE)
    (root / "ontologies").mkdir()
    shutil.copy(DATA / "mini.ttl", root / "ontologies" / "mini.ttl")
    return root


@pytest.fixture
def cli():
    """Run the real CLI in-process: cli(workspace, *args) -> click Result."""
    from syllabus.cli.main import app

    runner = CliRunner()

    def invoke(ws: Path | None, *args: str):
        argv = (["--workspace", str(ws)] if ws else []) + [str(a) for a in args]
        return runner.invoke(app, argv, catch_exceptions=False)

    return invoke


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not present at {SHARED_DATA} (../shared/data is outside the repository)")
    return SHARED_DATA


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A workspace folder that *build(root)* fills, built once per test run and then only read.

    Under pytest-xdist every worker has its own session: the first worker to get here builds the
    folder in the run's shared temporary folder under a file lock, the others wait and reuse it
    (they copy it before changing anything, as every user of these fixtures does)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        root = tmp_path_factory.mktemp(name) / "ws"
        root.mkdir()
        build(root)
        return root
    shared = tmp_path_factory.getbasetemp().parent / f"shared-{name}"  # the run's folder, above each worker's
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "complete").is_file():
            shutil.rmtree(shared, ignore_errors=True)  # what a worker that failed half-way left
            (shared / "ws").mkdir(parents=True)
            build(shared / "ws")
            (shared / "complete").touch()
    return shared / "ws"


@pytest.fixture(scope="session")
def sample_graph(tmp_path_factory):
    """The sample workspace after import, ingest, extract and chains (built once; copy it to change it)."""
    return built_once(tmp_path_factory, "sample-graph", _build_sample_graph)


def _build_sample_graph(root: Path) -> None:
    from syllabus.config import load_workspace
    from syllabus.corpus.ingest import ingest
    from syllabus.extract.chains import sync_chains
    from syllabus.extract.run import extract
    from syllabus.ontology.sync import declared_files, import_file
    from syllabus.store import open_store

    for sub in ("ontologies", "corpora"):
        shutil.copytree(REPO / sub, root / sub)
    shutil.copy(REPO / "syllabus.toml", root / "syllabus.toml")
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            for name in ws.discipline_names():
                for f in declared_files(ws, name):
                    import_file(s, ws, name, f)
                ingest(s, ws, name, None, False)
            extract(s, ws, ws.discipline_names(), 1)
            for name in ws.discipline_names():
                sync_chains(s, name, ws.config.chains)
    finally:
        st.close()


@pytest.fixture
def sample_ws(sample_graph, tmp_path):
    """A private copy of the extracted sample workspace."""
    root = tmp_path / "sample"
    shutil.copytree(sample_graph, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def compiled(sample_graph, tmp_path_factory):
    """The sample workspace compiled, with benchmark items and the tiny model built (shared; copy to change)."""
    return built_once(tmp_path_factory, "compiled", lambda root: _build_compiled(sample_graph, root))


def _build_compiled(sample_graph: Path, root: Path) -> None:
    from syllabus.bench import models
    from syllabus.bench.items import Settings, build_items
    from syllabus.compile.pipeline import build_root, run_compile
    from syllabus.config import load_workspace
    from syllabus.store import open_store

    shutil.copytree(sample_graph, root, symlinks=True, dirs_exist_ok=True)
    ws = load_workspace(root)
    run_compile(ws, root=build_root(ws))
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            build_items(s, ws, ws.discipline_names(), Settings.from_workspace(ws))
            texts = models.workspace_texts(s)
    finally:
        st.close()
    models.resolve(models.TINY, root, texts)
    return root


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """A real `transformers serve` on 127.0.0.1 with a tiny chat model trained on llm_server.trained_pairs()."""
    from llm_server import ServeProcess, build_chat_model, serve_available, trained_pairs

    why = serve_available()
    if why:
        pytest.skip(f"LLM-tier server tests need `transformers serve`: {why}")
    base = tmp_path_factory.mktemp("llm")
    model = build_chat_model(base / "chat-model", ["a tiny chat model"], trained_pairs(), steps=450)
    server = ServeProcess(model, base / "serve.log")
    yield server
    server.stop()


@pytest.fixture
def llm_proxy(llm_server):
    """A fresh counting / fault-injecting proxy in front of the shared server."""
    from llm_server import Proxy

    proxy = Proxy(llm_server.url)
    yield proxy
    proxy.close()
