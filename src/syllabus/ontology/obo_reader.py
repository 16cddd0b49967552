"""Reading OBO 1.2/1.4 flat files into a :class:`ParsedOntology` with obonet.

obonet (tolerant, fast) parses tag-value pairs; a light scan of the lines records where each
stanza and tag starts, so lint and errors can point at file:line, and finds duplicate ids
(which obonet merges). fastobo/pronto were measured first and rejected: they refuse the real
Cell Ontology release (a stray ``\\n`` after an xref at line 18319).
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

import obonet

from syllabus.errors import SyllabusError
from syllabus.ontology.curie import Curies
from syllabus.ontology.formats import decode_text
from syllabus.ontology.model import (
    ConceptRecord,
    Location,
    ParsedOntology,
    RelationRecord,
)
from syllabus.ontology.vocab import OBO_SCOPES, OBO_TYPE_KINDS

_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$', re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "W": " ", '"': '"', "\\": "\\"}
_OLD_SYNONYM_TAGS = {"exact_synonym": "EXACT", "narrow_synonym": "NARROW", "broad_synonym": "BROAD",
                     "related_synonym": "RELATED", "synonym": None}


@dataclass
class Stanza:
    kind: str
    line: int
    id: str | None = None
    tags: dict[str, int] = field(default_factory=dict)  # first line of each tag


def scan_stanzas(text: str, shown: str) -> list[Stanza]:
    """Stanza headers, ids and tag lines, with 1-based line numbers."""
    stanzas: list[Stanza] = []
    current: Stanza | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("!"):
            continue
        if line.startswith("["):
            if not re.fullmatch(r"\[[A-Za-z]+\]", line):
                _malformed(shown, number, f"bad stanza header `{line[:60]}`", "a header such as [Term] or [Typedef]")
            current = Stanza(line[1:-1], number)
            stanzas.append(current)
            continue
        tag, sep, value = line.partition(":")
        if not sep or not tag or " " in tag.strip():
            _malformed(shown, number, f"`{line[:60]}` is not a tag-value pair", "`tag: value` lines")
        if current is None:
            continue
        tag = tag.strip()
        current.tags.setdefault(tag, number)
        if tag == "id":
            current.id = value.split("!")[0].strip()
    for stanza in stanzas:
        if stanza.id is None:
            _malformed(shown, stanza.line, f"[{stanza.kind}] stanza has no id", "an `id:` line in every stanza")
    return stanzas


def _malformed(shown: str, line: int, detail: str, expected: str) -> None:
    raise SyllabusError("E022", file=shown, where=f":{line}", format="OBO", detail=detail, expected=expected)


def _unquote(value: str, shown: str, line: int, what: str) -> tuple[str, str]:
    match = _QUOTED.match(value.strip())
    if not match:
        _malformed(shown, line, f"{what} `{value[:60]}` is not a quoted string", f'{what}: "text" [xrefs]')
    text = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), match.group(1))
    return " ".join(text.split()), match.group(2)


def read_obo(curies: Curies, shown: str, data: bytes) -> ParsedOntology:
    """Read OBO bytes into a :class:`ParsedOntology` (duplicates kept for lint)."""
    del curies  # OBO ids are CURIEs already
    text = decode_text(data, shown)
    stanzas = scan_stanzas(text, shown)
    logging.disable(logging.WARNING)  # obonet warns through the root logger about optional headers
    try:
        graph = obonet.read_obo(io.StringIO(text), ignore_obsolete=False)
    except ValueError as exc:
        bad = str(exc).split("\n", 1)[-1].strip()
        line = next((n for n, raw in enumerate(text.splitlines(), 1) if bad and raw.strip() == bad), None)
        raise SyllabusError("E022", file=shown, where=f":{line}" if line else "", format="OBO",
                            detail=str(exc).replace("\n", " "), expected="`tag: value` lines") from exc
    finally:
        logging.disable(logging.NOTSET)
    ontology = ParsedOntology(path=shown, format="obo")
    default_type = graph.graph.get("default-namespace")
    default_type = default_type[0] if isinstance(default_type, list) else default_type
    for typedef in graph.graph.get("typedefs", []):
        ontology.predicates[typedef["id"]] = typedef.get("name", "")
    for stanza in stanzas:
        if stanza.kind != "Term":
            continue
        data_ = graph.nodes[stanza.id] if stanza.id in graph else {}
        ontology.concepts.append(_concept(stanza, data_, default_type, shown))
        ontology.relations.extend(_relations(stanza, data_, shown))
    if not ontology.concepts:
        raise SyllabusError("E023", file=shown)
    return ontology


def _concept(stanza: Stanza, tags: dict, default_type: str | None, shown: str) -> ConceptRecord:
    where = Location(shown, line=stanza.line)
    record = ConceptRecord(id=stanza.id, where=where)
    name = tags.get("name")
    if name:
        record.pref_label = " ".join(str(name).split())
        record.labels.add(("pref", record.pref_label))
    if "def" in tags:
        record.definition, _ = _unquote(tags["def"], shown, stanza.tags.get("def", stanza.line), "def")
    record.type = tags.get("namespace") or default_type
    if str(tags.get("is_obsolete", "")).lower() == "true":
        record.status = "deprecated"
    for tag, fixed_scope in _OLD_SYNONYM_TAGS.items():
        for value in tags.get(tag, []):
            label, rest = _unquote(value, shown, stanza.tags.get(tag, stanza.line), tag)
            words = rest.split("[", 1)[0].split()
            scope = fixed_scope or (words[0].upper() if words and words[0].upper() in OBO_SCOPES else "RELATED")
            kind = OBO_SCOPES[scope]
            for word in words[1:] if fixed_scope is None else words:
                kind = OBO_TYPE_KINDS.get(word.upper(), kind)
            if label:
                record.labels.add((kind, label))
    return record


def _relations(stanza: Stanza, tags: dict, shown: str) -> list[RelationRecord]:
    where = Location(shown, line=stanza.line)
    out = [RelationRecord(stanza.id, "is_a", parent.split()[0], where) for parent in tags.get("is_a", [])]
    for value in tags.get("relationship", []):
        parts = value.split()
        if len(parts) < 2:
            _malformed(shown, stanza.tags.get("relationship", stanza.line),
                       f"relationship `{value}` lacks a target", "relationship: RELATION_ID TARGET_ID")
        out.append(RelationRecord(stanza.id, parts[0], parts[1], where))
    return out
