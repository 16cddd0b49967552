"""Writing builds: the manifest's text."""
import json

from syllabus.compile.output import manifest_text


def test_manifest_text_is_the_manifest_with_one_removal_per_line():
    manifest = {"build": "0001-x", "counts": {"examples": 3}, "quality": {"removed": [
        {"id": "ex-2", "reason": "exact duplicate of ex-1", "task": "t"}, {"id": "ex-3", "reason": "é", "task": "t"}]}}
    text = manifest_text(manifest)
    assert json.loads(text) == manifest
    assert '      {"id": "ex-3", "reason": "é", "task": "t"}\n' in text
    empty = {**manifest, "quality": {"removed": []}}
    assert json.loads(manifest_text(empty)) == empty


def test_splice_is_delete_then_insert():
    """Every shape of column the index keeps; in place (a view of the rows) when no more come than go."""
    import numpy as np

    from syllabus.compile.build import _splice

    rng = np.random.default_rng(3)
    columns = [lambda n: rng.integers(0, 1000, (n, 3)), lambda n: rng.integers(0, 2**32, (n, 16), dtype=np.uint32),
               lambda n: np.array([f"ex-{x:032x}" for x in rng.integers(0, 2**62, n)], dtype="S35"),
               lambda n: rng.integers(0, 2, n).astype(bool)]
    in_place = 0
    for case in range(800):
        make = columns[case % len(columns)]
        n = int(rng.integers(0, 300 if case % 2 else 30))
        rows = make(n)
        gone = np.array(sorted(rng.choice(n, int(rng.integers(0, min(n, 12) + 1)), replace=False)), dtype=np.int64) \
            if n else np.zeros(0, np.int64)
        keep = n - len(gone)
        pos = np.sort(rng.integers(0, keep + 1, len(gone) if case % 3 == 0 else int(rng.integers(0, 12))))
        values = make(len(pos))
        want = np.insert(np.delete(rows, gone, axis=0), pos, values, axis=0)
        got = _splice(rows, gone, pos, values)
        assert np.array_equal(got, want)
        if len(pos) <= len(gone) and len(want):
            assert np.shares_memory(got, rows)
            in_place += 1
    assert in_place > 200


def test_assemble_copies_runs_and_short_lines_and_reports_progress(tmp_path, monkeypatch):
    """Lines gathered from two sources in id order: long runs by the kernel, short ones by reads,
    the written part handed to the syncer every _SYNC_STEP bytes; the bytes are the same either way."""
    import numpy as np

    from syllabus.compile import output

    parent = [f'{{"id":"p{i:04d}","x":"{"a" * (i % 37)}"}}\n'.encode() for i in range(600)]
    fresh = [f'{{"id":"n{i:04d}"}}\n'.encode() for i in range(40)]
    (tmp_path / "parent.jsonl").write_bytes(b"".join(parent))
    (tmp_path / "spool.jsonl").write_bytes(b"".join(fresh))
    rng = np.random.default_rng(5)
    rows = [(0, i) for i in range(600) if i % 97]  # the parent's lines, a few gone
    for j in range(40):  # fresh lines inserted at random places, in spool order
        rows.insert(int(rng.integers(0, len(rows) + 1)), (1, j))
    src = np.array([s for s, _ in rows], dtype=np.int64)
    lines = [parent[i] if s == 0 else fresh[i] for s, i in rows]
    off = np.array([sum(map(len, parent[:i])) if s == 0 else sum(map(len, fresh[:i])) for s, i in rows], dtype=np.int64)
    arrays = {"src": src, "off": off, "len": np.array([len(x) for x in lines], dtype=np.int64)}
    want = b"".join(lines)
    sources = [tmp_path / "parent.jsonl", tmp_path / "spool.jsonl"]
    for kernel, step in ((1 << 20, 1 << 20), (200, 1000), (1, 64)):
        monkeypatch.setattr(output, "_KERNEL_COPY", kernel)
        monkeypatch.setattr(output, "_SYNC_STEP", step)
        calls = []
        out = tmp_path / f"out-{kernel}-{step}.jsonl"
        offsets = output._assemble(out, np.arange(len(rows)), arrays, sources, lambda: calls.append(out.stat().st_size))
        assert out.read_bytes() == want
        assert offsets.tolist() == np.cumsum([0] + [len(x) for x in lines[:-1]]).tolist()
        # a call comes once at least *step* bytes are unsynced, and a run never overshoots it by a full step
        assert (len(want) // (2 * step) <= len(calls) <= len(want) // step) if step < len(want) else not calls
        assert calls == sorted(calls) and all(size > 0 for size in calls)  # each call: more has been written


def test_gathered_reads_lines_a_stretch_at_a_time_in_any_order(tmp_path, monkeypatch):
    """Lines asked for in any order from several files, near and far apart, come back as they are,
    with one read per stretch of nearby lines."""
    import os

    import numpy as np

    from syllabus.compile import output

    rng = np.random.default_rng(11)
    files, places = [], []
    for f in range(3):
        chunks, at = [], 0
        for i in range(200):
            line = f'{{"id":"f{f}-{i:03d}","pad":"{"z" * int(rng.integers(0, 90))}"}}\n'.encode()
            chunks.append(line)
            places.append((f, at, line))
            at += len(line)
            if i % 50 == 49:  # a wide gap now and then: a stretch ends there
                chunks.append(b"#" * 9000)
                at += 9000
        files.append(tmp_path / f"spool-{f}.jsonl")
        files[-1].write_bytes(b"".join(chunks))
    wanted = [places[int(i)] for i in rng.permutation(len(places))[:450]]
    src = np.array([f for f, _, _ in wanted], dtype=np.int64)
    off = np.array([a for _, a, _ in wanted], dtype=np.int64)
    length = np.array([len(x) for _, _, x in wanted], dtype=np.int64)
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(output.os, "pread", lambda fd, n, at: reads.append(n) or real_pread(fd, n, at))
    for gap, most_reads in ((1 << 12, 3 * 4), (0, 450)):
        monkeypatch.setattr(output, "_GATHER_GAP", gap)
        reads.clear()
        handles = {}
        try:
            got = output._gathered(src, off, length, files, handles)
        finally:
            for fh in handles.values():
                fh.close()
        assert got == [x for _, _, x in wanted]
        assert len(reads) <= most_reads and (gap == 0 or sum(reads) < sum(f.stat().st_size for f in files))


def test_index_file_round_trip_and_the_older_npz_is_read(tmp_path):
    import numpy as np

    from syllabus.compile.index_file import INDEX, LEGACY_INDEX, index_file, read_index, write_index

    arrays = {"ids": np.array([b"ex-1", b"ex-2"], dtype="S35"), "sig": np.arange(32, dtype=np.uint32).reshape(2, 16),
              "names": np.array(["α", "b"], dtype=str), "empty": np.zeros(0, np.int64)}
    assert index_file(tmp_path) is None and read_index(tmp_path) is None
    write_index(tmp_path / INDEX, arrays)
    got = read_index(tmp_path)
    assert list(got) == list(arrays) and all(np.array_equal(got[k], v) and got[k].dtype == v.dtype
                                             for k, v in arrays.items())
    old = tmp_path / "old"
    old.mkdir()
    np.savez(old / LEGACY_INDEX, **arrays)
    assert index_file(old) == old / LEGACY_INDEX
    assert all(np.array_equal(read_index(old)[k], v) for k, v in arrays.items())
