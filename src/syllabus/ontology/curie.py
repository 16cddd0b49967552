"""Concept ids: IRIs compressed to CURIEs with the workspace's prefixes, and back.

Ids never depend on the prefixes a file happens to declare, so the same graph in Turtle and in
N-Triples (which has no prefixes) imports to the same ids.
"""
from __future__ import annotations

import re

OBO_PURL = "http://purl.obolibrary.org/obo/"
_OBO_IRI = re.compile(r"^http://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9_]+)$")
_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*):([^/\s][^\s]*)$")


class Curies:
    """A bidirectional prefix map (longest namespace wins when compressing)."""

    def __init__(self, prefixes: dict[str, str] | None = None) -> None:
        self.prefixes = dict(prefixes or {})
        self._by_namespace = sorted(((ns, p) for p, ns in self.prefixes.items()), key=lambda x: -len(x[0]))

    def compress(self, iri: str) -> str:
        for namespace, prefix in self._by_namespace:
            if iri.startswith(namespace):
                local = iri[len(namespace):]
                if _LOCAL.match(local):
                    return f"{prefix}:{local}"
        match = _OBO_IRI.match(iri)
        if match:
            return f"{match.group(1)}:{match.group(2)}"
        return iri

    def expand(self, curie: str) -> str:
        match = _CURIE.match(curie)
        if not match or "://" in curie:
            return curie
        prefix, local = match.groups()
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        return f"{OBO_PURL}{prefix}_{local}"


def workspace_curies(workspace) -> Curies:
    """The prefix map of a workspace: its disciplines' prefixes plus [prefixes]."""
    prefixes = {d.prefix: d.iri for d in workspace.config.disciplines}
    prefixes.update(workspace.config.prefixes)
    return Curies(prefixes)
