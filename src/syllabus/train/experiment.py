"""The repair-efficacy experiment: does diagnosis-driven repair data beat the same amount of random data?

On a scratch copy of the workspace (the user's store and builds are never touched):

* V0 = the base model, scored on the **test** split;
* per seed: V1 = base trained on the latest build's examples (patch examples of earlier repairs left
  out); V1 scored on **dev**, diagnosed, repaired with budget N and recompiled (the targeted patch:
  the new build's new patch examples);
* the control: in a second copy, the same number of gaps of each kind on units drawn at random
  (concepts with a definition, asserted relations, bench chains with train siblings; concept gaps get
  random same-discipline labels as the "chosen" distractors), rendered by the same patch renderers
  with the same per-gap example counts, trimmed to the targeted patch's size;
* V2 = base trained on V1's data + the targeted patch; V2-random = base trained on V1's data + the
  random patch; V1, V2 and V2-random scored on the same test items, which diagnosis never saw.

Every step is idempotent (trained models and recorded runs are reused), so an interrupted experiment
continues where it stopped. :mod:`syllabus.train.report` turns the results into Markdown, JSON and PNG.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select, update

from syllabus.errors import SyllabusError
from syllabus.fileio import write_atomic
from syllabus.vocabulary import FAMILY_OF_KIND


@dataclass
class ExperimentOptions:
    model: str | None = None  # base model (default: smollm2 when installed, else tiny)
    budget: int = 100
    max_gaps: int | None = None  # repair only the N best-scored gaps (a larger dose per gap)
    seeds: int = 3
    out: str = "benchmarks/results/repair-efficacy"
    dev_items: int | None = None  # diagnose on the first N dev items (by id)
    test_items: int | None = None  # evaluate on the first N test items (by id)
    train_limit: int | None = None  # a fixed sample of N build examples as V1's data (same for every seed)
    method: str = "lora"
    epochs: float = 1.0
    lr: float | None = None
    max_length: int = 256
    batch_size: int = 8
    lora_layers: int | None = None
    max_steps: int | None = None
    threads: int | None = None
    device: str | None = None
    score_batch: int = 16


Note = Callable[[str], None]


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _copy_workspace(ws, dest: Path) -> None:
    """syllabus.toml, templates, the SQLite store, the latest build and the model cache (linked)."""
    from syllabus.bench.models import models_dir
    from syllabus.compile.pipeline import build_root

    url = ws.store_url
    if not url.startswith("sqlite:///"):
        raise SyllabusError("E094", what="a SQLite store", detail=f"the store is {url.split(':', 1)[0]}",
                            remedy="Run the experiment on a workspace whose [store] url is sqlite:///...")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / ".syllabus").mkdir(parents=True)
    shutil.copy2(ws.root / "syllabus.toml", tmp / "syllabus.toml")
    text = (tmp / "syllabus.toml").read_text(encoding="utf-8")
    store = Path(url[len("sqlite:///"):])
    store = store if store.is_absolute() else ws.root / store
    shutil.copy2(store, tmp / ".syllabus" / "store.db")
    cfg = ws.config
    if (ws.root / cfg.compile.templates).is_dir():  # workspace template overrides render the patches too
        shutil.copytree(ws.root / cfg.compile.templates, tmp / cfg.compile.templates)
    root = build_root(ws)
    latest = (root / "latest").resolve()
    (tmp / "build").mkdir()
    shutil.copytree(latest, tmp / "build" / latest.name)
    (tmp / "build" / "latest").symlink_to(latest.name)
    models_dir(ws.root).mkdir(parents=True, exist_ok=True)
    (tmp / ".syllabus" / "models").symlink_to(models_dir(ws.root).resolve())
    # the copy keeps its own store and builds, whatever the original's settings say
    extra = '\n[store]\nurl = "sqlite:///.syllabus/store.db"\n' if "[store]" not in text else ""
    text = _rewrite_store(text) + extra
    text = text.replace(f'build_dir = "{cfg.compile.build_dir}"', 'build_dir = "build"')
    (tmp / "syllabus.toml").write_text(text, encoding="utf-8")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(dest)


def _rewrite_store(text: str) -> str:
    out, in_store = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            in_store = stripped == "[store]"
        if in_store and stripped.startswith("url"):
            line = 'url = "sqlite:///.syllabus/store.db"'
        out.append(line)
    return "\n".join(out) + "\n"


def _load(path: Path):
    from syllabus.config import load_workspace

    return load_workspace(path)


@contextmanager
def _session(ws):
    """One transaction on the workspace's store, closed afterwards."""
    from syllabus.store import open_store

    st = open_store(ws.store_url)
    try:
        with st.transaction() as session:
            yield session
    finally:
        st.close()


