"""One compile from start to publish: lock, recover, decide, stage, record, publish.

``prepare`` runs inside the compile's transaction before anything is decided, so a caller such as
``syllabus repair`` can change the graph and have its changes commit (or roll back) together with
the build that renders them.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session

from syllabus.compile import trace
from syllabus.compile.build import Compiled, compile_graph, latest_build, load_index
from syllabus.compile.output import (
    MANIFEST,
    Staged,
    StreamingRecord,
    compile_lock,
    failpoint,
    publish,
    record,
    recover,
    save_state,
    stage,
)
from syllabus.compile.selector import parse_selector
from syllabus.compile.workers import collector_paused
from syllabus.config import Workspace
from syllabus.store import open_store


@dataclass
class CompileOutcome:
    compiled: Compiled
    staged: Staged | None
    plan: bool
    notes: list[str] = field(default_factory=list)
    prepared: object = None

    def report(self, changes: bool = True) -> dict:
        c, s = self.compiled, self.staged
        return {"plan": self.plan, "up_to_date": c.up_to_date, "counts": c.counts,
                "build": s.build_id if s else None, "path": str(s.final) if s else None,
                "kept": s.manifest["counts"]["examples"] if s else None,
                "dropped": s.manifest["counts"]["dropped"] if s else None,
                "pending": sorted(c.pending_jobs), "changes": [ch.to_dict() for ch in c.changes] if changes else None,
                "notes": self.notes}


@contextmanager
def _waiting(sink: StreamingRecord):
    """*sink*, whose background SQL is over (or failed) before the transaction ends either way."""
    try:
        yield sink
    finally:
        sink.wait(raise_error=False)


def build_root(ws: Workspace, out: str | Path | None = None) -> Path:
    return Path(out).resolve() if out else ws.path(ws.config.compile.build_dir)


def run_compile(ws: Workspace, *, root: Path, selector: str | None = None, plan: bool = False, wait: float = 0.0,
                workers: int | None = None, prepare: Callable[[Session], object] | None = None,
                after: Callable[[Session, Staged | None], None] | None = None) -> CompileOutcome:
    """Compile the workspace's graph into the next build (or only plan it: nothing is written).

    *workers*: processes for a large compile (default ``[compile] workers``; 0: one per CPU core).
    """
    staged = None
    trace.start()
    with compile_lock(root, wait), collector_paused():
        st = open_store(ws.store_url)
        # rendered lines wait here until staged; a crash leaves it to recover(), like a staging folder
        spool_dir = root / f".tmp-spool-{os.getpid()}"
        try:
            with st.transaction() as session:
                notes = recover(session, root)
                parent = latest_build(session)  # builds change only under the compile lock, which is held
            parent_dir = root / parent["id"] if parent and (root / parent["id"] / MANIFEST).is_file() else None
            manifest = json.loads((parent_dir / MANIFEST).read_text(encoding="utf-8")) if parent_dir else None
            index = load_index(parent_dir) if parent_dir else None
            if index is None and not plan:  # a compile from nothing: it writes most of the store
                st.close()
                st = open_store(ws.store_url, check=False, bulk=True)
            trace.phase("parent build read")
            with st.transaction() as session, _waiting(StreamingRecord(session)) as sink:
                prepared = prepare(session) if prepare else None
                sel = parse_selector(selector, session, ws.discipline_names()) if selector else None
                compiled = compile_graph(session, ws, selector=sel, parent_manifest=manifest, parent_index=index,
                                         spool_dir=spool_dir, workers=workers,
                                         sink=None if plan else sink)
                if plan:
                    session.rollback()
                    return CompileOutcome(compiled, None, True, notes, prepared)
                if compiled.up_to_date:
                    sink.wait()
                    save_state(session, compiled)
                else:
                    staged = stage(compiled, root, parent_dir)
                    trace.phase("build files staged")
                    failpoint("staged")
                try:
                    if staged is not None:
                        sink.wait()
                        trace.phase("dependency rows and example indexes built")
                        record(session, compiled, staged)
                        trace.phase("store rows written")
                    if after:
                        after(session, staged)
                except BaseException:
                    # the store rolls back, so the staged folder goes too (after a crash, recover() does it)
                    if staged is not None:
                        shutil.rmtree(staged.staging, ignore_errors=True)
                    raise
            trace.phase("committed")
            if staged is not None:
                failpoint("committed")
                publish(staged, root)
                trace.phase("published")
        finally:
            shutil.rmtree(spool_dir, ignore_errors=True)
            st.close()
    return CompileOutcome(compiled, staged, False, notes, prepared)
