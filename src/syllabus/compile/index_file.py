"""A build's candidate index on disk: named numpy arrays, one after another in one file.

``index.npy`` holds an array of the names, then each array in ``.npy`` form, in that order: it is
written and read at the disk's speed, where the zip container of ``index.npz`` (which builds
written before it use, and which are still read) costs a CRC pass over every byte both ways, about
half a second on each incremental compile of a 250k-concept graph.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

INDEX = "index.npy"
LEGACY_INDEX = "index.npz"


def index_file(folder: Path) -> Path | None:
    """The index file of a build folder (either format), or None when it has none."""
    for name in (INDEX, LEGACY_INDEX):
        if (folder / name).is_file():
            return folder / name
    return None


def write_index(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write *arrays* (no object arrays) to *path*, in their order."""
    with open(path, "wb") as fh:
        np.save(fh, np.array(list(arrays), dtype=str), allow_pickle=False)
        for value in arrays.values():
            np.save(fh, value, allow_pickle=False)


def read_index(folder: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a build's index, or None when the build has none."""
    path = index_file(folder)
    if path is None:
        return None
    if path.name == LEGACY_INDEX:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    with open(path, "rb") as fh:
        names = np.load(fh, allow_pickle=False).tolist()
        return {name: np.load(fh, allow_pickle=False) for name in names}
