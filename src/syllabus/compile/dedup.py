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
_SHIFT = np.uint64(61)
_rng = np.random.Generator(np.random.PCG64(20261124))
# (a * x + b) mod p with 61-bit a, b: the product wraps modulo 2**64 first, which mixes well (as
# datasketch does); small multipliers would keep the shingles' order and every minimum the same
_A = _rng.integers(1, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_WORD = re.compile(r"\w+")
_END = "\x00"
_BETWEEN = f" {_END} "  # between two texts: a word of its own
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def signatures(texts: list[str], chunk: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(exact hash uint64 [n], MinHash uint32 [n, NUM_PERM]) of the texts, vectorised per chunk.

    Shingles are word 3-grams, hashed from per-word CRC32s in numpy; each text ends with two pad
    words so that short texts still have a shingle (and a text without words is three pad words).
    A chunk's texts are joined by a NUL mark, case-folded (each character on its own, so joining
    changes no word) and split into the same words as ``\\w+`` finds, in one pass (see :class:`_Words`).
    """
    n = len(texts)
    exact = np.empty(n, dtype=np.uint64)
    sig = np.empty((n, NUM_PERM), dtype=np.uint32)
    crc, adler, words_of = zlib.crc32, zlib.adler32, _Words()
    if len(_WORD_CODES) > _WORD_CODES_MAX:
        _WORD_CODES.clear()
        _WORD_CODES[_END] = -1
    word_code = _WORD_CODES.__getitem__  # a text's words are mostly words seen before
    for lo in range(0, n, chunk):
        part = texts[lo:lo + chunk]
        tokens = words_of(part)
        tokens.append(_END)
        codes = np.fromiter(map(word_code, tokens), dtype=np.int64, count=len(tokens))
        ends = np.flatnonzero(codes < 0)  # where each text's words stop
        firsts = np.r_[0, ends[:-1] + 1]
        raws = [" ".join(tokens[a:b]).encode() for a, b in zip(firsts.tolist(), ends.tolist())]
        exact[lo:lo + len(part)] = [crc(raw) << 32 | adler(raw) for raw in raws]
        counts = ends - firsts
        sizes = counts + 2 + (counts == 0)  # two pad words after each text, three for a text without words
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        w = np.zeros(int(sizes.sum()), dtype=np.uint64)
        word_at = np.flatnonzero(codes >= 0)
        text_of = np.repeat(np.arange(len(part)), counts)
        w[word_at - firsts[text_of] + starts[text_of]] = codes[word_at].astype(np.uint64)
        ends = starts + sizes - 2  # no shingle starts in the last two (pad) words
        valid = np.ones(len(w) - 2, dtype=bool)
        valid[np.r_[ends, ends + 1][np.r_[ends, ends + 1] < len(valid)]] = False
        with np.errstate(over="ignore"):
            shingle = (w[:-2] * np.uint64(0x9E3779B97F4A7C15) ^ w[1:-1] * np.uint64(0xC2B2AE3D27D4EB4F) ^ w[2:])[valid]
            values = np.multiply(shingle[:, None], _A[None, :])
            values += _B
            # mod 2**61 - 1, Mersenne style, in place: (v & p) + (v >> 61), less p where that is >= p
            # (v - p wraps around below p, so the smaller of v and v - p is the reduced value)
            spare = values >> _SHIFT
            values &= _PRIME
            values += spare
            np.subtract(values, _PRIME, out=spare)
            np.minimum(values, spare, out=values)
        first = np.cumsum(np.r_[0, valid]).astype(np.int64)[starts]
        sig[lo:lo + len(part)] = np.minimum.reduceat(values, first, axis=0)  # the low 32 bits of each minimum
    return exact, sig


class _Words:
    """The words (``\\w+`` matches) of case-folded texts, one list for many texts, each text's words
    followed by an ``_END`` mark.

    Every character that is not a word character (``\\w`` is ``str.isalnum()`` or ``_``) becomes a
    space and the result is split on whitespace: the same words as ``re.findall(r"\\w+")``, a fourth
    of the time. The table holds the ASCII characters from the start, others as texts bring them.
    """

    def __init__(self) -> None:
        self.table = {i: " " for i in range(128) if not _is_word(chr(i))}
        del self.table[ord(_END)]  # the end-of-text mark stays
        self.seen: set[str] = set()

    def __call__(self, texts: list[str]) -> list[str]:
        joined = _BETWEEN.join(texts).casefold()
        if joined.count(_END) != len(texts) - 1:  # a NUL inside a text separates words like a space
            joined = _BETWEEN.join(t.replace(_END, " ") for t in texts).casefold()
        if not joined.isascii():
            for ch in set(_NON_ASCII.findall(joined)) - self.seen:
                self.seen.add(ch)
                if not _is_word(ch):
                    self.table[ord(ch)] = " "
        return joined.translate(self.table).split()


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _WordCrc(dict):
    """word -> CRC32 of its UTF-8 bytes, computed once per word (and -1 for the end-of-text mark)."""

    def __missing__(self, word: str) -> int:
        value = self[word] = zlib.crc32(word.encode())
        return value


_WORD_CODES = _WordCrc({_END: -1})  # kept from call to call: a compile signs its texts a block at a time
_WORD_CODES_MAX = 1_000_000


def band_keys(sig: np.ndarray) -> list[np.ndarray]:
    """One uint64 key per example and LSH band (its 4 signature values, mixed).

    Two keys collide when the bands are equal, and otherwise only by chance (about 2**-64 a pair);
    a collision only puts a pair up for the Jaccard check. At the default threshold a pair that
    passes it (at most 3 of 16 values differ) always has some band entirely equal anyway.
    """
    rows = NUM_PERM // BANDS
    wide = np.ascontiguousarray(sig).view(np.uint64)  # each pair of values as one 64-bit word, no copy
    pairs = rows // 2
    out = []
    with np.errstate(over="ignore"):
        for b in range(BANDS):
            out.append(wide[:, b * pairs] * np.uint64(0x9E3779B97F4A7C15) ^ wide[:, b * pairs + 1])
    return out


def decide(exact: np.ndarray, sig: np.ndarray, check: np.ndarray, threshold: float = THRESHOLD,
           bands: list[np.ndarray] | None = None) -> dict[int, tuple[int, str]]:
    """For each index in *check*: (index of the smallest-id duplicate, reason) when it must be dropped.

    The arrays are in id order, so a smaller index means a smaller id. An example's duplicate is
    the smallest earlier index with the same exact hash, or sharing an LSH band with an estimated
    Jaccard >= *threshold*, whichever is smaller (exact wins a tie). *bands*: ``band_keys(sig)``
    when the caller has them already. Pairs are compared in numpy blocks, not one by one: in a
    large graph one band bucket can hold 10,000 examples that share a common phrase.
    """
    n = len(exact)
    wanted = np.zeros(n, dtype=bool)
    wanted[check] = True
    first_exact = np.full(n, n, dtype=np.int64)
    near = np.full(n, n, dtype=np.int64)
    for band, keys in enumerate([exact, *(bands or band_keys(sig))], -1):  # band -1: the exact hashes
        order, starts, sizes = _buckets(keys, check)
        if not len(order):
            continue
        if band < 0:  # the smallest index of the bucket is the duplicate kept
            pos, rank = _members(starts, sizes)
            later = rank > 0
            first_exact[order[pos[later]]] = order[(pos - rank)[later]]
            continue
        small = sizes <= _SMALL_BUCKET
        _near_in_small(order, starts[small], sizes[small], sig, wanted, threshold, near)
        for start, size in zip(starts[~small].tolist(), sizes[~small].tolist()):
            _near_in_large(order[start:start + size], band, sig, wanted, threshold, near)
    best: dict[int, tuple[int, str]] = {}
    found = check[np.minimum(first_exact[check], near[check]) < n]
    for i in found.tolist():
        j = int(min(first_exact[i], near[i]))
        if first_exact[i] == j:
            best[i] = (j, "exact duplicate")
        else:
            best[i] = (j, f"near duplicate (estimated Jaccard {(sig[j] == sig[i]).mean():.2f})")
    return best


_SMALL_BUCKET = 64
_PAIRS_PER_STEP = 1 << 19
_ROWS_PER_STEP = 256


def _buckets(keys: np.ndarray, check: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices grouped by key (each group in index order): (order, group starts, group sizes), groups of 2+
    that hold a key of *check*."""
    subset = np.nonzero(member(keys, keys[check]))[0] if len(check) < len(keys) else np.arange(len(keys))
    order = subset[np.argsort(keys[subset], kind="stable")]  # stable over an ascending subset: index order
    sorted_keys = keys[order]
    starts = np.nonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])[0] if len(order) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(order)]).astype(np.int64)
    multi = sizes > 1
    return order, starts[multi], sizes[multi]


