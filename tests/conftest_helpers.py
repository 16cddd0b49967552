"""Helpers used by several test modules (importable because tests/ is on sys.path)."""
from __future__ import annotations

from pathlib import Path

from syllabus.config import load_workspace
from syllabus.ontology.sync import import_file
from syllabus.store import open_store


def import_into_new_store(root: Path, *files: Path, prefix: str, iri: str, store_url: str | None = None,
                          name: str = "d", fmt: str | None = None):
    """A new workspace at *root* with one discipline; import *files* into it. Returns (url, reports)."""
    root.mkdir(parents=True, exist_ok=True)
    store = f'[store]\nurl = "{store_url}"\n\n' if store_url else ""
    (root / "syllabus.toml").write_text(
        f'{store}[[disciplines]]\nname = "{name}"\nprefix = "{prefix}"\niri = "{iri}"\n', encoding="utf-8")
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as session:
            reports = [import_file(session, ws, name, Path(f), fmt) for f in files]
    finally:
        st.close()
    return ws.store_url, reports
