"""Edits of ``syllabus.toml`` that keep its comments and order (tomlkit): declaring a discipline.

:func:`add_discipline_text` is pure (text in, text out) and checks the result the way loading
does, so a bad name, prefix or IRI never reaches the file; :func:`add_discipline` writes it with
a write-then-rename.
"""
from __future__ import annotations

import re
from pathlib import Path

import tomlkit
from pydantic import ValidationError
from tomlkit.exceptions import TOMLKitError

from syllabus.config import CONFIG_NAME, DEFAULT_CONFIG, DEFAULT_STORE_URL, DisciplineConfig, Workspace, parse_config
from syllabus.errors import SyllabusError
from syllabus.fileio import write_atomic

EXPECTED = {"name": "a lower-case name of letters, digits, '_' or '-' starting with a letter, such as `go`",
            "prefix": "a CURIE prefix of letters, digits, '_', '.' or '-' starting with a letter, such as `GO`",
            "iri": "an absolute IRI such as `http://purl.obolibrary.org/obo/GO_`"}


def default_iri(name: str, prefix: str, ontologies: list[str]) -> str:
    """The IRI namespace a new discipline gets when none is given: OBO PURLs for OBO files."""
    if any(p.lower().endswith(".obo") for p in ontologies):
        return f"http://purl.obolibrary.org/obo/{prefix}_"
    return f"https://w3id.org/syllabus/{name}/"


def add_discipline_text(text: str, file: str, *, name: str, prefix: str, iri: str | None = None,
                        ontologies: list[str] = (), corpora: list[str] = ()) -> str:
    """*text* (a syllabus.toml) with one more ``[[disciplines]]`` table at the end of that array."""
    ontologies, corpora = list(ontologies), list(corpora)
    iri = iri or default_iri(name, prefix, ontologies)
    try:
        DisciplineConfig(name=name, prefix=prefix, iri=iri, ontologies=ontologies, corpora=corpora)
    except ValidationError as exc:
        err = exc.errors()[0]
        what = str(err["loc"][0])
        raise SyllabusError("E173", what=what, value={"name": name, "prefix": prefix, "iri": iri}.get(what, ""),
                            detail=err["msg"].removeprefix("Value error, "), expected=EXPECTED.get(what, "")) from exc
    config = parse_config(text.encode("utf-8"), file)  # E002/E003 for a file that is already broken
    for d in config.disciplines:
        for what, value in (("name", name), ("prefix", prefix)):
            if getattr(d, what) == value:
                raise SyllabusError("E172", file=file, what=what, value=value,
                                    owner="" if what == "name" else f" by discipline `{d.name}`")
    try:
        doc = tomlkit.parse(text)
        table = tomlkit.table()
        for key, value in (("name", name), ("prefix", prefix), ("iri", iri)):
            table.add(key, value)
        for key, values in (("ontologies", ontologies), ("corpora", corpora)):
            arr = tomlkit.array()
            arr.extend(values)
            table.add(key, arr)
        if "disciplines" in doc:
            existing = doc["disciplines"]
            if not isinstance(existing, tomlkit.items.AoT):
                raise SyllabusError("E174", file=file, detail="`disciplines` is not an array of tables ([[disciplines]])")
            existing.append(table)
        else:
            aot = tomlkit.aot()
            aot.append(table)
            doc.append("disciplines", aot)
        out = tomlkit.dumps(doc)
        out += "" if out.endswith("\n") else "\n"
    except TOMLKitError as exc:
        raise SyllabusError("E174", file=file, detail=str(exc)) from exc
    parse_config(out.encode("utf-8"), file)
    return out


