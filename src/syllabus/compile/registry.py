"""The renderer registry: the built-in renderers, the patch renderer, and those plugins register.

Kept apart from :mod:`syllabus.compile.renderers` (the renderer API and the built-ins) so that the
patch renderer, which builds on that API, is not imported by it: no import circle.
"""
from __future__ import annotations

from collections.abc import Iterable

from syllabus.compile import renderers as builtin
from syllabus.compile.patches import PATCH
from syllabus.compile.renderers import Renderer
from syllabus.plugins import with_plugins

ENTRY_POINT_GROUP = "syllabus.renderers"


def renderers(override: Iterable[str] = ()) -> dict[str, Renderer]:
    """Built-in renderers plus those registered under the ``syllabus.renderers`` entry-point group
    (a plugin replaces a built-in only when *override* names it, else E153)."""
    return with_plugins("renderer", ENTRY_POINT_GROUP, {r.name: r for r in (*builtin.BUILTIN, PATCH)}, override,
                        name_of=lambda _ep, renderer: renderer.name)
