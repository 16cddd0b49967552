"""Read side of builds: one example's provenance, the list of builds, and the diff of two builds."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.compile import layout
from syllabus.compile.build import XB, XE, XU, load_index
from syllabus.compile.index_file import index_file
from syllabus.compile.output import MANIFEST, build_folder
from syllabus.errors import SyllabusError
from syllabus.store.queries import source_line
from syllabus.store.tables import Chunk, Document, Evidence

E, K, D = Evidence.__table__, Chunk.__table__, Document.__table__


def read_example(folder: Path, example_id: str) -> tuple[dict, str | None] | None:
    """(the example's JSON, its drop reason or None) from a build folder, or None when absent."""
    index = load_index(folder)
    if index is None:
        return None
    ids = index["ids"]
    i = int(np.searchsorted(ids, example_id.encode()))
    if i >= len(ids) or ids[i].decode() != example_id:
        return None
    dropped = bool(index["dropped"][i])
    with open(layout.example_file(folder, example_id, dropped), "rb") as fh:
        line = os.pread(fh.fileno(), int(index["len"][i]), int(index["off"][i]))
    return json.loads(line), (index["reason"].get(ids[i]) if dropped else None)


def explain(session: Session, root: Path, workspace_root: Path, example_id: str, build: str | None = None) -> dict:
    """Renderer, template, units with their fingerprints (and whether they changed since), evidence with lines."""
    folders = [build_folder(root, build)] if build else _folders_newest_first(session, root)
    for folder in folders:
        found = read_example(folder, example_id)
        if found:
            break
    else:
        raise SyllabusError("E071", id=example_id)
    example, dropped = found
    prov = example["provenance"]
    deps = prov["dependencies"]
    current = dict(session.execute(select(XU.c.key, XU.c.fp).where(XU.c.key.in_(list(deps)))).all())
    units = [{"unit": k, "fingerprint": fp, "current": current.get(k, "absent"),
              "stale": current.get(k, "absent") != fp} for k, fp in sorted(deps.items())]
    evidence = []
    ev_ids = [e["id"] for e in prov["evidence"]]
    rows = {r.id: r for r in session.execute(
        select(E.c.id, E.c.sentence, E.c.char_start, E.c.char_end, K.c.id.label("chunk"), D.c.path)
        .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id).where(E.c.id.in_(ev_ids)))}
    for e in prov["evidence"]:
        row = rows.get(e["id"])
        evidence.append({"id": e["id"], "document": e["document"], "chunk": e["chunk"], "span": e["span"],
                         "sentence": row.sentence if row else None,
                         "line": source_line(workspace_root, e["document"], row.sentence) if row else None,
                         "in_store": row is not None})
    in_store = session.execute(select(XE.c.build, XE.c.stale).where(XE.c.id == example_id)).first()
    return {"id": example_id, "build": folder.name, "discipline": example["discipline"], "task": example["task"],
            "renderer": prov["renderer"], "template": prov["template"], "template_sha256": prov["template_sha256"],
            "seed": prov["seed"], "units": units, "evidence": evidence, "messages": example["messages"],
            "dropped": dropped, "rendered_in": in_store.build if in_store else None,
            "stale": bool(in_store.stale) if in_store else None}


def list_builds(session: Session, root: Path) -> list[dict]:
    rows = session.execute(select(XB).order_by(XB.c.seq)).mappings().all()
    out = []
    for r in rows:
        manifest = _manifest(root / r["id"])
        out.append({"id": r["id"], "parent": r["parent"], "created": r["created"], "selector": r["selector"],
                    "changes": json.loads(r["counts"]), "examples": manifest["counts"]["examples"] if manifest else None,
                    "present": manifest is not None})
    return out


def diff_builds(root: Path, a: str, b: str) -> dict:
    """Examples added, removed and changed from build A to build B, per discipline and task type."""
    fa, fb = build_folder(root, a), build_folder(root, b)
    ia, ib = load_index(fa), load_index(fb)
    ka, kb = ~ia["dropped"], ~ib["dropped"]
    ids_a, ids_b = ia["ids"][ka], ib["ids"][kb]
    only_a = np.setdiff1d(ids_a, ids_b)
    only_b = np.setdiff1d(ids_b, ids_a)
    slots_a = _slots(fa, ia, only_a)
    slots_b = _slots(fb, ib, only_b)
    changed = {s for s in slots_a if s in slots_b}
    summary: dict[str, Counter] = {"added": Counter(), "removed": Counter(), "changed": Counter()}
    details = []
    for slot, (eid, discipline, task) in sorted(slots_b.items()):
        kind = "changed" if slot in changed else "added"
        summary[kind][f"{discipline}/{task}"] += 1
        details.append({"status": kind, "unit": slot[0], "task": task, "id": eid,
                        "old_id": slots_a[slot][0] if slot in changed else None})
    for slot, (eid, discipline, task) in sorted(slots_a.items()):
        if slot not in changed:
            summary["removed"][f"{discipline}/{task}"] += 1
            details.append({"status": "removed", "unit": slot[0], "task": task, "id": None, "old_id": eid})
    return {"a": fa.name, "b": fb.name, "unchanged": int(len(np.intersect1d(ids_a, ids_b))),
            "added": sum(summary["added"].values()), "removed": sum(summary["removed"].values()),
            "changed": sum(summary["changed"].values()),
            "by_discipline_task": {k: dict(sorted(v.items())) for k, v in summary.items()}, "examples": details}


def _slots(folder: Path, index: dict, ids: np.ndarray) -> dict[tuple[str, str], tuple[str, str, str]]:
    pos = np.searchsorted(index["ids"], ids)
    out = {}
    for eid, p in zip(ids.tolist(), pos.tolist()):
        with open(layout.example_file(folder, eid.decode()), "rb") as fh:
            ex = json.loads(os.pread(fh.fileno(), int(index["len"][p]), int(index["off"][p])))
        out[(ex["units"][0], ex["task"])] = (ex["id"], ex["discipline"], ex["task"])
    return out


def _manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _folders_newest_first(session: Session, root: Path) -> list[Path]:
    ids = session.scalars(select(XB.c.id).order_by(XB.c.seq.desc())).all()
    return [root / i for i in ids if index_file(root / i) is not None]
