"""Template blocks compiled to plain Python functions, for the subset of Jinja the renderers' templates use.

Jinja renders a block through its runtime: a context object, a generator, a sandboxed attribute
lookup method per read, a filter lookup per filter. For a million and a half short examples that
runtime is most of the template time. :func:`compile_blocks` turns each block of a template into
one Python function of the template's variables that builds the same text with the same
operations: literal text, ``str()`` of each expression, Python's own comparisons, ``and``, ``or``,
``not`` and conditional expressions, ``for`` loops with ``loop.index``/``first``/``last``, and the
filters listed in :data:`FILTERS`.

Anything outside that subset (a call, a test such as ``is defined``, ``{% set %}``, a macro, a
filter not listed) leaves the template to Jinja alone (:class:`Unsupported` at compile time). At
render time the compiled code is stricter than the sandbox: it reads only declared public fields
of dataclasses, keys of plain dicts that no dict attribute shadows, and list or tuple items;
anything else, a missing variable, or any error raises, and the caller renders that example with
Jinja instead, which gives the same text or the coded error Jinja's path gives.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from jinja2 import nodes

_DICT_ATTRIBUTES = frozenset(dir(dict))
_FIELDS: dict[type, frozenset[str]] = {}  # public_fields, by type
NOT_DIRECT = object()  # what direct_read gives for a read it leaves to the sandbox's checks


def public_fields(kind: type) -> frozenset[str]:
    """The declared fields of a dataclass not starting with "_" (none for other types)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = frozenset(f.name for f in dataclasses.fields(kind) if not f.name.startswith("_")) \
            if dataclasses.is_dataclass(kind) else frozenset()
        _FIELDS[kind] = names
    return names


def direct_read(obj, name: str):
    """``obj.name`` when it is a declared public field of a dataclass, or a key of a plain dict that no
    dict attribute shadows: what the sandbox allows after its checks, read without them. Anything
    else gives :data:`NOT_DIRECT` (the sandbox, or Jinja itself, decides)."""
    kind = type(obj)
    names = _FIELDS.get(kind)  # public_fields, inlined: this runs for every attribute a template reads
    if name in (names if names is not None else public_fields(kind)):
        return getattr(obj, name)
    if kind is dict and name not in _DICT_ATTRIBUTES and name in obj:
        return obj[name]
    return NOT_DIRECT


def attribute_values(items, name: str) -> list | None:
    """``map(attribute=name)``'s values over *items* (a list) when every item declares that public
    field, else None."""
    if all(name in public_fields(type(item)) for item in items):
        return [getattr(item, name) for item in items]
    return None


class Unsupported(Exception):
    """The template uses something outside the compiled subset: Jinja renders it."""


class _Bail(Exception):
    """A read the compiled code does not do itself: the caller renders with Jinja."""


def _attr(obj, name: str):
    """``obj.name`` as :func:`direct_read` reads it; anything else bails out."""
    value = direct_read(obj, name)
    if value is NOT_DIRECT:
        raise _Bail(name)
    return value


def _item(obj, key):
    """``obj[key]`` for a list or tuple and an index it has; anything else bails out."""
    if type(obj) in (list, tuple) and type(key) is int and -len(obj) <= key < len(obj):
        return obj[key]
    raise _Bail(key)


def _map_attribute(items, name: str):
    """``map(attribute=name)`` over items that all declare that public field (else bail out)."""
    values = attribute_values(list(items), name)
    if values is None:
        raise _Bail(name)
    return iter(values)


def _replace(value, old, new) -> str:
    return str(value).replace(str(old), str(new), -1)  # Jinja's replace without autoescape


# filter name -> (positional arguments it takes, keyword arguments it takes, Python expression format)
FILTERS = {
    "define": (0, (), "_f_define({0})"),
    "definiens": (0, (), "_f_definiens({0})"),
    "capitalize_first": (0, (), "_f_capitalize_first({0})"),
    "lower_first": (0, (), "_f_lower_first({0})"),
    "join_and": (0, (), "_f_join_and({0})"),
    "length": (0, (), "len({0})"),
    "count": (0, (), "len({0})"),
    "replace": (2, (), "_replace({0}, {1}, {2})"),
    "map": (0, ("attribute",), "_map_attribute({0}, {attribute})"),
}
_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}
_LOOP = {"index": "({i} + 1)", "index0": "{i}", "first": "({i} == 0)", "last": "({i} == {n} - 1)",
         "length": "{n}", "revindex": "({n} - {i})", "revindex0": "({n} - {i} - 1)"}


