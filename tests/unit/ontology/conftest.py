import pytest

from syllabus.config import load_workspace
from syllabus.ontology.sync import import_file
from syllabus.store import open_store


@pytest.fixture
def sync(workspace):
    """sync(path=ontologies/mini.ttl, discipline="mini", **kw) -> SyncReport, in one transaction."""
    def run(path="ontologies/mini.ttl", discipline="mini", **kw):
        ws = load_workspace(workspace)
        st = open_store(ws.store_url)
        try:
            with st.transaction() as session:
                return import_file(session, ws, discipline, ws.path(path), **kw)
        finally:
            st.close()
    return run