class Experiment:
    def __init__(self, ws, opts: ExperimentOptions, note: Note | None = None) -> None:
        from syllabus.bench import models

        self.ws = ws
        self.opts = opts
        self.note = note or (lambda _m: None)
        self.model = opts.model or models.default_model()
        self.out = Path(opts.out) if Path(opts.out).is_absolute() else ws.root / opts.out
        self.work = self.out / "work"
        self.build = "latest"  # V1's build: the workspace's latest when the experiment starts (set by prepare)

    # ------------------------------------------------------------------ steps

    def prepare(self):
        """The scratch base workspace: the user's latest build and items (built when missing)."""
        from syllabus.bench.items import Settings, build_items
        from syllabus.compile.output import build_folder
        from syllabus.compile.pipeline import build_root
        from syllabus.store.tables import Item

        build_folder(build_root(self.ws), None)  # E070 when there is no build yet
        self._check_options()
        base = self.work / "base"
        if not base.exists():
            _copy_workspace(self.ws, base)
        wsb = _load(base)
        self.build = (base / "build" / "latest").resolve().name
        with _session(wsb) as session:
            if session.scalar(select(Item.id).where(Item.source == "generated").limit(1)) is None:
                self.note("bench build (the workspace has no generated items)")
                build_items(session, wsb, wsb.discipline_names(),
                            Settings.from_workspace(wsb, 4, wsb.config.compile.seed))
        return wsb

    def _check_options(self) -> None:
        """A work folder belongs to one configuration (more seeds may be added later); E094 otherwise."""
        free = ("seeds", "threads", "device", "score_batch", "out")
        mine = {k: v for k, v in asdict(self.opts).items() if k not in free}
        marker = self.work / "options.json"
        if marker.is_file():
            theirs = json.loads(marker.read_text(encoding="utf-8"))
            changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            if changed:
                raise SyllabusError("E094", what=f"its own --out folder for new options ({', '.join(changed)})",
                                    detail=f"{self.work} was made with other values",
                                    remedy="Pass another --out, or delete that folder to start again.")
            return
        self.work.mkdir(parents=True, exist_ok=True)
        _write_json(marker, mine)

    def copy(self, name: str):
        dest = self.work / name
        if not dest.exists():
            src = _load(self.work / "base")
            _copy_workspace(src, dest)
        return _load(dest)

    def train(self, ws, name: str, seed: int, patches: list[Path]) -> dict[str, Any]:
        from syllabus.train.trainer import TrainOptions, train

        o = self.opts
        opts = TrainOptions(base=self.model, out=str(self.work / "models" / name), build=self.build, method=o.method,
                            epochs=o.epochs, lr=o.lr, max_length=o.max_length, seed=seed, batch_size=o.batch_size,
                            max_steps=o.max_steps, patches=[str(p) for p in patches], limit=o.train_limit,
                            data_seed=0, lora_layers=o.lora_layers, device=o.device, threads=o.threads,
                            base_examples_only=True, save_steps=10_000)
        self.note(f"train {name} (seed {seed}, {len(patches)} patch file(s))")
        report = train(ws, opts)
        self.note(f"  {name}: {report['steps']} steps, loss {report['first_loss']} -> {report['last_loss']}, "
                  f"{report['seconds']} s" + (" (reused)" if report.get("up_to_date") else ""))
        return report

    def score(self, ws, model: str, run: str, split: str) -> dict[str, Any]:
        """Accuracy of run *run*, read from the store (scored first when it is not there yet)."""
        from syllabus.bench.runs import RunOptions, accuracy, run_bench
        from syllabus.store.tables import Run

        with _session(ws) as session:
            recorded = session.get(Run, run) is not None
        if not recorded:
            limit = self.opts.dev_items if split == "dev" else self.opts.test_items
            self.note(f"score {run} on {limit or 'all'} {split} items")
            report = run_bench(ws, RunOptions(model=model, split=split, limit=limit, run=run,
                                              batch_size=self.opts.score_batch, device=self.opts.device,
                                              threads=self.opts.threads))
            self.note(f"  {run}: {report['correct']}/{report['items']} ({report['throughput']['seconds']:.0f} s)")
        with _session(ws) as session:
            return accuracy(session, run)

    def repair(self, ws, run: str) -> tuple[list[dict], list[dict]]:
        """Diagnose *run*, repair its gaps with the budget, compile; (allocations, new patch examples)."""
        from syllabus.debug.diagnose import diagnose
        from syllabus.workflows.repair import repair_and_compile

        cached = self.work / f"{run}.repair.json"
        if cached.is_file():
            data = json.loads(cached.read_text(encoding="utf-8"))
            return data["allocations"], data["patch"]
        with _session(ws) as session:
            diagnose(session, run)
        before = _example_ids(ws)
        outcome = repair_and_compile(ws, run=run, budget=self.opts.budget, max_gaps=self.opts.max_gaps)
        allocations = [a for a in outcome.prepared.to_dict()["allocations"] if a["examples"] > 0]
        patch = _new_patches(ws, before)
        _write_json(cached, {"allocations": allocations, "patch": patch})
        return allocations, patch

    def random_patch(self, ws, seed: int, allocations: list[dict], size: int) -> tuple[list[dict], list[dict]]:
        """The control: as many gaps of each kind, on random units, with the same example counts."""
        from syllabus.compile.pipeline import build_root, run_compile
        from syllabus.debug.repair import plan_repair
        from syllabus.debug.unit_keys import fill_gap_concepts
        from syllabus.store.tables import Gap, Run

        cached = self.work / f"random-seed{seed}.repair.json"
        if cached.is_file():
            data = json.loads(cached.read_text(encoding="utf-8"))
            return data["allocations"], data["patch"]
        run_id = f"random-control-seed{seed}"
        made: list[dict] = []

        def prepare(session):
            from syllabus.bench.runs import now_iso

            session.add(Run(id=run_id, model="(none: random control)", backend="control", params="{}", split="dev",
                            started=now_iso(), seconds=0.0))
            session.flush()
            picks = _random_units(session, allocations, seed)
            rows = []
            for alloc, (unit, discipline, detail) in zip(allocations, picks):
                if unit is None:
                    continue
                gid = "rnd-" + _h(f"{seed}|{alloc['gap']}|{unit}")[:16]
                session.add(Gap(id=gid, run_id=run_id, kind=alloc["kind"], unit=unit, discipline=discipline,
                                score=alloc["score"], items="[]", detail=json.dumps(detail, sort_keys=True),
                                status="open"))
                session.flush()
                gap = session.execute(select(Gap.__table__).where(Gap.id == gid)).first()
                plan = plan_repair(session, [gap], alloc["examples"], seed=seed)
                if detail.get("random_chosen"):  # stands in for the distractors a model chose
                    stored = json.loads(session.scalar(select(Gap.detail).where(Gap.id == gid)))
                    stored["repair"]["chosen"] = detail["random_chosen"]
                    session.execute(update(Gap).where(Gap.id == gid).values(detail=json.dumps(stored, sort_keys=True)))
                made.extend(a.to_dict() for a in plan.allocations)
                rows.append(gid)
            fill_gap_concepts(session, run_id)  # once for the run, as diagnose does
            return rows

        before = _example_ids(ws)
        run_compile(ws, root=build_root(ws), prepare=prepare)
        patch = _new_patches(ws, before)
        patch = sorted(patch, key=lambda ex: _h(f"{seed}|{ex['id']}"))[:size]
        _write_json(cached, {"allocations": made, "patch": patch})
        return made, patch

    # ------------------------------------------------------------------ the whole run

    def run(self) -> dict[str, Any]:
        from syllabus.train.report import touched_items, write_report

        base = self.prepare()
        results: dict[str, Any] = {"V0": self.score(base, self.model, "v0-test", "test"), "seeds": []}
        test_units = _test_item_units(base, self.opts.test_items)
        for seed in range(self.opts.seeds):
            ws = self.copy(f"seed{seed}")
            v1 = self.train(ws, f"v1-seed{seed}", seed, [])
            v1_path = v1["out"]
            self.score(ws, v1_path, f"v1-seed{seed}-dev", "dev")
            allocations, patch = self.repair(ws, f"v1-seed{seed}-dev")
            if not patch:
                raise SyllabusError("E094", what="patch examples", detail=f"the repair of seed {seed} rendered none",
                                    remedy="Raise --budget or --dev-items so that diagnosis finds repairable gaps.")
            wr = self.copy(f"seed{seed}-random")
            random_alloc, random = self.random_patch(wr, seed, allocations, len(patch))
            patch_file = _write_jsonl(self.work / f"patch-seed{seed}.jsonl", patch)
            random_file = _write_jsonl(self.work / f"random-seed{seed}.jsonl", random)
            v2 = self.train(ws, f"v2-seed{seed}", seed, [patch_file])
            v2r = self.train(ws, f"v2-random-seed{seed}", seed, [random_file])
            scores = {arm: self.score(ws, path, f"{arm.lower()}-seed{seed}-test", "test")
                      for arm, path in (("V1", v1_path), ("V2", v2["out"]), ("V2-random", v2r["out"]))}
            repaired = sorted({u for a in allocations for u in _taught_units(a)}
                              | {u for ex in patch for u in ex["units"] if not u.startswith("gap:")})
            results["seeds"].append({
                "seed": seed, "allocations": allocations, "random_allocations": random_alloc,
                "patch_examples": len(patch), "random_examples": len(random), "repaired_units": repaired,
                "touched_test_items": touched_items(test_units, repaired),
                "per_item": {arm: _per_item(ws, f"{arm.lower()}-seed{seed}-test") for arm in scores},
                "training": {name: _training_summary(r) for name, r in (("V1", v1), ("V2", v2), ("V2-random", v2r))},
                "accuracy": scores})
        results["V0_per_item"] = _per_item(base, "v0-test")
        scoring = _run_seconds(base, ["v0-test"]) + sum(
            _run_seconds(_load(self.work / f"seed{s['seed']}"), [f"v1-seed{s['seed']}-dev"] +
                         [f"{arm.lower()}-seed{s['seed']}-test" for arm in s["per_item"]]) for s in results["seeds"])
        training = sum(t["seconds"] or 0 for s in results["seeds"] for t in s["training"].values())
        results["test_items"] = {i: {"level": lv, "discipline": d} for i, (lv, d, _u) in test_units.items()}
        meta = {"model": self.model, "options": asdict(self.opts), "training_seconds": round(training, 1),
                "scoring_seconds": round(scoring, 1), "workspace": str(self.ws.root)}
        return write_report(self.out, meta, results)


