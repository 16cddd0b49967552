"""import -> export -> import gives the same store contents, for every format and real files."""
from pathlib import Path

import pytest
from conftest_helpers import import_into_new_store
from rdflib import Graph
from snapshot import graph_contents

from syllabus.config import load_workspace
from syllabus.ontology.export import render
from syllabus.store import open_store

DATA = Path(__file__).parents[2] / "data"
REPO = Path(__file__).parents[3]


def _export(url_root: Path, discipline: str, fmt: str) -> str:
    ws = load_workspace(url_root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as session:
            return render(session, ws, discipline, fmt)
    finally:
        st.close()


def assert_round_trips(tmp_path: Path, source: Path, prefix: str, iri: str, name: str = "d") -> dict:
    url, _ = import_into_new_store(tmp_path / "first", source, prefix=prefix, iri=iri, name=name)
    original = graph_contents(url)
    assert original["concepts"]
    for fmt in ("ttl", "obo"):
        text = _export(tmp_path / "first", name, fmt)
        exported = tmp_path / f"exported.{fmt}"
        exported.write_text(text, encoding="utf-8")
        url2, _ = import_into_new_store(tmp_path / f"again-{fmt}", exported, prefix=prefix, iri=iri, name=name)
        assert graph_contents(url2) == original, f"round trip through {fmt} changed the store"
        assert _export(tmp_path / f"again-{fmt}", name, fmt) == text, f"{fmt} export is not stable"
    return original


@pytest.mark.parametrize("rdflib_format, suffix", [("turtle", "ttl"), ("xml", "rdf"), ("json-ld", "jsonld"), ("nt", "nt")])
def test_rdf_formats_round_trip(tmp_path, rdflib_format, suffix):
    source = tmp_path / f"mini.{suffix}"
    Graph().parse(DATA / "mini.ttl").serialize(source, format=rdflib_format)
    assert_round_trips(tmp_path, source, "mini", "https://example.org/mini/")


def test_obo_round_trips(tmp_path):
    assert_round_trips(tmp_path, DATA / "mini.obo", "MINI", "http://purl.obolibrary.org/obo/MINI_")


@pytest.mark.parametrize("name, prefix, iri", [
    ("physics.ttl", "phys", "https://w3id.org/syllabus/sample/physics/"),
    ("biology.obo", "BIO", "http://purl.obolibrary.org/obo/BIO_"),
])
def test_sample_ontologies_round_trip(tmp_path, name, prefix, iri):
    assert_round_trips(tmp_path, REPO / "ontologies" / name, prefix, iri)


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_cell_ontology_round_trips(tmp_path, shared_data):
    contents = assert_round_trips(tmp_path, shared_data / "ontologies" / "cl-2019-01-29.obo", "CL",
                                  "http://purl.obolibrary.org/obo/CL_")
    assert len(contents["concepts"]) >= 2319


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_brick_ontology_round_trips(tmp_path, shared_data):
    contents = assert_round_trips(tmp_path, shared_data / "ontologies" / "Brick.ttl", "brick",
                                  "https://brickschema.org/schema/Brick#")
    assert len(contents["concepts"]) >= 1472
