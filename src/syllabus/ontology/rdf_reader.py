"""Reading Turtle, RDF/XML, JSON-LD and N-Triples ontologies into a :class:`ParsedOntology`.

Mapping: owl:Class, rdfs:Class and skos:Concept are concepts; rdfs:label / skos:prefLabel the
preferred label; skos:altLabel and oboInOwl synonyms labels with their scope; skos:definition,
IAO:0000115, else rdfs:comment the definition; named rdfs:subClassOf, skos:broader (and inverse
skos:narrower) is_a; someValuesFrom restrictions typed relations; skos:related related_to;
owl:deprecated status deprecated; oboInOwl:hasOBONamespace the concept type. Only literals
without a language tag or tagged English are read.
"""
from __future__ import annotations

import re
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from syllabus.errors import SyllabusError
from syllabus.ontology.curie import Curies
from syllabus.ontology.formats import DESCRIPTIONS, RDFLIB_NAMES, decode_text
from syllabus.ontology.model import (
    ConceptRecord,
    Location,
    ParsedOntology,
    RelationRecord,
)
from syllabus.ontology.vocab import (
    CONCEPT_CLASSES,
    DEFINITION_PROPERTIES,
    LABEL_PROPERTIES,
    OBOINOWL,
    PREF_PROPERTIES,
    PROPERTY_PREDICATES,
    SYL,
    predicate_name,
)

_SKIP = {OWL.Thing, OWL.Nothing, RDFS.Resource}
_EXPECTED = {
    "ttl": "Turtle 1.1 statements (subject predicate object .)",
    "rdfxml": "well-formed RDF/XML",
    "jsonld": "a JSON-LD document",
    "nt": "one N-Triples statement per line",
}


def parse_graph(data: bytes, fmt: str, shown: str) -> Graph:
    """Parse RDF bytes; syntax errors become E022 naming the file and line."""
    graph = Graph()
    source: bytes | str = data if fmt == "rdfxml" else decode_text(data, shown)
    try:
        graph.parse(data=source, format=RDFLIB_NAMES[fmt])
    except Exception as exc:  # rdflib raises many parser-specific types
        line = _error_line(exc)
        detail = re.sub(r"\s+", " ", str(exc)).strip()[:300] or type(exc).__name__
        raise SyllabusError("E022", file=shown, where=f":{line}" if line else "", format=DESCRIPTIONS[fmt],
                            detail=detail, expected=_EXPECTED[fmt]) from exc
    return graph


def _error_line(exc: Exception) -> int | None:
    for attr in ("lines", "lineno", "line"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value + 1 if attr == "lines" else value
    getter = getattr(exc, "getLineNumber", None)
    if callable(getter):
        return getter()
    match = re.search(r"line[: ]+(\d+)", str(exc), re.IGNORECASE)
    return int(match.group(1)) if match else None


def read_rdf(path: Path, fmt: str, curies: Curies, shown: str, data: bytes) -> ParsedOntology:
    """Read an RDF ontology file (already loaded as *data*) into a :class:`ParsedOntology`."""
    return graph_to_ontology(parse_graph(data, fmt, shown), fmt, curies, shown)


def graph_to_ontology(graph: Graph, fmt: str, curies: Curies, shown: str) -> ParsedOntology:
    ids: dict[URIRef, str] = {}

    def cid(node: URIRef) -> str:
        if node not in ids:
            ids[node] = curies.compress(str(node))
        return ids[node]

    subjects = {s for cls in CONCEPT_CLASSES for s in graph.subjects(RDF.type, cls)
                if isinstance(s, URIRef) and s not in _SKIP}
    concepts = {s: ConceptRecord(id=cid(s), where=Location(shown, subject=str(s))) for s in subjects}

    for s, record in concepts.items():
        prefs = [v for p in PREF_PROPERTIES for v in _texts(graph, s, p)]
        if prefs:
            record.pref_label = prefs[0]
            record.labels.add(("pref", prefs[0]))
            record.labels.update(("alt", t) for t in prefs[1:] if t != prefs[0])
        for prop, kind in LABEL_PROPERTIES.items():
            record.labels.update((kind, t) for t in _texts(graph, s, prop))
        definitions = [v for p in DEFINITION_PROPERTIES for v in _texts(graph, s, p)] or _texts(graph, s, RDFS.comment)
        record.definition = definitions[0] if definitions else None
        types = _texts(graph, s, OBOINOWL.hasOBONamespace)
        record.type = types[0] if types else None
        if any(o.toPython() is True or str(o).lower() == "true" for o in graph.objects(s, OWL.deprecated)):
            record.status = "deprecated"

    relations: set[tuple[str, str, str, str]] = set()

    def add(subject: URIRef, predicate: str, obj) -> None:
        if subject in concepts and isinstance(obj, URIRef) and obj not in _SKIP and obj != subject:
            relations.add((cid(subject), predicate, cid(obj), str(subject)))

    for s, o in graph.subject_objects(RDFS.subClassOf):
        if isinstance(o, URIRef):
            add(s, "is_a", o)
        elif isinstance(o, BNode) and (o, RDF.type, OWL.Restriction) in graph:
            prop = graph.value(o, OWL.onProperty)
            target = graph.value(o, OWL.someValuesFrom)
            if isinstance(prop, URIRef) and isinstance(target, URIRef):
                add(s, _predicate(graph, prop, curies), target)
    for s, o in graph.subject_objects(SKOS.broader):
        add(s, "is_a", o)
    for s, o in graph.subject_objects(SKOS.narrower):
        if isinstance(o, URIRef):
            add(o, "is_a", s)
    for s, o in graph.subject_objects(SKOS.related):
        add(s, "related_to", o)

    ontology = ParsedOntology(path=shown, format=fmt)
    ontology.concepts = sorted(concepts.values(), key=lambda c: c.id)
    ontology.relations = [RelationRecord(s, p, o, Location(shown, subject=subj))
                          for s, p, o, subj in sorted(relations)]
    for prop in set(graph.subjects(RDF.type, OWL.ObjectProperty)):
        if isinstance(prop, URIRef):
            labels = _texts(graph, prop, RDFS.label)
            ontology.predicates[_predicate(graph, prop, curies)] = labels[0] if labels else ""
    return ontology


def _predicate(graph: Graph, prop: URIRef, curies: Curies) -> str:
    """The predicate name of a relation property IRI."""
    if prop in PROPERTY_PREDICATES:
        return PROPERTY_PREDICATES[prop]
    if str(prop).startswith(str(SYL)):
        return str(prop)[len(str(SYL)):]
    labels = _texts(graph, prop, RDFS.label)
    if labels:
        return predicate_name(labels[0])
    compact = curies.compress(str(prop))
    return compact if compact != str(prop) else predicate_name(re.split(r"[#/]", str(prop))[-1])


def _texts(graph: Graph, subject, prop) -> list[str]:
    """English or untagged literal values, whitespace-normalised, in a stable order."""
    values = {" ".join(str(o).split()) for o in graph.objects(subject, prop)
              if isinstance(o, Literal) and (o.language is None or o.language.lower().startswith("en"))}
    return sorted(v for v in values if v)
