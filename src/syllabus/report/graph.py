"""The neighbourhood of one concept laid out for an SVG: the concept in the middle, its
neighbours on rings around it (outgoing relations on the right half, incoming on the left), in a
fixed order, so the layout costs nothing and is the same every time."""
from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 420
RING = 150  # radius of the first ring
RING_STEP = 55
PER_RING = 10  # neighbours per half ring


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    x: float
    y: float
    href: str | None
    centre: bool = False


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    predicate: str
    outgoing: bool
    proposed: bool


def layout(centre: str, centre_label: str, out: list[dict], into: list[dict], href, label, max_nodes: int):
    """(nodes, edges, left out) for the concept *centre*; *out* / *into* are its relations (dicts with
    ``other``, ``predicate``, ``status``); *href(id)* is a page link or None; *label(id)* a name."""
    cx, cy = WIDTH / 2, HEIGHT / 2
    nodes = [Node(centre, centre_label, cx, cy, None, True)]
    edges: list[Edge] = []
    seen: dict[str, Node] = {centre: nodes[0]}
    half = max_nodes // 2
    shown = 0
    for side, rels, outgoing in ((1, out, True), (-1, into, False)):
        others = list(dict.fromkeys(r["other"] for r in rels if r["other"] != centre))
        room = half + max(0, half - len(into if outgoing else out))
        picked = others[:room]
        for k, other in enumerate(picked):
            if other in seen:
                continue
            ring, slot = divmod(k, PER_RING)
            n_slots = min(PER_RING, len(picked) - ring * PER_RING)
            angle = math.pi * (slot + 1) / (n_slots + 1) - math.pi / 2  # -90..90 degrees
            radius = RING + ring * RING_STEP
            x = cx + side * radius * math.cos(angle) * 1.25
            y = cy + radius * math.sin(angle) * (1 if side > 0 else -1)
            node = Node(other, label(other), round(x, 1), round(y, 1), href(other))
            seen[other] = node
            nodes.append(node)
            shown += 1
        for r in rels:
            other = seen.get(r["other"])
            if other is None or other.centre:
                continue
            a, b = (nodes[0], other) if outgoing else (other, nodes[0])
            edges.append(Edge(a.x, a.y, b.x, b.y, r["predicate"], outgoing, r.get("status") == "proposed"))
    total = len({r["other"] for r in (*out, *into)} - {centre})
    return nodes, edges, total - shown


def view_box(nodes: list[Node], pad: float = 70.0) -> str:
    """The SVG viewBox around *nodes* (labels included), at least a quarter of the canvas."""
    xs, ys = [n.x for n in nodes], [n.y for n in nodes]
    x0, x1 = min(xs) - pad, max(xs) + pad
    y0, y1 = min(ys) - pad / 2 - 12, max(ys) + pad / 2
    w, h = max(x1 - x0, WIDTH / 2), max(y1 - y0, HEIGHT / 2)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return f"{cx - w / 2:.1f} {cy - h / 2:.1f} {w:.1f} {h:.1f}"
