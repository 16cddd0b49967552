"""Runs and their results: choosing items to score, recording a run, accuracy, importing predictions.

Result.scores holds a JSON list with one object per choice (``logprob``: summed log-probability,
``tokens``, ``score``: the normalised value the prediction maximised, ``greedy``) for the
transformers backend, ``[{"logprob": ...}, ...]`` for lm-eval imports, and null otherwise.
A prediction of -1 means no answer could be read (an unparseable chat reply); it counts as wrong.

Results files for :func:`import_results`, one JSON object per line (blank lines are skipped):

* simple: ``{"item_id": "...", "prediction_index": 2}`` (``prediction`` as a letter is accepted too);
* lm-evaluation-harness ``samples_*.jsonl`` (``--log_samples``): a line with ``doc`` and
  ``filtered_resps`` (or ``resps``). The item is ``doc["item_id"]``, else ``doc["id"]`` as an item id,
  else ``doc["id"]`` as the ``external_id`` of an imported item (the id field of the original
  benchmark file). For multiple-choice tasks ``filtered_resps`` holds one ``[loglikelihood,
  is_greedy]`` per choice and the prediction is the arg-max of the log-likelihoods (lm-eval's
  ``acc``); for generative tasks it holds the reply text, read with the letter parser. Lines of a
  second ``filter`` (lm-eval logs one line per doc per filter) are skipped: the first filter wins.
  An integer ``target`` must equal the item's answer index (else the choices were in another order).

Nothing is written unless the whole file reads cleanly.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from syllabus.bench.scoring import LETTERS, NORMS, MCItem, Scored, Stats, parse_letter, pick
from syllabus.errors import SyllabusError, check_choice
from syllabus.store.tables import Item, Result, Run
from syllabus.vocabulary import ITEM_LEVELS as LEVELS
from syllabus.vocabulary import ITEM_SPLITS as SPLITS

BACKENDS = ("transformers", "openai")

SIMPLE_EXPECTED = '{"item_id": "...", "prediction_index": N} or an lm-evaluation-harness sample line'


@dataclass(frozen=True)
class Selected:
    item: MCItem
    discipline: str
    level: str


def select_items(session: Session, *, split: str | None = "dev", level: str | None = None,
                 disciplines: list[str] | None = None, limit: int | None = None) -> list[Selected]:
    """Non-leaked items in id order, filtered; E085 when none match."""
    query = select(Item.id, Item.question, Item.choices, Item.answer, Item.discipline, Item.level).where(
        Item.leak.is_(None))
    if split:
        query = query.where(Item.split == split)
    if level:
        query = query.where(Item.level == level)
    if disciplines:
        query = query.where(Item.discipline.in_(disciplines))
    query = query.order_by(Item.id)
    if limit:
        query = query.limit(limit)
    rows = [Selected(MCItem(r.id, r.question, json.loads(r.choices), r.answer), r.discipline, r.level)
            for r in session.execute(query)]
    if not rows:
        where = [f"split {split}" if split else "", f"level {level}" if level else "",
                 f"discipline {', '.join(disciplines)}" if disciplines else ""]
        where = [w for w in where if w]
        raise SyllabusError("E085", where=(" for " + ", ".join(where)) if where else "")
    return rows


def model_basename(model: str) -> str:
    name = Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-").lower() or "model"


def default_run_id(session: Session, model: str, split: str | None, n: int) -> str:
    """``<model-basename>-<split>-<n items>``, with ``-2``, ``-3``, ... when taken."""
    base = f"{model_basename(model)}-{split or 'all'}-{n}"
    taken = set(session.scalars(select(Run.id).where(Run.id.like(f"{base}%"))))
    if base not in taken:
        return base
    k = 2
    while f"{base}-{k}" in taken:
        k += 1
    return f"{base}-{k}"


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def record_run(session: Session, run_id: str, *, model: str, backend: str, params: dict[str, Any],
               split: str | None, started: str, seconds: float, items: list[MCItem], scored: list[Scored],
               replace: bool = False) -> None:
    """Write the run and one result per item (E087 when the id is taken and *replace* is off)."""
    if session.get(Run, run_id) is not None:
        if not replace:
            raise SyllabusError("E087", run=run_id)
        session.execute(delete(Result).where(Result.run_id == run_id))
        session.execute(delete(Run).where(Run.id == run_id))
        session.flush()
    session.add(Run(id=run_id, model=model, backend=backend, params=json.dumps(params, sort_keys=True),
                    split=split, started=started, seconds=round(seconds, 3)))
    session.flush()
    rows = [{"run_id": run_id, "item_id": it.id, "prediction": s.prediction, "correct": int(s.prediction == it.answer),
             "scores": None if s.scores is None else json.dumps(s.scores)} for it, s in zip(items, scored)]
    for i in range(0, len(rows), 1000):
        session.execute(insert(Result), rows[i:i + 1000])


def get_run(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise SyllabusError("E081", run=run_id)
    return run


def _acc(n: int, correct: int) -> dict[str, Any]:
    return {"items": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None}


def accuracy(session: Session, run_id: str) -> dict[str, Any]:
    """Accuracy of a recorded run, overall and per level and per discipline, read from the store."""
    get_run(session, run_id)
    rows = session.execute(
        select(Item.level, Item.discipline, func.count(), func.sum(Result.correct))
        .join(Item, Item.id == Result.item_id).where(Result.run_id == run_id)
        .group_by(Item.level, Item.discipline)).all()
    by_level: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_disc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for level, disc, n, correct in rows:
        for bucket in (by_level[level], by_disc[disc]):
            bucket[0] += n
            bucket[1] += int(correct or 0)
    n = sum(v[0] for v in by_level.values())
    correct = sum(v[1] for v in by_level.values())
    return {"run": run_id, **_acc(n, correct),
            "levels": {k: _acc(*v) for k, v in sorted(by_level.items())},
            "disciplines": {k: _acc(*v) for k, v in sorted(by_disc.items())}}


def list_runs(session: Session) -> list[dict[str, Any]]:
    """Every run with its item count and accuracy, oldest first."""
    counts = {r[0]: (r[1], int(r[2] or 0)) for r in session.execute(
        select(Result.run_id, func.count(), func.sum(Result.correct)).group_by(Result.run_id))}
    out = []
    for run in session.scalars(select(Run).order_by(Run.started, Run.id)):
        n, correct = counts.get(run.id, (0, 0))
        out.append({"run": run.id, "model": run.model, "backend": run.backend, "split": run.split,
                    "started": run.started, "seconds": run.seconds, **_acc(n, correct)})
    return out


def run_detail(session: Session, run_id: str) -> dict[str, Any]:
    run = get_run(session, run_id)
    return {**accuracy(session, run_id), "model": run.model, "backend": run.backend, "split": run.split,
            "started": run.started, "seconds": run.seconds, "params": json.loads(run.params or "{}")}


def throughput(stats: Stats) -> dict[str, Any]:
    return {"items": stats.items, "sequences": stats.sequences, "tokens": stats.tokens,
            "seconds": round(stats.seconds, 3), "items_per_s": round(stats.items_per_s, 2),
            "tokens_per_s": round(stats.tokens_per_s, 1), **stats.extra}


# ---------------------------------------------------------------- results import


@dataclass
class _Line:
    line: int
    key: str  # what names the item in the file
    by: str  # "id" | "id_or_external"
    prediction: int | None  # None: decide once the item's choices are known
    scores: list[dict[str, Any]] | None = None
    reply: str | None = None
    target: int | None = None  # lm-eval's gold index, checked against the item's answer


def _bad(file: str, line: int, detail: str) -> SyllabusError:
    return SyllabusError("E080", file=file, line=line, detail=detail, expected=SIMPLE_EXPECTED)


def parse_results_file(path: Path, display: str) -> tuple[str, list[_Line]]:
    """Read a results file into lines (no store access); E080 on the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _bad(display, 0, "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(display, 0, f"unreadable ({exc})") from exc
    out: list[_Line] = []
    formats: set[str] = set()
    first_filter: str | None = None
    seen: dict[str, int] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise _bad(display, no, f"not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise _bad(display, no, "not a JSON object")
        if "doc" in obj or "filtered_resps" in obj or "resps" in obj:
            if "filter" in obj:
                first_filter = obj["filter"] if first_filter is None else first_filter
                if obj["filter"] != first_filter:
                    continue
            entry = _lm_eval_line(obj, display, no)
            formats.add("lm-eval")
        else:
            entry = _simple_line(obj, display, no)
            formats.add("jsonl")
        if entry.key in seen:
            raise _bad(display, no, f"item `{entry.key}` already has a prediction on line {seen[entry.key]}")
        seen[entry.key] = no
        out.append(entry)
    if not out:
        raise _bad(display, 1, "the file holds no predictions")
    return ("+".join(sorted(formats))), out


def _simple_line(obj: dict, file: str, no: int) -> _Line:
    item = obj.get("item_id")
    if not isinstance(item, str) or not item:
        raise _bad(file, no, "missing `item_id` (a string)")
    if "prediction_index" in obj:
        pred = obj["prediction_index"]
        if isinstance(pred, bool) or not isinstance(pred, int):
            raise _bad(file, no, "`prediction_index` must be an integer")
        return _Line(no, item, "id", pred)
    letter = obj.get("prediction")
    if isinstance(letter, str) and len(letter.strip()) == 1 and letter.strip().upper() in LETTERS:
        return _Line(no, item, "id", LETTERS.index(letter.strip().upper()))
    raise _bad(file, no, "missing `prediction_index` (an integer)")


def _lm_eval_line(obj: dict, file: str, no: int) -> _Line:
    doc = obj.get("doc")
    if not isinstance(doc, dict):
        raise _bad(file, no, "lm-eval sample without a `doc` object (run lm_eval with --log_samples)")
    if isinstance(doc.get("item_id"), str):
        key, by = doc["item_id"], "id"
    elif isinstance(doc.get("id"), (str, int)) and not isinstance(doc.get("id"), bool):
        key, by = str(doc["id"]), "id_or_external"
    else:
        raise _bad(file, no, "the sample's `doc` has no `item_id` or `id` field to name the item")
    resps = obj.get("filtered_resps")
    if resps is None:  # `resps` nests one list per request: [[[ll, greedy]], ...]
        resps = [r[0] if isinstance(r, list) and len(r) == 1 else r for r in (obj.get("resps") or [])]
    if not isinstance(resps, list) or not resps:
        raise _bad(file, no, "the sample has no `filtered_resps`")
    if all(isinstance(r, list) and r and isinstance(r[0], (int, float)) and not isinstance(r[0], bool)
           for r in resps):
        lls = [float(r[0]) for r in resps]
        scores = [{"logprob": ll, **({"greedy": bool(r[1])} if len(r) > 1 else {})} for ll, r in zip(lls, resps)]
        return _Line(no, key, by, pick(lls), scores, target=_target(obj))
    reply = resps[0]
    while isinstance(reply, list) and reply:
        reply = reply[0]
    if isinstance(reply, str):
        return _Line(no, key, by, None, None, reply, target=_target(obj))
    raise _bad(file, no, "`filtered_resps` is neither per-choice [loglikelihood, is_greedy] pairs nor a reply")


def _target(obj: dict) -> int | None:
    target = obj.get("target")
    return target if isinstance(target, int) and not isinstance(target, bool) else None


def import_results(session: Session, path: Path, run_id: str, *, display: str, model: str | None = None,
                   replace: bool = False) -> dict[str, Any]:
    """Record predictions made elsewhere as run *run_id*; E080/E082/E087 leave the store untouched."""
    fmt, lines = parse_results_file(path, display)
    if session.get(Run, run_id) is not None and not replace:
        raise SyllabusError("E087", run=run_id)
    keys = sorted({ln.key for ln in lines})
    found: dict[str, Any] = {}
    external: dict[str, Any] = {}
    cols = (Item.id, Item.external_id, Item.choices, Item.answer, Item.split, Item.question)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for r in session.execute(select(*cols).where(Item.id.in_(chunk))):
            found[r.id] = r
        imported = select(*cols).where(Item.external_id.in_(chunk), Item.source == "imported").order_by(Item.id)
        for r in session.execute(imported):
            external.setdefault(r.external_id, r)
    items: list[MCItem] = []
    scored: list[Scored] = []
    splits: set[str] = set()
    taken: dict[str, int] = {}
    for ln in lines:
        row = found.get(ln.key) or (external.get(ln.key) if ln.by == "id_or_external" else None)
        if row is None:
            raise SyllabusError("E082", file=display, line=ln.line, item=ln.key)
        if row.id in taken:
            raise _bad(display, ln.line, f"item `{row.id}` already has a prediction on line {taken[row.id]}")
        taken[row.id] = ln.line
        choices = json.loads(row.choices)
        pred = ln.prediction
        if pred is None:
            found_letter = parse_letter(ln.reply, len(choices))
            pred = -1 if found_letter is None else found_letter
        elif not 0 <= pred < len(choices):
            raise _bad(display, ln.line, f"prediction {pred} is out of range for item `{row.id}` "
                                          f"({len(choices)} choices: 0..{len(choices) - 1})")
        if ln.target is not None and ln.target != row.answer:
            raise _bad(display, ln.line, f"the sample's target {ln.target} is not item `{row.id}`'s answer "
                                          f"{row.answer}: were its choices in another order?")
        if ln.scores is not None and len(ln.scores) != len(choices):
            raise _bad(display, ln.line, f"{len(ln.scores)} scores for item `{row.id}` with {len(choices)} choices")
        items.append(MCItem(row.id, row.question, choices, row.answer))
        scored.append(Scored(pred, ln.scores))
        splits.add(row.split)
    split = splits.pop() if len(splits) == 1 else None
    params = {"file": display, "format": fmt, "lines": len(lines)}
    record_run(session, run_id, model=model or "unknown", backend="import", params=params, split=split,
               started=now_iso(), seconds=0.0, items=items, scored=scored, replace=replace)
    session.flush()
    return {**accuracy(session, run_id), "format": fmt, "file": display}


# ---------------------------------------------------------------- bench run


@dataclass
class RunOptions:
    """What `syllabus bench run` takes (see the CLI for the meaning of each)."""

    model: str | None = None  # a checkpoint folder, `smollm2` or `tiny`; default: models.default_model()
    backend: str = "transformers"  # transformers | openai
    base_url: str | None = None
    api_key_env: str | None = None  # the variable holding the key (default: [llm] api_key_env)
    split: str | None = "dev"
    limit: int | None = None
    level: str | None = None
    disciplines: list[str] | None = None
    batch_size: int | None = None  # transformers: sequences per pass (16); openai: requests in flight ([llm])
    norm: str = "tokens"
    run: str | None = None
    replace: bool = False
    device: str | None = None
    threads: int | None = None  # torch CPU threads (default: torch's choice)

    def check(self) -> None:
        """E150 for a backend, split, level or norm this version does not know."""
        check_choice("--backend", self.backend, BACKENDS)
        check_choice("--split", self.split, SPLITS)
        check_choice("--level", self.level, LEVELS)
        check_choice("--norm", self.norm, NORMS)


def run_bench(ws, opts: RunOptions, note=None, progress=None) -> dict[str, Any]:
    """Score the selected items and record the run: read, score, then write everything in one transaction.

    Errors (E081-E087) are raised before anything is written. *note* receives progress lines.
    """
    from syllabus.bench import models
    from syllabus.bench.scoring import OpenAIScorer, TransformersScorer
    from syllabus.llm.client import LLMClient
    from syllabus.store import open_store

    opts.check()
    note = note or (lambda _msg: None)
    store = open_store(ws.store_url)
    try:
        with store.transaction() as session:
            selected = select_items(session, split=opts.split, level=opts.level, disciplines=opts.disciplines,
                                    limit=opts.limit)
            if opts.run and not opts.replace and session.get(Run, opts.run) is not None:
                raise SyllabusError("E087", run=opts.run)
            model_name = opts.model or (models.default_model() if opts.backend == "transformers"
                                        else ws.config.llm.model or "default")
            texts = None
            if opts.backend == "transformers" and model_name == models.TINY \
                    and not (models.models_dir(ws.root) / models.TINY / models.MANIFEST).is_file():
                texts = models.workspace_texts(session)
        items = [s.item for s in selected]
        client = None
        params: dict[str, Any] = {"split": opts.split, "limit": opts.limit, "level": opts.level,
                                  "disciplines": opts.disciplines}
        if opts.backend == "transformers":
            tick = time.perf_counter()
            path = models.resolve(model_name, ws.root, texts)  # converts or builds the model once
            prepare = time.perf_counter() - tick
            loaded = models.load(model_name, path, device=opts.device, threads=opts.threads)
            note(f"loaded {model_name} ({path}) on {loaded.device} in {loaded.load_seconds:.1f} s")
            scorer = TransformersScorer(loaded, batch_size=opts.batch_size or 16, norm=opts.norm)
            params.update(model_path=str(path), prepare_seconds=round(prepare, 2),
                          load_seconds=round(loaded.load_seconds, 2))
        elif opts.backend == "openai":
            client = LLMClient.from_workspace(ws, "syllabus bench run", base_url=opts.base_url, model=model_name,
                                              api_key_env=opts.api_key_env, max_concurrency=opts.batch_size)
            scorer = OpenAIScorer(client)
        else:  # unreachable: RunOptions.check refused it before anything was read
            raise SyllabusError("E150", option="--backend", value=opts.backend, known=", ".join(BACKENDS))
        params.update(scorer.params())
        note(f"scoring {len(items)} items with {opts.backend}")
        started = now_iso()
        done = [0]

        def scored_some(n: int) -> None:
            done[0] += n
            progress(done[0], len(items))

        try:
            scored, stats = scorer.score(items, progress=scored_some if progress else None)
        finally:
            if client is not None:
                client.close()
        params["throughput"] = throughput(stats)
        with store.transaction() as session:
            run_id = opts.run or default_run_id(session, model_name, opts.split, len(items))
            record_run(session, run_id, model=model_name, backend=opts.backend, params=params, split=opts.split,
                       started=started, seconds=stats.seconds, items=items, scored=scored, replace=opts.replace)
            session.flush()
            report = accuracy(session, run_id)
    finally:
        store.close()
    return {**report, "model": model_name, "backend": opts.backend, "split": opts.split,
            "throughput": throughput(stats), "params": params}
