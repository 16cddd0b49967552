from pathlib import Path

from syllabus.ontology.curie import Curies
from syllabus.ontology.diff import diff, is_empty
from syllabus.ontology.reader import read_ontology

DATA = Path(__file__).parents[2] / "data"


def test_diff_lists_added_removed_changed(tmp_path):
    old = DATA / "mini.obo"
    text = old.read_text()
    text = text.replace('name: ATP\ndef: "Adenosine triphosphate, the energy currency of the cell." []',
                        'name: ATP\ndef: "The energy carrier." []\nsynonym: "adenylpyrophosphate" EXACT []')
    text = text.replace("relationship: part_of MINI:0000001\n", "")
    text += '\n[Term]\nid: MINI:0000006\nname: ribosome\ndef: "Makes proteins." []\nis_a: MINI:0000004\n'
    new = tmp_path / "new.obo"
    new.write_text(text)
    c = Curies()
    result = diff(read_ontology(old, c), read_ontology(new, c))
    assert result["concepts"]["added"] == [{"id": "MINI:0000006", "label": "ribosome"}]
    assert result["concepts"]["removed"] == []
    [changed] = result["concepts"]["changed"]
    assert changed["id"] == "MINI:0000003"
    assert changed["changes"]["definition"]["new"] == "The energy carrier."
    assert changed["changes"]["labels"] == {"added": [["exact", "adenylpyrophosphate"]], "removed": []}
    assert result["relations"]["added"] == [["MINI:0000006", "is_a", "MINI:0000004"]]
    assert result["relations"]["removed"] == [["MINI:0000004", "part_of", "MINI:0000001"]]


def test_same_graph_in_two_formats_has_no_diff(tmp_path):
    from rdflib import Graph
    nt = tmp_path / "mini.nt"
    Graph().parse(DATA / "mini.ttl").serialize(nt, format="nt")
    c = Curies({"mini": "https://example.org/mini/"})
    assert is_empty(diff(read_ontology(DATA / "mini.ttl", c), read_ontology(nt, c)))
