"""The duplicate gate: exact and near duplicates, and local re-decisions equal a global one."""
import numpy as np

from syllabus.compile import dedup


def _arrays(texts):
    exact, sig = dedup.signatures(texts)
    return exact, sig


def test_exact_duplicates_after_normalisation_keep_the_smallest_id():
    exact, sig = _arrays(["What is heat?\nHeat is energy in transit.", "what is HEAT ?  heat is energy, in transit",
                          "What is work?\nWork is force times distance."])
    decisions = dedup.decide(exact, sig, np.arange(3))
    assert decisions == {1: (0, "exact duplicate")}


def test_near_duplicates_are_found_and_different_texts_are_not():
    base = "Explain step by step why a proton is a kind of particle. 1. A proton is a kind of hadron. " \
           "2. A hadron is a kind of composite particle. 3. A composite particle is a kind of particle. " \
           "A kind of a kind of something is itself a kind of that thing."
    near = base.replace("3. A composite", "3. Any composite")
    other = "What does friction cause? Friction causes heating of the surfaces that rub against each other."
    exact, sig = _arrays([base, near, other])
    decisions = dedup.decide(exact, sig, np.arange(3))
    assert list(decisions) == [1] and decisions[1][0] == 0 and "near duplicate" in decisions[1][1]


def test_minhash_estimates_jaccard():
    estimates = []
    for k in range(60):
        words = [f"w{k}x{i}" for i in range(200)]
        a = " ".join(words)
        b = " ".join(words[:100] + [f"y{k}x{i}" for i in range(100)])
        exact, sig = _arrays([a, b])
        estimates.append(float(np.mean(sig[0] == sig[1])))
    assert 0.25 < float(np.mean(estimates)) < 0.42  # true 3-shingle Jaccard is about 0.32


def test_local_decisions_match_global_ones():
    rng = np.random.default_rng(0)
    vocab = [f"v{i}" for i in range(30)]
    texts = [" ".join(rng.choice(vocab, 12)) for _ in range(300)]
    texts += texts[:40]  # exact duplicates
    exact, sig = _arrays(texts)
    everything = dedup.decide(exact, sig, np.arange(len(texts)))
    touched = dedup.touching(exact, dedup.band_keys(sig), exact[:5], sig[:5])
    local = dedup.decide(exact, sig, touched)
    assert {i: d for i, d in everything.items() if i in set(touched.tolist())} == local



def test_large_buckets_are_split_only_where_no_pair_can_be_lost():
    assert [g.tolist() for g in dedup._groups(0, 0.8)] == [[4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15]]
    assert [len(g) for g in dedup._groups(2, 0.5)] == [2, 2, 2, 1, 1, 1, 1, 1, 1]  # up to 8 values may differ
    assert dedup._groups(1, 1.0)[0].tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]
    assert dedup._groups(0, 0.2) is None


def _reference_decide(exact, sig, check, threshold):
    """The rule spelled out one pair at a time: the smallest earlier exact or band-sharing near duplicate."""
    bands = dedup.band_keys(sig)
    best = {}
    for i in check.tolist():
        for j in range(i):
            if exact[j] == exact[i]:
                best[i] = (j, "exact duplicate")
                break
            similarity = (sig[j] == sig[i]).mean()
            if any(b[j] == b[i] for b in bands) and similarity >= threshold:
                best[i] = (j, f"near duplicate (estimated Jaccard {similarity:.2f})")
                break
    return best


def test_block_decisions_equal_the_pairwise_rule_in_small_and_large_buckets(monkeypatch):
    rng = np.random.default_rng(7)
    common = "a kind of a kind of something is itself a kind of that thing"
    vocab = [f"v{i}" for i in range(25)]
    texts = [common + " " + " ".join(rng.choice(vocab, int(rng.integers(2, 9)))) for _ in range(400)]
    texts += [" ".join(rng.choice(vocab, 10)) for _ in range(200)]
    texts += [texts[k] for k in rng.integers(0, 600, 60)]  # exact duplicates
    exact, sig = _arrays(texts)
    sizes = [np.unique(b, return_counts=True)[1].max() for b in dedup.band_keys(sig)]
    monkeypatch.setattr(dedup, "_SMALL_BUCKET", 8)  # so that both code paths run on this data
    monkeypatch.setattr(dedup, "_ROWS_PER_STEP", 16)
    assert max(sizes) > 8
    for check in (np.arange(len(texts)), np.array(sorted(rng.choice(len(texts), 50, replace=False)))):
        # 0.8 and 0.5 split large buckets by the other signature values, 0.2 allows too many differences
        # for that (every pair of a large bucket is compared), 1.0 splits by all twelve other values at once
        for threshold in (0.8, 0.5, 0.2, 1.0):
            got = dedup.decide(exact, sig, check, threshold)
            assert got == _reference_decide(exact, sig, check, threshold)
            assert any("near" in r for _, r in got.values()) == (threshold < 1.0)
            assert any("exact" in r for _, r in got.values())


