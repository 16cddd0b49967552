"""Lint rules, each triggered by a minimal OBO file."""
from syllabus.ontology.curie import Curies
from syllabus.ontology.lint import lint
from syllabus.ontology.reader import read_ontology


def findings(tmp_path, body, prefix="X"):
    f = tmp_path / "t.obo"
    f.write_text("format-version: 1.4\n\n" + body)
    return [(x.code, x.concept, x.where) for x in lint([read_ontology(f, Curies(), "t.obo")], prefix)]


def term(i, name=None, extra=""):
    label = f"name: {name}\n" if name else ""
    return f"[Term]\nid: X:{i}\n{label}def: \"d\" []\n{extra}\n"


def test_clean_file_has_no_findings(tmp_path):
    assert findings(tmp_path, term(1, "a") + term(2, "b", "is_a: X:1\n")) == []


def test_is_a_cycle(tmp_path):
    out = findings(tmp_path, term(1, "a", "is_a: X:3\n") + term(2, "b", "is_a: X:1\n") + term(3, "c", "is_a: X:2\n"))
    assert out == [("L001", "X:1", "t.obo:3")]


def test_undefined_own_reference_is_an_error_foreign_a_warning(tmp_path):
    out = findings(tmp_path, term(1, "a", "is_a: X:9\nrelationship: part_of GO:1\n"))
    assert ("L002", "X:1", "t.obo:3") in out and ("L104", "X:1", "t.obo:3") in out


def test_duplicate_preferred_label_case_insensitive(tmp_path):
    out = findings(tmp_path, term(1, "Cell") + term(2, "cell", "is_a: X:1\n"))
    assert out == [("L004", "X:2", "t.obo:8")]


def test_relation_to_deprecated(tmp_path):
    out = findings(tmp_path, term(1, "a", "is_obsolete: true\n") + term(2, "b", "is_a: X:1\n"))
    assert out == [("L005", "X:2", "t.obo:9")]


def test_warnings_missing_definition_label_and_orphan(tmp_path):
    out = findings(tmp_path, "[Term]\nid: X:1\n\n" + term(2, "b") + term(3, "c", "is_a: X:2\n"))
    codes = {(c, i) for c, i, _ in out}
    assert codes == {("L101", "X:1"), ("L102", "X:1"), ("L103", "X:1")}


def test_files_of_one_discipline_are_linted_together(tmp_path):
    a, b = tmp_path / "a.obo", tmp_path / "b.obo"
    a.write_text("format-version: 1.4\n\n" + term(1, "a"))
    b.write_text("format-version: 1.4\n\n" + term(2, "b", "is_a: X:1\n"))
    parsed = [read_ontology(p, Curies()) for p in (a, b)]
    assert lint(parsed, "X") == []


def test_shared_label_between_two_concepts_is_a_likely_duplicate(tmp_path):
    out = findings(tmp_path, term(1, "a", 'synonym: "same" EXACT []\n') +
                   term(2, "b", 'is_a: X:1\nsynonym: "Same" RELATED []\n'))
    assert [c for c, _, _ in out] == ["L105"]


def test_embedding_near_pairs_are_reported_not_merged(tmp_path):
    import numpy as np

    f = tmp_path / "t.obo"
    f.write_text("format-version: 1.4\n\n" + term(1, "speed") + term(2, "velocity magnitude", "is_a: X:1\n")
                 + term(3, "apoptosis", "is_a: X:1\n"))
    from syllabus.ontology.lint import likely_duplicates
    vecs = {"speed: d": [1.0, 0.0], "velocity magnitude: d": [0.96, 0.28], "apoptosis: d": [0.0, 1.0]}
    out = likely_duplicates([read_ontology(f, Curies(), "t.obo")],
                            lambda texts: np.array([vecs[t] for t in texts]), 0.9)
    assert [(x.code, x.concept) for x in out] == [("L105", "X:2")]
