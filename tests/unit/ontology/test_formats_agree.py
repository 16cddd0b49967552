"""The same graph in Turtle, RDF/XML, JSON-LD and N-Triples imports to identical store contents."""
from pathlib import Path

from conftest_helpers import import_into_new_store
from rdflib import Graph
from snapshot import graph_contents

DATA = Path(__file__).parents[2] / "data"
FORMATS = {"mini.ttl": "turtle", "mini.rdf": "xml", "mini.owl": "xml", "mini.jsonld": "json-ld", "mini.nt": "nt"}


def test_every_rdf_format_gives_the_same_store(tmp_path):
    graph = Graph().parse(DATA / "mini.ttl")
    contents = {}
    for name, rdflib_format in FORMATS.items():
        source = tmp_path / "files" / name
        source.parent.mkdir(exist_ok=True)
        graph.serialize(source, format=rdflib_format)
        url, reports = import_into_new_store(tmp_path / name, source, prefix="mini", iri="https://example.org/mini/")
        assert (reports[0].concepts_added, reports[0].relations_added) == (8, 9)
        contents[name] = graph_contents(url)
    first = contents["mini.ttl"]
    assert first["concepts"] and first["labels"] and first["relations"]
    for name, c in contents.items():
        assert c == first, name