def _training_summary(report: dict) -> dict:
    keep = ("steps", "first_loss", "last_loss", "train_loss", "seconds", "device", "method", "trainable_parameters")
    data = report["data"]
    return {**{k: report.get(k) for k in keep}, "examples": data["examples"], "build_examples": data["build_examples"],
            "patch_examples": data["patch_examples"], "skipped_no_answer": data["skipped_no_answer"]}


def _taught_units(allocation: dict) -> list[str]:
    unit = allocation["unit"]
    if unit.startswith("pair:"):
        a, b = unit.split(":", 1)[1].split("|", 1)
        return [f"concept:{a}", f"concept:{b}"]
    return [unit]


def _random_units(session, allocations: list[dict], seed: int) -> list[tuple[str | None, str, dict]]:
    """A random unit of each allocation's kind (never one of the targeted units), deterministic by seed."""
    from syllabus.store.tables import Chain, Concept, Label, Relation

    targeted = {u for a in allocations for u in _taught_units(a)}
    concepts = [(f"concept:{c}", d) for c, d in session.execute(
        select(Concept.id, Concept.discipline).where(Concept.definition.is_not(None), Concept.status == "active"))]
    relations = [(f"relation:{r}", d) for r, d in session.execute(
        select(Relation.id, Relation.discipline).where(Relation.status == "asserted"))]
    train_keys = {(d, r, p) for d, r, p in session.execute(
        select(Chain.discipline, Chain.rule, Chain.predicate).where(Chain.split == "train"))}
    chains = [(f"chain:{h}", d) for h, d, r, p in session.execute(
        select(Chain.id, Chain.discipline, Chain.rule, Chain.predicate).where(Chain.split == "bench"))
        if (d, r, p) in train_keys]
    labels: dict[str, list[str]] = {}
    for disc, text in session.execute(select(Concept.discipline, Label.text).join(Label, Label.concept_id == Concept.id)
                                      .where(Label.kind == "pref")):
        labels.setdefault(disc, []).append(text)
    pools = {"concept": concepts, "relation": relations, "chain": chains}
    used: set[str] = set()
    picks = []
    for a in allocations:
        kind = a["kind"]
        if kind == "missing_edge":  # renders nothing until a proposal is accepted, in either arm
            picks.append((None, "", {}))
            continue
        family = FAMILY_OF_KIND.get(kind) or a["unit"].split(":", 1)[0]
        pool = sorted((u for u in pools.get(family, []) if u[0] not in targeted and u[0] not in used),
                      key=lambda u: _h(f"{seed}|{a['gap']}|{u[0]}"))
        if not pool:
            picks.append((None, "", {}))
            continue
        unit, disc = pool[0]
        used.add(unit)
        detail: dict = {"control": "random unit"}
        if family == "concept":  # concept gaps correct a "chosen" distractor: random same-discipline labels
            detail["random_chosen"] = sorted(labels.get(disc, []), key=lambda t: _h(f"{seed}|{unit}|{t}"))[:3]
        picks.append((unit, disc, detail))
    return picks


