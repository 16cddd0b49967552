"""RDF vocabulary -> store model mapping, on tests/data/mini.ttl."""
from pathlib import Path

import pytest

from syllabus.ontology.curie import Curies
from syllabus.ontology.reader import read_ontology

DATA = Path(__file__).parents[2] / "data"
CURIES = Curies({"mini": "https://example.org/mini/"})


@pytest.fixture(scope="module")
def mini():
    return read_ontology(DATA / "mini.ttl", CURIES)


def test_owl_rdfs_and_skos_classes_are_concepts(mini):
    assert [c.id for c in mini.concepts] == sorted(
        f"mini:{n}" for n in ("Quantity", "Force", "Acceleration", "Friction", "Surface", "Object", "RigidBody", "Aether"))


def test_labels_keep_their_kind_and_skip_other_languages(mini):
    c = mini.concept_map()
    assert c["mini:Force"].pref_label == "force"
    assert c["mini:Force"].labels == {("pref", "force"), ("alt", "push or pull"), ("exact", "F")}
    assert c["mini:Acceleration"].labels == {("pref", "acceleration"), ("narrow", "deceleration"),
                                             ("broad", "change of motion"), ("related", "speeding up")}


def test_definition_sources_in_priority_order(mini):
    c = mini.concept_map()
    assert c["mini:Acceleration"].definition == "The rate of change of velocity with time."  # IAO over comment
    assert c["mini:Friction"].definition == "A force that opposes sliding between surfaces."  # comment fallback
    assert c["mini:Quantity"].type == "quantity"


def test_relations_from_subclass_restrictions_skos_and_narrower(mini):
    assert mini.relation_keys() == {
        ("mini:Force", "is_a", "mini:Quantity"),
        ("mini:Force", "causes", "mini:Acceleration"),
        ("mini:Acceleration", "is_a", "mini:Quantity"),
        ("mini:Friction", "is_a", "mini:Force"),
        ("mini:Friction", "related_to", "mini:Surface"),
        ("mini:Surface", "is_a", "mini:Object"),
        ("mini:Surface", "part_of", "mini:Object"),
        ("mini:RigidBody", "is_a", "mini:Object"),  # from skos:narrower on the parent
        ("mini:Object", "is_a", "BFO:0000040"),  # OBO PURLs compress to CURIEs
    }


def test_deprecated_status(mini):
    assert mini.concept_map()["mini:Aether"].status == "deprecated"
    assert mini.concept_map()["mini:Force"].status == "active"


def test_unknown_namespace_keeps_the_full_iri(tmp_path):
    f = tmp_path / "x.ttl"
    f.write_text("<http://other.org/a#Thing> a <http://www.w3.org/2002/07/owl#Class> .\n")
    assert read_ontology(f, CURIES).concepts[0].id == "http://other.org/a#Thing"