def compile_blocks(template: nodes.Template, filters: dict[str, Callable]) -> dict[str, Callable[[dict], str]]:
    """Each block of *template* (a parsed template) as ``fn(variables) -> text``; Unsupported when
    the template steps outside the subset (see the module's docstring)."""
    blocks = {}
    for node in template.body:
        if isinstance(node, nodes.Block) and not node.scoped and not getattr(node, "required", False):
            blocks[node.name] = node
        elif not (isinstance(node, nodes.Output) and all(isinstance(n, nodes.TemplateData) for n in node.nodes)):
            raise Unsupported(type(node).__name__)  # anything but blocks and text between them
    namespace = {"_attr": _attr, "_item": _item, "_map_attribute": _map_attribute, "_replace": _replace,
                 **{f"_f_{name}": filters[name] for name in ("define", "definiens", "capitalize_first",
                                                             "lower_first", "join_and")}}
    out = {}
    for name, block in blocks.items():
        gen = _Writer()
        gen.statements(block.body, 1)
        source = f"def block(c):\n    _o = []\n    _a = _o.append\n{gen.text()}    return ''.join(_o)\n"
        code = compile(source, f"<template block {name}>", "exec")
        scope = dict(namespace)
        exec(code, scope)  # noqa: S102 - source generated from the whitelisted node types above
        out[name] = scope["block"]
    return out


class _Writer:
    """Python source for a block's statements and expressions."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.locals: dict[str, str] = {}  # loop targets in scope: Jinja name -> Python name
        self.loops: list[tuple[str, str]] = []  # (index variable, length variable) of the enclosing loops
        self.count = 0

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def statements(self, body: list, depth: int) -> None:
        if not body:
            self.emit(depth, "pass")
        for node in body:
            if isinstance(node, nodes.Output):
                for part in node.nodes:
                    if isinstance(part, nodes.TemplateData):
                        self.emit(depth, f"_a({part.data!r})")
                    else:
                        self.emit(depth, f"_a(str({self.expr(part)}))")
            elif isinstance(node, nodes.If):
                self.emit(depth, f"if {self.expr(node.test)}:")
                self.statements(node.body, depth + 1)
                for other in node.elif_:
                    self.emit(depth, f"elif {self.expr(other.test)}:")
                    self.statements(other.body, depth + 1)
                if node.else_:
                    self.emit(depth, "else:")
                    self.statements(node.else_, depth + 1)
            elif isinstance(node, nodes.For):
                self.loop(node, depth)
            else:
                raise Unsupported(type(node).__name__)

    def loop(self, node: nodes.For, depth: int) -> None:
        if node.else_ or node.test is not None or node.recursive or not isinstance(node.target, nodes.Name):
            raise Unsupported("for loop form")
        self.count += 1
        seq, i, n, var = (f"_s{self.count}", f"_i{self.count}", f"_n{self.count}", f"v{self.count}_{node.target.name}")
        self.emit(depth, f"{seq} = list({self.expr(node.iter)})")
        self.emit(depth, f"{n} = len({seq})")
        self.emit(depth, f"for {i}, {var} in enumerate({seq}):")
        saved = self.locals.get(node.target.name)
        self.locals[node.target.name] = var
        self.loops.append((i, n))
        self.statements(node.body, depth + 1)
        self.loops.pop()
        if saved is None:
            del self.locals[node.target.name]
        else:
            self.locals[node.target.name] = saved

    def expr(self, node: nodes.Expr) -> str:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name in self.locals:
                return self.locals[node.name]
            if node.name == "loop":
                raise Unsupported("loop used as a value")
            return f"c[{node.name!r}]"
        if isinstance(node, nodes.Const) and (node.value is None or type(node.value) in (str, int, float, bool)):
            return repr(node.value)
        if isinstance(node, nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "loop" and "loop" not in self.locals:
                if not self.loops or node.attr not in _LOOP:
                    raise Unsupported(f"loop.{node.attr}")
                i, n = self.loops[-1]
                return _LOOP[node.attr].format(i=i, n=n)
            return f"_attr({self.expr(node.node)}, {node.attr!r})"
        if isinstance(node, nodes.Getitem) and node.ctx == "load" and isinstance(node.arg, nodes.Const):
            return f"_item({self.expr(node.node)}, {node.arg.value!r})"
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            return f"({self.expr(node.expr1)} if {self.expr(node.test)} else {self.expr(node.expr2)})"
        if isinstance(node, nodes.Compare) and all(op.op in _COMPARE for op in node.ops):
            return "(" + " ".join([self.expr(node.expr), *(f"{_COMPARE[op.op]} {self.expr(op.expr)}"
                                                           for op in node.ops)]) + ")"
        if isinstance(node, (nodes.And, nodes.Or)):
            word = "and" if isinstance(node, nodes.And) else "or"
            return f"({self.expr(node.left)} {word} {self.expr(node.right)})"
        if isinstance(node, nodes.Not):
            return f"(not {self.expr(node.node)})"
        raise Unsupported(type(node).__name__)

    def filter(self, node: nodes.Filter) -> str:
        spec = FILTERS.get(node.name)
        if spec is None or node.node is None or node.dyn_args is not None or node.dyn_kwargs is not None:
            raise Unsupported(f"filter {node.name}")
        positional, keywords, form = spec
        kwargs = {k.key: k.value for k in node.kwargs}
        if len(node.args) != positional or set(kwargs) != set(keywords):
            raise Unsupported(f"filter {node.name} arguments")
        if node.name == "map" and not (isinstance(kwargs["attribute"], nodes.Const)
                                       and isinstance(kwargs["attribute"].value, str)):
            raise Unsupported("map attribute")
        return form.format(self.expr(node.node), *(self.expr(a) for a in node.args),
                           **{k: self.expr(v) for k, v in kwargs.items()})