def _example_ids(ws) -> set[str]:
    from syllabus.compile.exporters import read_examples
    from syllabus.compile.output import build_folder
    from syllabus.compile.pipeline import build_root

    return {ex["id"] for ex in read_examples(build_folder(build_root(ws), None))}


def _new_patches(ws, before: set[str]) -> list[dict]:
    from syllabus.compile.exporters import read_examples
    from syllabus.compile.output import build_folder
    from syllabus.compile.pipeline import build_root
    from syllabus.train.data import is_patch

    examples = read_examples(build_folder(build_root(ws), None))
    return [ex for ex in examples if is_patch(ex) and ex["id"] not in before]


def _test_item_units(ws, limit: int | None) -> dict[str, tuple[str, str, list[str]]]:
    from syllabus.bench.runs import select_items
    from syllabus.store.tables import ItemUnit

    with _session(ws) as session:
        chosen = select_items(session, split="test", limit=limit)
        units: dict[str, list[str]] = {s.item.id: [] for s in chosen}
        for item, unit in session.execute(select(ItemUnit.item_id, ItemUnit.unit)
                                          .where(ItemUnit.item_id.in_(list(units)))):
            units[item].append(unit)
        return {s.item.id: (s.level, s.discipline, sorted(units[s.item.id])) for s in chosen}


def _run_seconds(ws, runs: list[str]) -> float:
    from syllabus.store.tables import Run

    with _session(ws) as session:
        return float(sum(session.scalars(select(Run.seconds).where(Run.id.in_(runs)))))


def _per_item(ws, run: str) -> dict[str, int]:
    from syllabus.store.tables import Result

    with _session(ws) as session:
        return {i: int(c) for i, c in session.execute(select(Result.item_id, Result.correct)
                                                      .where(Result.run_id == run))}


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_jsonl(path: Path, examples: list[dict]) -> Path:
    write_atomic(path, "".join(json.dumps(ex, sort_keys=True, ensure_ascii=False) + "\n" for ex in examples))
    return path


def run_experiment(ws, opts: ExperimentOptions, note: Note | None = None) -> dict[str, Any]:
    """Run (or continue) the experiment and write its report under ``opts.out``; returns the summary."""
    return Experiment(ws, opts, note).run()

