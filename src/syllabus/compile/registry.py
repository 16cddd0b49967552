"""The renderer registry: the built-in renderers, the patch renderer, and those plugins register.

Kept apart from :mod:`syllabus.compile.renderers` (the renderer API and the built-ins) so that the
patch renderer, which builds on that API, is not imported by it: no import circle.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from syllabus.compile import renderers as builtin
from syllabus.compile.patches import PATCH
from syllabus.compile.renderers import Renderer

ENTRY_POINT_GROUP = "syllabus.renderers"


def renderers() -> dict[str, Renderer]:
    """Built-in renderers plus those registered under the ``syllabus.renderers`` entry-point group."""
    found = {r.name: r for r in (*builtin.BUILTIN, PATCH)}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        renderer = ep.load()
        found[renderer.name] = renderer
    return found
