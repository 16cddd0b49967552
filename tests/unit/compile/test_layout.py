"""Where a build's examples lie: 256 id-prefix shards, or the single file of older builds."""
import numpy as np

from syllabus.compile import layout
from syllabus.compile.output import shard_offsets


def _ids(rng, n):
    return np.array(sorted({"ex-" + "".join(rng.choice(list("0123456789abcdef"), 32)) for _ in range(n)}), dtype="S35")


def test_shard_bounds_cut_sorted_ids_by_their_first_two_hex_digits():
    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 300, 3000):
        ids = _ids(rng, n)
        bounds = layout.shard_bounds(ids)
        assert len(bounds) == 257 and bounds[0] == 0 and bounds[-1] == len(ids)
        for k, shard in enumerate(layout.SHARD_NAMES):
            inside = [i.decode() for i in ids[bounds[k]:bounds[k + 1]]]
            assert inside == [i.decode() for i in ids if layout.shard_of(i.decode()) == shard]


def test_shard_offsets_restart_at_each_shard():
    rng = np.random.default_rng(8)
    for n in (0, 1, 40, 2000):
        ids = _ids(rng, n)
        lengths = rng.integers(1, 500, len(ids))
        bounds = layout.shard_bounds(ids)
        want = np.zeros(len(ids), dtype=np.int64)
        for k in range(256):
            at = 0
            for i in range(bounds[k], bounds[k + 1]):
                want[i], at = at, at + lengths[i]
        assert np.array_equal(shard_offsets(lengths, bounds), want)


def test_both_layouts_read_in_id_order(tmp_path):
    sharded, single = tmp_path / "b-2", tmp_path / "b-1"
    lines = {"ex-" + h * 32: f'{{"id": "ex-{h * 32}"}}\n'.encode() for h in "3c0"}
    (sharded / layout.SHARDS).mkdir(parents=True)
    for eid, line in lines.items():
        layout.shard_path(sharded, layout.shard_of(eid)).write_bytes(line)
    single.mkdir()
    (single / layout.SINGLE).write_bytes(b"".join(lines[i] for i in sorted(lines)))
    for folder in (sharded, single):
        assert list(layout.iter_lines(folder)) == [lines[i] for i in sorted(lines)]
    assert [p.name for p in layout.example_files(sharded)] == ["00.jsonl", "33.jsonl", "cc.jsonl"]
    assert layout.example_file(sharded, "ex-" + "c" * 32) == sharded / "examples" / "cc.jsonl"
    assert layout.example_file(single, "ex-" + "c" * 32) == single / "examples.jsonl"
    assert layout.example_file(single, "ex-x", dropped=True) == single / "dropped.jsonl"
    assert layout.example_files(tmp_path / "none") == []
