"""Jinja2 templates for renderers: built-in phrasings, workspace overrides, a sandbox, coded errors.

A task ``concept.definition`` has its phrasings in ``concept/definition/*.j2``; each file has a
``user`` and an ``assistant`` block. ``system.j2`` is the system message. A workspace's
``templates/`` folder overrides a built-in file of the same name or adds phrasings.
"""
from __future__ import annotations

import functools
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.filters
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from syllabus.compile.fingerprint import digest
from syllabus.compile.template_code import NOT_DIRECT, Unsupported, attribute_values, compile_blocks, direct_read
from syllabus.errors import SyllabusError

BUILTIN = Path(__file__).parent / "templates"
_LEADING = re.compile(r"^(?:(?:a|an|the)\s+)?(?P<label>.+?)\s+(?:is|are|refers to|means)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateRef:
    name: str
    sha: str


def _first_upper(text: str) -> str:
    """Capitalise a sentence's first letter, except in a word like "pH" or "mRNA" (its second letter upper-case)."""
    return text if not text or text[1:2].isupper() else text[:1].upper() + text[1:]


def _first_lower(text: str) -> str:
    """Lower-case a sentence's first word unless it looks like a name or an acronym ("DNA", "Newton's")."""
    word = text.split(" ", 1)[0]
    plain = word in ("A", "An", "The") or (word[1:].isalpha() and word[1:].islower())
    return text[:1].lower() + text[1:] if plain else text


def join_and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def definiens(concept) -> str:
    """The definition without its definiendum, with the term itself masked (for 'which term is...')."""
    return _definiens(concept.label, tuple(concept.alt_labels), concept.definition or "")


@functools.lru_cache(maxsize=4096)
def _definiens(label: str, alt_labels: tuple[str, ...], text: str) -> str:
    m = _LEADING.match(text)
    if m and m.group("label").casefold() in {label.casefold(), *(a.casefold() for a in alt_labels)}:
        text = text[m.end():]
    for name in sorted((label, *alt_labels), key=len, reverse=True):
        text = _mask(text, name)
    text = _first_upper(text.strip())
    return text if text.endswith((".", "?", "!")) else text + "."


def _mask(text: str, name: str, mask: str = "this term") -> str:
    """Replace whole-word, case-insensitive occurrences of *name* (no regex compiled per name)."""
    low, key = text.lower(), name.lower()
    if not key or key not in low:
        return text
    if len(low) != len(text):  # lower-casing changed lengths: let re handle the offsets
        return re.sub(rf"\b{re.escape(name)}\b", mask, text, flags=re.IGNORECASE)
    out, start = [], 0
    i = low.find(key)
    while i >= 0:
        end = i + len(key)
        before = low[i - 1] if i else " "
        after = low[end] if end < len(low) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            out.append(text[start:i])
            out.append(mask)
            start = end
        i = low.find(key, end if start == end else i + 1)
    out.append(text[start:])
    return "".join(out)


def define(concept) -> str:
    """A sentence defining the concept: the definition as written when it names the concept, else 'X is ...'."""
    return _define(concept.label, concept.definition or "")


@functools.lru_cache(maxsize=4096)  # a concept's tasks (and its relations' answers) define it again and again
def _define(label: str, definition: str) -> str:
    text = definition.strip()
    if not text.endswith((".", "?", "!")):
        text += "."
    m = _LEADING.match(text)
    if m and label.casefold() in m.group("label").casefold():
        return _first_upper(text)
    return f"{_first_upper(label)} is {_first_lower(text)}"


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a fast path for what renderers pass: dataclass fields and dict keys.

    Reading a declared (public) field of a dataclass instance, or a key of a plain dict that no dict
    attribute shadows, is what the sandbox itself allows after its checks; everything else goes
    through those checks as before. Per example the checks were a quarter of the template time.
    """

    def getattr(self, obj, attribute):
        value = direct_read(obj, attribute)
        return super().getattr(obj, attribute) if value is NOT_DIRECT else value


@jinja2.pass_context
def _map(context, value, *args, **kwargs):
    """Jinja's ``map``, with a fast path for ``map(attribute="name")`` over dataclasses that
    declare that public field: the values are those the sandbox's own lookup would give."""
    if not args and kwargs.keys() == {"attribute"} and isinstance(kwargs["attribute"], str) and value:
        value = list(value)
        values = attribute_values(value, kwargs["attribute"])
        if values is not None:
            return iter(values)
    return jinja2.filters.sync_do_map(context, value, *args, **kwargs)


class Templates:
    """The template set of a workspace: built-ins plus ``templates/`` overrides."""

    def __init__(self, workspace_dir: Path | None = None) -> None:
        self.dirs = [d for d in (workspace_dir, BUILTIN) if d is not None and d.is_dir()]
        self.env = _Sandbox(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]), undefined=jinja2.StrictUndefined,
            autoescape=False, trim_blocks=False, keep_trailing_newline=False)
        self.env.filters.update(join_and=join_and, define=define, definiens=definiens,
                                capitalize_first=_first_upper, lower_first=_first_lower, map=_map)
        self._variants: dict[str, list[TemplateRef]] = {}
        self._compiled: dict[str, jinja2.Template] = {}
        self._globals: dict[str, dict] = {}  # per template, its globals as one plain dict (read per example)
        self._code: dict[str, dict | None] = {}  # per template, its blocks compiled to Python, if it can be
        self._sha: dict[str, str] = {}
        self._system: dict[str, str] = {}

    def variants(self, task: str) -> list[TemplateRef]:
        """The phrasings of a task (``concept.definition``), sorted by name."""
        if task not in self._variants:
            folder = task.replace(".", "/")
            names = sorted({f"{folder}/{p.name}" for d in self.dirs for p in (d / folder).glob("*.j2")})
            self._variants[task] = [TemplateRef(n, self.sha(n)) for n in names]
        return self._variants[task]

    def tasks(self) -> list[str]:
        """Every task that has phrasings (``kind/task/*.j2`` folders), built-in or in the workspace."""
        return sorted({f"{p.parent.parent.name}.{p.parent.name}" for d in self.dirs for p in d.glob("*/*/*.j2")})

    def sha(self, name: str) -> str:
        if name not in self._sha:
            source, _, _ = self.env.loader.get_source(self.env, name)
            self._sha[name] = digest(source, 8)
        return self._sha[name]

    def render(self, name: str, context: dict, blocks: tuple[str, ...] = ("user", "assistant")) -> dict[str, str]:
        """The named blocks rendered with *context*; errors become E060 naming the template and line."""
        template = self._template(name)
        fast = self._code[name]
        if fast is not None:
            variables = {**self._globals[name], **context}
            try:
                return {block: _tidy(fast[block](variables)) for block in blocks}
            except Exception:  # noqa: BLE001 - a read it does not do itself, or any error: Jinja renders it
                pass
        try:
            # as template.new_context(context), without merging the globals' ChainMap each time
            ctx = new_context(self.env, template.name, template.blocks, context, globals=self._globals[name])
            out = {}
            for block in blocks:
                fn = template.blocks.get(block)
                if fn is None:
                    raise SyllabusError("E060", template=name, where="", detail=f"no `{block}` block")
                out[block] = _tidy("".join(fn(ctx)))
            return out
        except SyllabusError:
            raise
        except Exception as exc:  # undefined variables, sandbox violations, filter errors
            raise SyllabusError("E060", template=self._path(name), where=_line(exc, template),
                                detail=f"{type(exc).__name__}: {exc}") from exc

    def system(self, discipline: str) -> str:
        """The system message for a discipline (rendered once)."""
        if discipline not in self._system:
            self._system[discipline] = self.render_text("system.j2", {"discipline": discipline})
        return self._system[discipline]

    def render_text(self, name: str, context: dict) -> str:
        template = self._template(name)
        try:
            return _tidy(template.render(context))
        except Exception as exc:
            raise SyllabusError("E060", template=self._path(name), where=_line(exc, template),
                                detail=f"{type(exc).__name__}: {exc}") from exc

    def _template(self, name: str) -> jinja2.Template:
        if name not in self._compiled:
            try:
                self._compiled[name] = self.env.get_template(name)
                self._globals[name] = dict(self._compiled[name].globals)
                self._code[name] = self._compile_code(name)
            except jinja2.TemplateSyntaxError as exc:
                raise SyllabusError("E060", template=self._path(name), where=f":{exc.lineno}",
                                    detail=f"syntax error: {exc.message}") from exc
            except jinja2.TemplateNotFound as exc:
                raise SyllabusError("E060", template=name, where="", detail="no such template") from exc
        return self._compiled[name]

    def _compile_code(self, name: str) -> dict | None:
        """The template's blocks as Python functions (see :mod:`template_code`), or None: Jinja alone."""
        source, _, _ = self.env.loader.get_source(self.env, name)
        try:
            return compile_blocks(self.env.parse(source), self.env.filters)
        except Unsupported:
            return None

    def _path(self, name: str) -> str:
        for d in self.dirs:
            if (d / name).is_file():
                return str(d / name)
        return name


def _line(exc: BaseException, template: jinja2.Template) -> str:
    """The template line of the innermost frame running the template's compiled code."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == template.filename:
            return f":{template.get_corresponding_lineno(frame.lineno)}"
    return ""


_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")  # where str.splitlines splits


def _tidy(text: str) -> str:
    """The text stripped, and each of its lines stripped at the end."""
    text = text.strip()
    if _LINE_BREAK.search(text) is None:  # one line (most answers): stripping it was all
        return text
    return "\n".join(line.rstrip() for line in text.splitlines())
