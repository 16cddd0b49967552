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
    import numpy as np

    from syllabus.compile.build import _splice

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(0, 30))
        rows = rng.integers(0, 1000, (n, 3))
        gone = np.array(sorted(rng.choice(n, int(rng.integers(0, n + 1)), replace=False)), dtype=np.int64) \
            if n else np.zeros(0, np.int64)
        keep = n - len(gone)
        pos = np.sort(rng.integers(0, keep + 1, int(rng.integers(0, 6))))
        values = rng.integers(0, 1000, (len(pos), 3))
        want = np.insert(np.delete(rows, gone, axis=0), pos, values, axis=0)
        assert np.array_equal(_splice(rows, gone, pos, values), want)
