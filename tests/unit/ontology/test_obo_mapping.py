"""OBO stanza -> store model mapping, on tests/data/mini.obo."""
from pathlib import Path

import pytest

from syllabus.ontology.curie import Curies
from syllabus.ontology.reader import read_ontology

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="module")
def mini():
    return read_ontology(DATA / "mini.obo", Curies(), "mini.obo")


def test_terms_are_concepts_with_line_numbers(mini):
    assert [(c.id, c.where.line) for c in mini.concepts] == [
        ("MINI:0000001", 7), ("MINI:0000002", 17), ("MINI:0000003", 27), ("MINI:0000004", 34), ("MINI:0000005", 40)]
    assert str(mini.concepts[0].where) == "mini.obo:7"


def test_synonym_scopes_types_and_old_style_tags(mini):
    c = mini.concept_map()
    assert c["MINI:0000001"].labels == {("pref", "cell"), ("exact", "cellula"), ("narrow", "protoplast"),
                                        ("broad", "living unit"), ("related", "cell body")}
    assert c["MINI:0000002"].labels == {("pref", "mitochondrion"), ("abbreviation", "mito"), ("related", "powerhouse")}
    assert ("exact", "adenosine triphosphate") in c["MINI:0000003"].labels


def test_definition_unescapes_and_namespace_defaults(mini):
    c = mini.concept_map()
    assert c["MINI:0000001"].definition == 'The smallest unit of life, bounded by a "membrane".'
    assert c["MINI:0000001"].type == "structure"
    assert c["MINI:0000002"].type == "cell_part"  # default-namespace


def test_is_a_and_relationship_lines(mini):
    assert mini.relation_keys() == {
        ("MINI:0000002", "is_a", "MINI:0000004"),
        ("MINI:0000002", "part_of", "MINI:0000001"),
        ("MINI:0000002", "produces", "MINI:0000003"),
        ("MINI:0000003", "is_a", "CHEBI:33019"),
        ("MINI:0000004", "part_of", "MINI:0000001"),
    }
    assert mini.predicates == {"part_of": "part of", "produces": "produces"}


def test_obsolete_is_deprecated(mini):
    assert mini.concept_map()["MINI:0000005"].status == "deprecated"
