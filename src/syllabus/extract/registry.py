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
ENTRY_POINT_GROUP = "syllabus.extractors"


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


BUILTIN = frozenset(EXTRACTORS)


def get(name: str) -> Callable:
    if name not in EXTRACTORS:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                EXTRACTORS[name] = ep.load()
    return EXTRACTORS[name]


def check(names: list[str], override: list[str] | tuple[str, ...] = ()) -> None:
    """E188 for a name in ``[extract] extractors`` that no registry entry answers to; E153 for an
    installed plugin that would replace a built-in extractor without ``[plugins] override``."""
    from syllabus.errors import SyllabusError

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN and ep.name not in override:
            raise SyllabusError("E153", kind="extractor", name=ep.name, entry=f"{ep.name} = {ep.value}",
                                group=ENTRY_POINT_GROUP)
        if ep.name in BUILTIN:  # allowed: the plugin takes the name
            EXTRACTORS[ep.name] = ep.load()
    for name in names:
        try:
            get(name)
        except KeyError:
            raise SyllabusError("E188", name=name, known=", ".join(sorted(EXTRACTORS))) from None
