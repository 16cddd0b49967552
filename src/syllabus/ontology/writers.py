"""Writing a :class:`ParsedOntology` as SKOS/OWL Turtle or OBO 1.4, deterministically.

Both writers emit concepts sorted by id and relations sorted by (predicate, object), so the
same store always gives byte-identical files that diff cleanly in review.
"""
from __future__ import annotations

from collections import defaultdict

from rdflib import Literal, URIRef

from syllabus.ontology.curie import Curies
from syllabus.ontology.model import ParsedOntology
from syllabus.ontology.vocab import KIND_PROPERTIES, OBOINOWL, PREDICATE_PROPERTIES, SYL

_TTL_PREFIXES = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "oboInOwl": str(OBOINOWL),
    "syl": str(SYL),
}
_KIND_ORDER = {"alt": 0, "exact": 1, "narrow": 2, "broad": 3, "related": 4, "abbreviation": 5}


def property_iri(predicate: str, curies: Curies) -> str:
    """The RDF property that stands for a predicate name."""
    if predicate in PREDICATE_PROPERTIES:
        return str(PREDICATE_PROPERTIES[predicate])
    if ":" in predicate:
        return curies.expand(predicate)
    return str(SYL[predicate])


def _by_subject(ontology: ParsedOntology) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in ontology.relations:
        out[r.subject].append((r.predicate, r.object))
    for v in out.values():
        v.sort()
    return out


def _qname(iri: str) -> str:
    """``skos:altLabel`` for IRIs in the fixed prefixes, else ``<iri>``."""
    for prefix, namespace in _TTL_PREFIXES.items():
        local = iri[len(namespace):]
        if iri.startswith(namespace) and local.replace("_", "a").isalnum():
            return f"{prefix}:{local}"
    return URIRef(iri).n3()


def _lit(text: str) -> str:
    return Literal(text).n3()


def write_turtle(ontology: ParsedOntology, curies: Curies, ontology_iri: str | None = None) -> str:
    """Serialise as Turtle: owl:Class, rdfs:label, SKOS labels and definitions, restrictions."""
    def ref(iri: str) -> str:
        return URIRef(iri).n3()

    lines = [f"@prefix {p}: <{ns}> ." for p, ns in sorted(_TTL_PREFIXES.items())]
    lines.append("")
    if ontology_iri:
        lines += [f"{ref(ontology_iri)} a owl:Ontology .", ""]
    predicates = sorted({r.predicate for r in ontology.relations} - {"is_a", "related_to"})
    for predicate in predicates:
        lines.append(f"{ref(property_iri(predicate, curies))} a owl:ObjectProperty ; rdfs:label "
                     f"{_lit(predicate.replace('_', ' '))} .")
    if predicates:
        lines.append("")
    relations = _by_subject(ontology)
    marks = ontology.proposed
    for concept in sorted(ontology.concepts, key=lambda c: c.id):
        body: list[tuple[str, str | None]] = [("a owl:Class", None)]
        if concept.pref_label is not None:
            body.append((f"rdfs:label {_lit(concept.pref_label)}", None))
        for kind, text in sorted((k, t) for k, t in concept.labels if k != "pref"):
            body.append((f"{_qname(str(KIND_PROPERTIES[kind]))} {_lit(text)}", marks.get(("label", concept.id, kind, text))))
        if concept.definition is not None:
            body.append((f"skos:definition {_lit(concept.definition)}", None))
        if concept.type is not None:
            body.append((f"oboInOwl:hasOBONamespace {_lit(concept.type)}", None))
        if concept.status == "deprecated":
            body.append(("owl:deprecated true", None))
        for predicate, obj in relations.get(concept.id, []):
            target = ref(curies.expand(obj))
            note = marks.get(("relation", concept.id, predicate, obj))
            if predicate == "is_a":
                body.append((f"rdfs:subClassOf {target}", note))
            elif predicate == "related_to":
                body.append((f"skos:related {target}", note))
            else:
                body.append((f"rdfs:subClassOf [ a owl:Restriction ; owl:onProperty "
                             f"{ref(property_iri(predicate, curies))} ; owl:someValuesFrom {target} ]", note))
        if ("concept", concept.id) in marks:
            lines.append(f"# PROPOSED concept ({marks[('concept', concept.id)]}): review, then keep or delete")
        parts = [item + (" ." if i == len(body) - 1 else " ;") + (f"  # PROPOSED {note}" if note else "")
                 for i, (item, note) in enumerate(body)]
        lines.append(ref(curies.expand(concept.id)) + " " + "\n    ".join(parts))
        lines.append("")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_obo(ontology: ParsedOntology, name: str, labels: dict[str, str] | None = None) -> str:
    """Serialise as OBO 1.4; alternative labels and abbreviations use synonym types."""
    labels = labels or {}
    pref = {c.id: c.pref_label for c in ontology.concepts}
    out = ["format-version: 1.4", f"ontology: {name}",
           'synonymtypedef: ALT "alternative label"',
           'synonymtypedef: ABBREVIATION "abbreviation"', ""]
    relations = _by_subject(ontology)
    for concept in sorted(ontology.concepts, key=lambda c: c.id):
        out += ["[Term]", f"id: {concept.id}"]
        if ("concept", concept.id) in ontology.proposed:
            out.append(f"comment: PROPOSED ({ontology.proposed[('concept', concept.id)]}): review, then keep or delete.")
        if concept.pref_label is not None:
            out.append(f"name: {' '.join(concept.pref_label.split())}")
        if concept.type is not None:
            out.append(f"namespace: {concept.type}")
        if concept.definition is not None:
            out.append(f"def: {_quote(concept.definition)} []")
        for kind, text in sorted(((k, t) for k, t in concept.labels if k != "pref"),
                                 key=lambda x: (_KIND_ORDER[x[0]], x[1])):
            scope, stype = {"alt": ("EXACT", " ALT"), "abbreviation": ("EXACT", " ABBREVIATION")}.get(
                kind, (kind.upper(), ""))
            mark = ' {status="proposed"}' if ("label", concept.id, kind, text) in ontology.proposed else ""
            out.append(f"synonym: {_quote(text)} {scope}{stype} []{mark}")
        for predicate, obj in relations.get(concept.id, []):
            comment = f" ! {pref[obj]}" if pref.get(obj) else ""
            note = ontology.proposed.get(("relation", concept.id, predicate, obj))
            mark = f' {{status="proposed", note="{note}"}}' if note else ""
            out.append(f"is_a: {obj}{mark}{comment}" if predicate == "is_a"
                       else f"relationship: {predicate} {obj}{mark}{comment}")
        if concept.status == "deprecated":
            out.append("is_obsolete: true")
        out.append("")
    for predicate in sorted({r.predicate for r in ontology.relations} - {"is_a"}):
        out += ["[Typedef]", f"id: {predicate}", f"name: {labels.get(predicate) or predicate.replace('_', ' ')}", ""]
    return "\n".join(out)
