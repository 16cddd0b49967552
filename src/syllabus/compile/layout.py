"""Where a build's examples lie: ``examples/<xx>.jsonl``, 256 shards by the id's first two hex digits.

Example ids are ``ex-`` and 32 hex digits, and each shard holds its examples in id order, so the
shards read in name order are the whole build in id order. A build that changes a few examples
rewrites only the shards they fall in; every other shard is a hard link to its parent build's
file (files of a published build are never written again). Builds written before shards hold one
``examples.jsonl`` instead; the readers here give either layout the same way.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

SHARDS = "examples"  # the folder of the kept examples' shard files
SINGLE = "examples.jsonl"  # the one file of a build written before shards
DROPPED = "dropped.jsonl"
PREFIX = "ex-"
SHARD_NAMES = [f"{i:02x}" for i in range(256)]


def shard_of(example_id: str) -> str:
    """The shard an example id belongs to (the two hex digits after ``ex-``)."""
    return example_id[len(PREFIX):len(PREFIX) + 2]


def shard_path(folder: Path, shard: str) -> Path:
    return folder / SHARDS / f"{shard}.jsonl"


def is_sharded(folder: Path) -> bool:
    return (folder / SHARDS).is_dir()


def example_files(folder: Path) -> list[Path]:
    """The files of a build's kept examples, in id order (the shards, or the single older file)."""
    if is_sharded(folder):
        return [p for p in (shard_path(folder, s) for s in SHARD_NAMES) if p.is_file()]
    return [folder / SINGLE] if (folder / SINGLE).is_file() else []


def example_file(folder: Path, example_id: str, dropped: bool = False) -> Path:
    """The file that holds a kept (or dropped) example of a build."""
    if dropped:
        return folder / DROPPED
    return shard_path(folder, shard_of(example_id)) if is_sharded(folder) else folder / SINGLE


def iter_lines(folder: Path) -> Iterator[bytes]:
    """Every kept example's line (with its newline), in id order."""
    for path in example_files(folder):
        with open(path, "rb") as fh:
            yield from fh


def shard_bounds(sorted_ids: np.ndarray) -> np.ndarray:
    """257 positions in *sorted_ids* (``S`` bytes, id order): shard ``k`` is ``[b[k], b[k + 1])``."""
    starts = np.array([(PREFIX + s).encode() for s in SHARD_NAMES], dtype=sorted_ids.dtype)
    return np.r_[np.searchsorted(sorted_ids, starts), len(sorted_ids)].astype(np.int64)
