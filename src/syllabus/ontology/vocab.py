"""The controlled vocabulary: predicates and label kinds, and their RDF and OBO spellings."""
from __future__ import annotations

import re

from rdflib import Namespace, URIRef
from rdflib.namespace import OWL, RDFS, SKOS

SYL = Namespace("https://w3id.org/syllabus/vocab#")
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
IAO_DEFINITION = OBO["IAO_0000115"]

CORE_PREDICATES = ("is_a", "part_of", "causes", "requires", "has_property", "used_for", "related_to")

# Well-known relation IRIs and the predicate names they stand for (both directions).
PROPERTY_PREDICATES: dict[URIRef, str] = {
    OBO["BFO_0000050"]: "part_of",
    OBO["BFO_0000051"]: "has_part",
    OBO["RO_0002202"]: "develops_from",
    OBO["RO_0002215"]: "capable_of",
}
PREDICATE_PROPERTIES: dict[str, URIRef] = {v: k for k, v in PROPERTY_PREDICATES.items()}

# RDF label properties -> label kinds.
LABEL_PROPERTIES: dict[URIRef, str] = {
    SKOS.altLabel: "alt",
    OBOINOWL.hasExactSynonym: "exact",
    OBOINOWL.hasNarrowSynonym: "narrow",
    OBOINOWL.hasBroadSynonym: "broad",
    OBOINOWL.hasRelatedSynonym: "related",
    SYL.abbreviation: "abbreviation",
}
KIND_PROPERTIES: dict[str, URIRef] = {v: k for k, v in LABEL_PROPERTIES.items()}
PREF_PROPERTIES = (SKOS.prefLabel, RDFS.label)
DEFINITION_PROPERTIES = (SKOS.definition, IAO_DEFINITION)
CONCEPT_CLASSES = (OWL.Class, RDFS.Class, SKOS.Concept)

# OBO synonym scopes and synonym types -> label kinds.
OBO_SCOPES = {"EXACT": "exact", "NARROW": "narrow", "BROAD": "broad", "RELATED": "related"}
OBO_TYPE_KINDS = {"ALT": "alt", "ABBREVIATION": "abbreviation"}


def predicate_name(text: str) -> str:
    """A predicate name from a property label or local name: ``"part of"`` -> ``part_of``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text.strip())
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
