"""Ontology file formats: names, aliases, extensions, and reading a file's text safely."""
from __future__ import annotations

from pathlib import Path

from syllabus.errors import SyllabusError

FORMATS = ("ttl", "rdfxml", "jsonld", "nt", "obo")
RDFLIB_NAMES = {"ttl": "turtle", "rdfxml": "xml", "jsonld": "json-ld", "nt": "nt"}
DESCRIPTIONS = {
    "ttl": "Turtle", "rdfxml": "RDF/XML", "jsonld": "JSON-LD", "nt": "N-Triples", "obo": "OBO",
}
_ALIASES = {"turtle": "ttl", "xml": "rdfxml", "rdf": "rdfxml", "owl": "rdfxml", "json-ld": "jsonld",
            "ntriples": "nt", "n-triples": "nt"}
_EXTENSIONS = {".ttl": "ttl", ".rdf": "rdfxml", ".owl": "rdfxml", ".xml": "rdfxml", ".jsonld": "jsonld",
               ".json": "jsonld", ".nt": "nt", ".obo": "obo"}


def detect_format(path: Path, explicit: str | None = None) -> str:
    """The format named by *explicit*, else implied by the file extension."""
    name = (explicit or "").lower()
    if name:
        name = _ALIASES.get(name, name)
        if name not in FORMATS:
            raise SyllabusError("E021", file=str(path), format=explicit, known=", ".join(FORMATS))
        return name
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise SyllabusError("E021", file=str(path), format=path.suffix or "(no extension)",
                            known=", ".join(f"{e} ({f})" for e, f in _EXTENSIONS.items()))
    return fmt


def read_bytes(path: Path, shown: str) -> bytes:
    """The file's bytes; a missing, empty or binary file is a coded error."""
    if not path.is_file():
        raise SyllabusError("E020", file=shown)
    data = path.read_bytes()
    if not data.strip():
        raise SyllabusError("E023", file=shown)
    if b"\x00" in data[:65536]:
        raise SyllabusError("E024", file=shown, offset=data.index(b"\x00"))
    return data


def decode_text(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SyllabusError("E024", file=shown, offset=exc.start) from exc