def member(values: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """``np.isin(values, probe)`` for uint64 hash keys, without sorting *values*.

    An incremental compile asks this of 1.5 million keys with a few hundred probes, where
    ``np.isin`` sorts both together (0.15-0.3 s a call). Here the keys' top 20 bits are looked up in
    a table of the probes' top bits first, and only the few keys that pass are searched for exactly.
    """
    if len(probe) <= 16 or len(probe) > len(values) // 8:
        return np.isin(values, probe)
    top = np.zeros(1 << 20, dtype=bool)
    top[probe >> np.uint64(44)] = True
    maybe = np.nonzero(top[values >> np.uint64(44)])[0]
    table = np.unique(probe)
    at = np.minimum(np.searchsorted(table, values[maybe]), len(table) - 1)
    out = np.zeros(len(values), dtype=bool)
    out[maybe[table[at] == values[maybe]]] = True
    return out


def _members(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (in the bucket order) of every member of the buckets, and its rank within its bucket."""
    rank = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(starts, sizes) + rank, rank


def _near_in_small(order, starts, sizes, sig, wanted, threshold, near) -> None:
    """Every (later, earlier) pair of the small buckets at once, in steps of bounded size."""
    if not len(starts):
        return
    pos, rank = _members(starts, sizes)
    keep = wanted[order[pos]] & (rank > 0)
    pos, rank = pos[keep], rank[keep]
    step = _PAIRS_PER_STEP // _SMALL_BUCKET  # later members per step; each has fewer than _SMALL_BUCKET pairs
    for lo in range(0, len(pos), step):
        p, r = pos[lo:lo + step], rank[lo:lo + step]
        later = np.repeat(p, r)
        earlier = np.repeat(p - r, r) + (np.arange(r.sum()) - np.repeat(np.cumsum(r) - r, r))
        i, j = order[later], order[earlier]
        hit = (sig[i] == sig[j]).mean(axis=1) >= threshold
        np.minimum.at(near, i[hit], j[hit])


def _near_in_large(members, band, sig, wanted, threshold, near) -> None:
    """One large bucket of *band* (*members* in index order), split further where the threshold allows.

    A pair at or above the threshold differs in at most ``d`` signature values, none of them in
    the band they share; cut the other values into ``d + 1`` groups and some group is equal in
    both. So the bucket's pairs worth checking are those inside the buckets of each group's
    values: in a bucket of 10,800 texts sharing a phrase, 0.4 million pairs instead of 58 million.
    """
    groups = _groups(band, threshold)
    if groups is None:
        _all_pairs(members, sig, wanted, threshold, near)
        return
    for columns in groups:
        with np.errstate(over="ignore"):
            key = np.zeros(len(members), dtype=np.uint64)
            for c in columns:  # the group's values mixed into one key (a chance collision only adds a pair)
                key = key * np.uint64(0x9E3779B97F4A7C15) ^ sig[members, c].astype(np.uint64)
        order, starts, sizes = _buckets(key, np.arange(len(key)))
        order = members[order]  # each sub-bucket in index order, as members are
        small = sizes <= _SMALL_BUCKET
        _near_in_small(order, starts[small], sizes[small], sig, wanted, threshold, near)
        for start, size in zip(starts[~small].tolist(), sizes[~small].tolist()):
            _all_pairs(order[start:start + size], sig, wanted, threshold, near)


def _groups(band: int, threshold: float) -> list[np.ndarray] | None:
    """The signature columns outside *band*, cut into one group more than the differences a pair at
    *threshold* may have; None when there are too few columns for that."""
    need = next((k for k in range(NUM_PERM + 1) if k / NUM_PERM >= threshold), NUM_PERM + 1)
    differences = NUM_PERM - need
    rows = NUM_PERM // BANDS
    others = np.array([c for c in range(NUM_PERM) if not band * rows <= c < (band + 1) * rows])
    if differences < 0 or differences + 1 > len(others):
        return None
    return np.array_split(others, differences + 1)


def _all_pairs(members, sig, wanted, threshold, near) -> None:
    """Every (later, earlier) pair of *members* (in index order): blocks of rows against the members before them."""
    rows = np.nonzero(wanted[members])[0]
    rows = rows[rows > 0]
    for lo in range(0, len(rows), _ROWS_PER_STEP):
        r = rows[lo:lo + _ROWS_PER_STEP]
        cols = int(r.max())
        similarity = (sig[members[r]][:, None, :] == sig[members[:cols]][None, :, :]).mean(axis=2)
        ok = (similarity >= threshold) & (np.arange(cols)[None, :] < r[:, None])
        has = ok.any(axis=1)
        i, j = members[r[has]], members[ok[has].argmax(axis=1)]
        np.minimum.at(near, i, j)


def touching(exact: np.ndarray, bands: list[np.ndarray], probe_exact: np.ndarray,
             probe_sig: np.ndarray) -> np.ndarray:
    """Indices of examples that share an exact hash or an LSH band (*bands*: their ``band_keys``)
    with any probe (e.g. removed examples)."""
    if len(probe_exact) == 0 or len(exact) == 0:
        return np.zeros(0, dtype=np.int64)
    mask = member(exact, probe_exact)
    for keys, probe in zip(bands, band_keys(probe_sig)):
        mask |= member(keys, probe)
    return np.nonzero(mask)[0]


def unique_signature(key: str) -> tuple[np.uint64, np.ndarray]:
    """A signature derived from *key* alone: it collides with no real text (for exempt examples)."""
    rng = np.random.Generator(np.random.PCG64(zlib.crc32(key.encode()) << 32 | zlib.adler32(key.encode())))
    return np.uint64(rng.integers(0, 2**63)), rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
