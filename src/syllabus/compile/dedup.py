"""Quality gate: exact and near-duplicate examples, decided so that incremental == clean.

Each example gets a normalised-text hash and a MinHash signature over word 3-shingles. An example
is dropped when another example with a smaller id is an exact duplicate, or a near duplicate
(LSH band collision and estimated Jaccard >= threshold). The rule only looks at an example's
direct neighbours, so after an edit only the neighbours of what changed need a fresh decision.
"""
from __future__ import annotations

import re
import zlib

import numpy as np

NUM_PERM = 16
BANDS = 4
THRESHOLD = 0.8
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.Generator(np.random.PCG64(20261124))
# (a * x + b) mod p with 61-bit a, b: the product wraps modulo 2**64 first, which mixes well (as
# datasketch does); small multipliers would keep the shingles' order and every minimum the same
_A = _rng.integers(1, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def signatures(texts: list[str], chunk: int = 4_000) -> tuple[np.ndarray, np.ndarray]:
    """(exact hash uint64 [n], MinHash uint32 [n, NUM_PERM]) of the texts, vectorised per chunk.

    Shingles are word 3-grams, hashed from per-word CRC32s in numpy; each text ends with two pad
    words so that short texts still have a shingle.
    """
    n = len(texts)
    exact = np.empty(n, dtype=np.uint64)
    sig = np.empty((n, NUM_PERM), dtype=np.uint32)
    crc = zlib.crc32
    for lo in range(0, n, chunk):
        words: list[int] = []
        starts = []
        for i, text in enumerate(texts[lo:lo + chunk], lo):
            norm = normalise(text)
            raw = norm.encode()
            exact[i] = crc(raw) << 32 | zlib.adler32(raw)
            starts.append(len(words))
            words.extend([crc(w.encode()) for w in norm.split()])
            words.extend((0, 0))
        w = np.array(words, dtype=np.uint64)
        ends = np.r_[starts[1:], len(words)] - 2  # shingles start anywhere but in the two pad words
        valid = np.ones(len(w) - 2, dtype=bool)
        valid[np.r_[ends, ends + 1][np.r_[ends, ends + 1] < len(valid)]] = False
        with np.errstate(over="ignore"):
            shingle = (w[:-2] * np.uint64(0x9E3779B97F4A7C15) ^ w[1:-1] * np.uint64(0xC2B2AE3D27D4EB4F) ^ w[2:])[valid]
            values = shingle[:, None] * _A[None, :] + _B[None, :]
        values = (values & _PRIME) + (values >> np.uint64(61))  # mod 2**61 - 1, Mersenne style
        values = np.where(values >= _PRIME, values - _PRIME, values)
        first = np.cumsum(np.r_[0, valid]).astype(np.int64)[np.array(starts)]
        sig[lo:lo + len(starts)] = np.minimum.reduceat(values, first, axis=0).astype(np.uint32)
    return exact, sig


def band_keys(sig: np.ndarray) -> list[np.ndarray]:
    rows = NUM_PERM // BANDS
    return [_mix(sig[:, b * rows:(b + 1) * rows]) for b in range(BANDS)]


def _mix(block: np.ndarray) -> np.ndarray:
    out = np.zeros(block.shape[0], dtype=np.uint64)
    for col in range(block.shape[1]):
        out = out * np.uint64(1_000_003) ^ block[:, col].astype(np.uint64)
    return out


def decide(exact: np.ndarray, sig: np.ndarray, check: np.ndarray,
           threshold: float = THRESHOLD) -> dict[int, tuple[int, str]]:
    """For each index in *check*: (index of the smallest-id duplicate, reason) when it must be dropped.

    The arrays are in id order, so a smaller index means a smaller id.
    """
    check_set = set(check.tolist())
    best: dict[int, tuple[int, str]] = {}
    for kind, keys in [("exact", exact), *(("band", k) for k in band_keys(sig))]:
        subset = np.nonzero(np.isin(keys, keys[check]))[0] if len(check) < len(keys) else np.arange(len(keys))
        if len(subset) < 2:
            continue
        order = subset[np.argsort(keys[subset], kind="stable")]
        sorted_keys = keys[order]
        starts = np.nonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])[0]
        sizes = np.diff(np.r_[starts, len(order)])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            members = np.sort(order[start:start + size])
            for pos in range(1, len(members)):
                i = int(members[pos])
                if i not in check_set:
                    continue
                if kind == "exact":  # the smallest id in the bucket is the duplicate kept
                    j = int(members[0])
                    if i not in best or j < best[i][0]:
                        best[i] = (j, "exact duplicate")
                    continue
                earlier = members[:pos]
                if i in best:
                    earlier = earlier[earlier < best[i][0]]
                if not len(earlier):
                    continue
                similarity = (sig[earlier] == sig[i]).mean(axis=1)  # one vector op per example
                hit = np.nonzero(similarity >= threshold)[0]
                if len(hit):
                    j = int(earlier[hit[0]])
                    best[i] = (j, f"near duplicate (estimated Jaccard {similarity[hit[0]]:.2f})")
    return best


def touching(exact: np.ndarray, sig: np.ndarray, probe_exact: np.ndarray, probe_sig: np.ndarray) -> np.ndarray:
    """Indices of examples that share an exact hash or an LSH band with any probe (e.g. removed examples)."""
    if len(probe_exact) == 0 or len(exact) == 0:
        return np.zeros(0, dtype=np.int64)
    mask = np.isin(exact, probe_exact)
    for keys, probe in zip(band_keys(sig), band_keys(probe_sig)):
        mask |= np.isin(keys, probe)
    return np.nonzero(mask)[0]


def unique_signature(key: str) -> tuple[np.uint64, np.ndarray]:
    """A signature derived from *key* alone: it collides with no real text (for exempt examples)."""
    rng = np.random.Generator(np.random.PCG64(zlib.crc32(key.encode()) << 32 | zlib.adler32(key.encode())))
    return np.uint64(rng.integers(0, 2**63)), rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