def extend_discipline_text(text: str, file: str, *, name: str, ontologies: list[str] = (),
                           corpora: list[str] = ()) -> str:
    """*text* with *ontologies* and *corpora* added (once each, in order) to discipline *name*'s lists."""
    config = parse_config(text.encode("utf-8"), file)
    names = [d.name for d in config.disciplines]
    if name not in names:
        from syllabus.config import add_discipline_command

        raise SyllabusError("E004", name=name, known=", ".join(names) or "(none declared)",
                            command=add_discipline_command(name))
    try:
        doc = tomlkit.parse(text)
        table = doc["disciplines"][names.index(name)]
        for key, values in (("ontologies", ontologies), ("corpora", corpora)):
            if not values:
                continue
            if key not in table:
                table.add(key, tomlkit.array())
            for v in values:
                if v not in table[key]:
                    table[key].append(v)
        out = tomlkit.dumps(doc)
    except (TOMLKitError, TypeError, KeyError) as exc:
        raise SyllabusError("E174", file=file, detail=str(exc)) from exc
    parse_config(out.encode("utf-8"), file)
    return out


def extend_discipline(ws: Workspace, *, name: str, ontologies: list[str] = (), corpora: list[str] = ()) -> dict:
    """Add ontology files and corpus folders to a declared discipline in syllabus.toml."""
    path = ws.root / CONFIG_NAME
    text = extend_discipline_text(path.read_text(encoding="utf-8"), str(path), name=name,
                                  ontologies=[workspace_path(ws.root, p) for p in ontologies],
                                  corpora=[workspace_path(ws.root, p) for p in corpora])
    write_atomic(path, text)
    entry = next(d for d in parse_config(text.encode("utf-8"), str(path)).disciplines if d.name == name)
    return {"file": str(path), **entry.model_dump()}


def workspace_path(ws_root: Path, given: str) -> str:
    """A path as the workspace should hold it: relative to the workspace when it lies inside."""
    p = Path(given).expanduser()
    if not p.is_absolute():
        cwd_p = Path.cwd() / p
        p = cwd_p if cwd_p.exists() and not (ws_root / p).exists() else ws_root / p
    p = p.resolve()
    try:
        return p.relative_to(ws_root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def add_discipline(ws: Workspace, *, name: str, prefix: str, iri: str | None = None, ontologies: list[str] = (),
                   corpora: list[str] = ()) -> dict:
    """Declare a discipline in the workspace's syllabus.toml; returns what was written."""
    path = ws.root / CONFIG_NAME
    onto = [workspace_path(ws.root, p) for p in ontologies]
    corp = [workspace_path(ws.root, p) for p in corpora]
    text = add_discipline_text(path.read_text(encoding="utf-8"), str(path), name=name, prefix=prefix, iri=iri,
                               ontologies=onto, corpora=corp)
    write_atomic(path, text)
    entry = parse_config(text.encode("utf-8"), str(path)).disciplines[-1]
    return {"file": str(path), **entry.model_dump()}


def guess_prefix(name: str, file: Path | None) -> str:
    """A prefix to suggest for a new discipline: an OBO file's own id space, else the name."""
    if file is not None and file.suffix.lower() == ".obo" and file.is_file():
        try:
            with open(file, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh):
                    m = re.match(r"id:\s*([A-Za-z][A-Za-z0-9_.-]*):", line)
                    if m:
                        return m.group(1)
                    if n > 20000:
                        break
        except OSError:
            pass
    return name


def init_workspace(path: str | Path, discipline: dict | None = None) -> Path:
    """Scaffold a workspace: ``syllabus.toml``, ``ontologies/``, ``corpora/``; with *discipline*
    (name, prefix, iri) also declared in it (checked before anything is created)."""
    root = Path(path).expanduser().resolve()
    if (root / CONFIG_NAME).exists():
        raise SyllabusError("E005", path=str(root), detail="syllabus.toml already exists")
    if root.exists() and not root.is_dir():
        raise SyllabusError("E005", path=str(root), detail="it is a file")
    text = DEFAULT_CONFIG.format(url=DEFAULT_STORE_URL)
    if discipline:
        text = add_discipline_text(text, str(root / CONFIG_NAME), name=discipline["name"],
                                   prefix=discipline["prefix"], iri=discipline.get("iri"))
    try:
        for sub in ("ontologies", "corpora"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        tmp = root / (CONFIG_NAME + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(root / CONFIG_NAME)
    except OSError as exc:
        raise SyllabusError("E005", path=str(root), detail=exc.strerror or str(exc)) from exc
    return root
