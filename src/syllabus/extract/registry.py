"""Extractors by name: built-ins and third-party ones (entry point group ``syllabus.extractors``).

An extractor is a callable ``(doc, mentions) -> list[Found]`` with ``name`` and ``version``
attributes. The built-in pattern extractor works on spaCy parses; an LLM-backed extractor can be
registered the same way (``llm``: :class:`~syllabus.extract.llm_extractor.LLMStage`) and the rest of the pipeline (evidence, proposals, GC) stays as it is.
"""
from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from syllabus.extract import calibration, llm_extractor, patterns

EXTRACTORS: dict[str, Callable] = {}


def register(name: str, version: str):
    def wrap(fn):
        fn.name, fn.version = name, version
        EXTRACTORS[name] = fn
        return fn
    return wrap


# the version carries the calibration table's hash: recalibrating re-matches chunks (new confidences)
register("patterns", f"{patterns.VERSION}+{calibration.digest()}")(patterns.find_relations)
# a batch extractor over whole chunks (one model call each), run as its own stage by extract.run
register("llm", llm_extractor.VERSION)(llm_extractor.LLMStage)


def get(name: str) -> Callable:
    if name not in EXTRACTORS:
        for ep in entry_points(group="syllabus.extractors"):
            if ep.name == name:
                EXTRACTORS[name] = ep.load()
    return EXTRACTORS[name]


def check(names: list[str]) -> None:
    """E188 for a name in ``[extract] extractors`` that no registry entry answers to."""
    from syllabus.errors import SyllabusError

    for name in names:
        try:
            get(name)
        except KeyError:
            raise SyllabusError("E188", name=name, known=", ".join(sorted(EXTRACTORS))) from None
