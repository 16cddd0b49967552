"""Fine-tuning a causal LM on a build's examples: `syllabus train`.

The run is a transformers ``Trainer`` (AdamW, linear decay, seeded data order) over the examples of
:mod:`syllabus.train.data`, with LoRA adapters from PEFT (default) or all weights (``full``).
Everything happens in a hidden sibling of the output folder, ``.<out>.partial/``: checkpoints are
written there every ``save_steps`` optimizer steps, and a re-run of the same job resumes from the
newest one (a different job starts afresh). Only a finished model is moved to ``<out>``: adapters
merged into the weights, tokenizer and chat template saved, plus ``syllabus-model.json`` (base,
build, data, options, steps, losses, time) — so ``syllabus bench run --model <out>`` loads it as is.

Errors are coded and leave no output folder behind: E083 (base model), E070 (build), E091 (out of
memory), E092 (output exists for another job), E093 (no data / bad patch file).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from syllabus.errors import SyllabusError, check_choice
from syllabus.train import data as training_data

MANIFEST = "syllabus-model.json"
JOB = "job.json"
DEFAULT_LR = {"lora": 2e-4, "full": 5e-5}


@dataclass
class TrainOptions:
    """What `syllabus train` takes (see the CLI for each option's meaning)."""

    base: str
    out: str
    build: str = "latest"
    method: str = "lora"  # lora | full
    epochs: float = 1.0
    lr: float | None = None
    max_length: int = 256
    seed: int = 0
    batch_size: int = 8
    grad_accum: int = 1
    max_steps: int | None = None
    patches: list[str] = field(default_factory=list)
    replay_ratio: float | None = None
    limit: int | None = None
    save_steps: int = 50
    lora_r: int = 16
    lora_alpha: int = 32
    lora_layers: int | None = None  # adapters on the top N blocks only (cheaper backward on CPU)
    data_seed: int | None = None  # seed of the --limit sample (default: seed)
    base_examples_only: bool = False  # leave out the build's own patch examples (earlier repairs)
    device: str | None = None
    threads: int | None = None
    overwrite: bool = False

    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.method]

    def job_key(self) -> dict[str, Any]:
        """The options that change the trained weights (not where they go, nor threads)."""
        keep = ("method", "epochs", "max_length", "seed", "batch_size", "grad_accum", "max_steps", "lora_r",
                "lora_alpha", "lora_layers", "data_seed", "base_examples_only")
        return {**{k: getattr(self, k) for k in keep}, "lr": self.learning_rate()}


Progress = Callable[[dict[str, Any]], None]