def test_signatures_do_not_depend_on_the_chunk_size():
    import numpy as np

    from syllabus.compile.dedup import signatures

    texts = [f"Heat flows from the hot body {i} to the cold one, {i % 7} times." for i in range(1_300)]
    texts += ["", "one", "two words", "Über straße ÄÖ", "!!! ?"]  # a single text per chunk, texts without words
    exact, sig = signatures(texts)
    for chunk in (1, 3, 500, 10_000):
        other_exact, other_sig = signatures(texts, chunk=chunk)
        assert np.array_equal(exact, other_exact) and np.array_equal(sig, other_sig), chunk
    assert len(set(sig[:1_300, 0].tolist())) > 1  # the signatures really differ between texts


def test_member_equals_isin_for_every_probe_size():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**64 - 1, 200_000, dtype=np.uint64)
    values[:1000] = values[0]  # a run of equal keys, and keys sharing their top bits
    values[1000:2000] = (values[1000] & np.uint64(0xFFFFF00000000000)) | np.arange(1000, dtype=np.uint64)
    for m in (0, 1, 16, 17, 300, 5_000, 24_999, 25_001, 100_000):
        hits = rng.choice(values, m // 2) if m else np.zeros(0, np.uint64)
        misses = rng.integers(0, 2**64 - 1, m - m // 2, dtype=np.uint64)
        probe = np.concatenate([hits, misses, hits[:3]]).astype(np.uint64)
        assert np.array_equal(dedup.member(values, probe), np.isin(values, probe)), m
    assert not dedup.member(np.zeros(0, np.uint64), values[:50]).size


def test_band_keys_mix_each_band_of_four_values():
    sig = np.random.default_rng(3).integers(0, 2**32, (500, dedup.NUM_PERM), dtype=np.uint32)
    keys = dedup.band_keys(sig)
    assert len(keys) == dedup.BANDS
    for b, k in enumerate(keys):
        band = sig[:, b * 4:(b + 1) * 4].astype(np.uint64)
        lo, hi = band[:, 0] | band[:, 1] << np.uint64(32), band[:, 2] | band[:, 3] << np.uint64(32)
        with np.errstate(over="ignore"):
            assert np.array_equal(k, lo * np.uint64(0x9E3779B97F4A7C15) ^ hi)
    assert dedup.band_keys(sig[:, ::-1])[0].shape == (500,)  # a non-contiguous array is copied first


def test_signatures_follow_their_definition():
    """Word CRC32s, two pad words, mixed 3-shingles, min over shingles of ((a*x + b) mod 2**64) mod (2**61 - 1)."""
    import zlib

    m64, prime = (1 << 64) - 1, (1 << 61) - 1
    texts = ["The cell membrane is a barrier.", "", "Osmosis: water moves across a membrane!", "one",
             # what the word split must treat exactly as the regex does: a NUL inside a text, non-ASCII
             # separators and marks (a combining accent is not a word character), digits of other scripts,
             # case folding that changes length, underscores
             "x\x00y", "\x00", "e\u0301t\u00e9 caf\u00e9", "\u0663\u0664 x\u00b2 a\u2028b\x85c\x1cd",
             "Stra\u00dfe STRASSE \ufb01ne \u0130stanbul \u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2", "foo_bar-baz\tTAB\n"]
    exact, sig = dedup.signatures(texts)
    for text, e, s in zip(texts, exact.tolist(), sig.tolist()):
        tokens = dedup._WORD.findall(text.casefold())
        raw = " ".join(tokens).encode()
        assert e == zlib.crc32(raw) << 32 | zlib.adler32(raw)
        words = [zlib.crc32(t.encode()) for t in tokens] + [0, 0] + ([] if tokens else [0])
        shingles = [(words[i] * 0x9E3779B97F4A7C15 & m64) ^ (words[i + 1] * 0xC2B2AE3D27D4EB4F & m64) ^ words[i + 2]
                    for i in range(len(words) - 2)]
        want = [min(((x * int(a) + int(b)) & m64) % prime for x in shingles) & 0xFFFFFFFF
                for a, b in zip(dedup._A, dedup._B)]
        assert s == want
