"""Reading any supported ontology file: format detection and dispatch."""
from __future__ import annotations

from pathlib import Path

from syllabus.errors import SyllabusError
from syllabus.ontology.curie import Curies
from syllabus.ontology.formats import detect_format, read_bytes
from syllabus.ontology.model import ParsedOntology


def read_ontology(path: Path, curies: Curies, shown: str | None = None, fmt: str | None = None,
                  data: bytes | None = None) -> ParsedOntology:
    """Parse an ontology file; every failure is a coded :class:`SyllabusError`."""
    shown = shown or str(path)
    fmt = detect_format(path, fmt)
    if data is None:
        data = read_bytes(path, shown)
    if fmt == "obo":
        from syllabus.ontology.obo_reader import read_obo

        return read_obo(curies, shown, data)
    from syllabus.ontology.rdf_reader import read_rdf

    parsed = read_rdf(path, fmt, curies, shown, data)
    if not parsed.concepts:
        raise SyllabusError("E023", file=shown)
    return parsed