def train(ws, opts: TrainOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Fine-tune ``opts.base`` on a build (plus patches) and save the model to ``opts.out``; returns a report."""
    from syllabus.bench import models
    from syllabus.compile.exporters import read_examples
    from syllabus.compile.output import build_folder
    from syllabus.compile.pipeline import build_root

    check_choice("training method (--lora or --full)", opts.method, tuple(DEFAULT_LR))
    build_dir = build_folder(build_root(ws), None if opts.build == "latest" else opts.build)
    build_examples = read_examples(build_dir)
    if opts.base_examples_only:
        build_examples = [ex for ex in build_examples if not training_data.is_patch(ex)]
    patches: list[dict] = []
    for source in opts.patches:
        patches += training_data.read_patch(_resolve(ws, source))
    examples, mix = training_data.assemble(build_examples, patches, replay_ratio=opts.replay_ratio,
                                           limit=opts.limit,
                                           seed=opts.seed if opts.data_seed is None else opts.data_seed)
    if not examples:
        raise SyllabusError("E093", source=str(build_dir), detail="no train-split examples to learn from")
    base_path = models.resolve(opts.base, ws.root, _tiny_texts(ws) if opts.base == models.TINY else None)
    out = _resolve(ws, opts.out)
    job = {"base": str(base_path), "base_config": _file_digest(base_path / "config.json"),
           "build": build_dir.name, "examples": training_data.examples_digest(examples), **opts.job_key()}
    job_id = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]
    if (out / MANIFEST).is_file():
        done = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if done.get("job_id") == job_id:
            return {**done, "up_to_date": True, "out": str(out)}
        if not opts.overwrite:
            raise SyllabusError("E092", out=str(out), job=done.get("job_id", "?"))
    elif out.exists() and any(out.iterdir()) and not opts.overwrite:
        raise SyllabusError("E092", out=str(out), job="(not a Syllabus model)")
    partial = out.parent / f".{out.name}.partial"
    report = _run(opts, base_path, examples, mix, job, job_id, partial, progress)
    report.update(build=build_dir.name, base=opts.base, base_path=str(base_path))
    _publish(partial / "final", out, report)
    shutil.rmtree(partial, ignore_errors=True)
    return {**report, "up_to_date": False, "out": str(out)}


def _resolve(ws, path: str) -> Path:
    p = Path(path).expanduser()
    return (p if p.is_absolute() else ws.root / p).resolve()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def _tiny_texts(ws) -> list[str] | None:
    from syllabus.bench import models
    from syllabus.store import open_store

    if (models.models_dir(ws.root) / models.TINY / models.MANIFEST).is_file():
        return None
    st = open_store(ws.store_url)
    try:
        with st.transaction() as session:
            return models.workspace_texts(session)
    finally:
        st.close()


def _prepare_partial(partial: Path, job: dict, job_id: str) -> Path | None:
    """The newest checkpoint to resume from (None: start afresh, clearing another job's leftovers)."""
    marker = partial / JOB
    if partial.exists():
        same = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("job_id") == job_id
        if not same:
            shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        marker.write_text(json.dumps({"job_id": job_id, **job}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    final = partial / "final"
    if final.exists():  # a finished run that died before publishing is trained again from its last checkpoint
        shutil.rmtree(final)
    checkpoints = sorted((p for p in (partial / "checkpoints").glob("checkpoint-*") if p.is_dir()),
                         key=lambda p: int(p.name.rsplit("-", 1)[1]))
    complete = [p for p in checkpoints if (p / "trainer_state.json").is_file()]
    return complete[-1] if complete else None


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "not enough memory" in text
                                              or "can't allocate memory" in text)


def _run(opts: TrainOptions, base_path: Path, examples: list[dict], mix: dict, job: dict, job_id: str,
         partial: Path, progress: Progress | None) -> dict[str, Any]:
    from syllabus.bench import models

    models.offline()
    import torch

    if opts.threads:
        torch.set_num_threads(opts.threads)
    resume = _prepare_partial(partial, job, job_id)
    start = time.perf_counter()
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(str(base_path))
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32)
    except Exception as exc:  # unreadable weights or tokenizer
        shutil.rmtree(partial, ignore_errors=True)
        raise SyllabusError("E083", model=opts.base, detail=f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    own_template = training_data.ensure_chat_template(tokenizer)
    rows, counts = training_data.encode(tokenizer, examples, opts.max_length)
    if not rows:
        shutil.rmtree(partial, ignore_errors=True)
        raise SyllabusError("E093", source=job["build"], detail="no example kept an assistant token within "
                                                                 f"--max-length {opts.max_length}")
    try:
        trainer, log = _trainer(opts, model, tokenizer, rows, partial, progress)
        trainable = _trainable(trainer.model)
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        model = trainer.model
        if opts.method == "lora":
            model = model.merge_and_unload()
        final = partial / "final"
        model.save_pretrained(str(final))
        tokenizer.save_pretrained(str(final))
    except Exception as exc:
        if _is_oom(exc):
            if resume is None and not any((partial / "checkpoints").glob("checkpoint-*")):
                shutil.rmtree(partial, ignore_errors=True)
            raise SyllabusError("E091", detail=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                                batch=opts.batch_size, length=opts.max_length) from exc
        raise
    steps = int(trainer.state.global_step)
    losses = [round(x["loss"], 4) for x in log]
    return {"job_id": job_id, "method": opts.method, "options": {**asdict(opts), "lr": opts.learning_rate()},
            "data": {**mix, **counts, "examples_sha256": job["examples"]},
            "chat_template": "model" if own_template else "syllabus-fallback",
            "steps": steps, "epochs": opts.epochs, "resumed_from": resume.name if resume else None,
            "train_loss": round(float(result.training_loss), 4) if result.training_loss is not None else None,
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "loss_log": losses, "device": str(trainer.args.device), "seconds": round(time.perf_counter() - start, 2),
            "trainable_parameters": trainable}


def _trainable(model) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _lora(model, opts: TrainOptions):
    from peft import LoraConfig, get_peft_model

    layers = None
    n_layers = getattr(model.config, "num_hidden_layers", None) or getattr(model.config, "n_layer", None)
    if opts.lora_layers and n_layers:
        layers = list(range(max(0, n_layers - opts.lora_layers), n_layers))
    config = LoraConfig(r=opts.lora_r, lora_alpha=opts.lora_alpha, lora_dropout=0.0,
                        target_modules=_linear_names(model), layers_to_transform=layers, task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def _linear_names(model) -> list[str]:
    """Names of the projection layers inside the blocks (every Linear or GPT-2 Conv1D but the LM head)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    out_head = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, (torch.nn.Linear, Conv1D)) and module is not out_head and "." in name})


def _trainer(opts: TrainOptions, model, tokenizer, rows: list[dict], partial: Path, progress: Progress | None):
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments, set_seed
    from transformers.trainer_callback import PrinterCallback

    set_seed(opts.seed)
    if opts.method == "lora":
        model = _lora(model, opts)
    steps_per_epoch = math.ceil(len(rows) / (opts.batch_size * opts.grad_accum))
    total = opts.max_steps or max(1, math.ceil(steps_per_epoch * opts.epochs))
    on_cpu = (opts.device or ("cuda" if torch.cuda.is_available() else "cpu")) == "cpu"
    args = TrainingArguments(
        output_dir=str(partial / "checkpoints"), per_device_train_batch_size=opts.batch_size,
        gradient_accumulation_steps=opts.grad_accum, num_train_epochs=opts.epochs, max_steps=total,
        learning_rate=opts.learning_rate(), lr_scheduler_type="linear", warmup_steps=max(0, total // 20),
        weight_decay=0.0, logging_strategy="steps", logging_steps=1, save_strategy="steps",
        save_steps=max(1, opts.save_steps), save_total_limit=2, seed=opts.seed, data_seed=opts.seed,
        report_to=[], disable_tqdm=True, use_cpu=on_cpu, dataloader_num_workers=0, remove_unused_columns=False,
        bf16=False, fp16=False)
    log: list[dict[str, float]] = []

    class Report(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                log.append({"step": state.global_step, "loss": float(logs["loss"])})
                if progress:
                    progress({"step": state.global_step, "total": state.max_steps, "loss": float(logs["loss"])})

        def on_save(self, args, state, control, **kw):
            _failpoint(f"train-saved-{state.global_step}")

    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=training_data.IGNORE,
                                      return_tensors="pt")
    trainer = Trainer(model=model, args=args, train_dataset=_Rows(rows), data_collator=collator,
                      callbacks=[Report()])
    trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout (breaks --json)
    return trainer, log


class _Rows:
    """A map-style dataset over the encoded rows (what Trainer's sampler needs: len and getitem)."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]


def _failpoint(name: str) -> None:
    from syllabus.compile.output import failpoint

    failpoint(name)


def _publish(final: Path, out: Path, report: dict[str, Any]) -> None:
    """Move the finished model into *out* (replacing an older one only once the new one is complete)."""
    (final / MANIFEST).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / "model")
    os.replace(final, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
