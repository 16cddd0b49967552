"""Plugins by entry point: renderers, exporters and extractors that third-party packages add.

A plugin adds a name; it replaces a built-in only where the workspace says so
(``[plugins] override = ["NAME", ...]`` in syllabus.toml), otherwise loading it is error E153:
a package installed for something else must not silently change what a compile produces.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import TypeVar

from syllabus.errors import SyllabusError

T = TypeVar("T")


def with_plugins(kind: str, group: str, builtins: dict[str, T], override: Iterable[str] = (),
                 name_of: Callable[[str, T], str] = lambda ep_name, _plugin: ep_name) -> dict[str, T]:
    """*builtins* plus the plugins of entry-point *group*, in a stable order (by entry-point name).

    *name_of* gives the name a loaded plugin registers under (default: the entry point's name)."""
    allowed = set(override)
    found = dict(builtins)
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        plugin = ep.load()
        name = name_of(ep.name, plugin)
        if name in builtins and name not in allowed:
            raise SyllabusError("E153", kind=kind, name=name, entry=f"{ep.name} = {ep.value}", group=group)
        found[name] = plugin
    return found
