"""Writing a build: staging folder, store rows, publish by rename, recovery, and the compile lock.

Order of a build: (1) every file is written into ``build/.tmp-<id>/`` and synced; (2) the store
rows commit in one transaction; (3) the folder is renamed to ``build/<id>`` and ``build/latest``
is swapped atomically. A crash before (2) leaves an orphan staging folder that the next compile
deletes; a crash between (2) and (3) leaves a complete staging folder the store knows, which the
next compile publishes. ``latest`` and the previous build are never touched before (3).
"""
from __future__ import annotations

import fcntl
import itertools
import json
import os
import queue
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from syllabus.compile import layout, trace
from syllabus.compile.build import XB, XD, XE, XJ, XU, Compiled, delete_all_examples, delete_examples, next_seq
from syllabus.compile.fingerprint import canonical, digest, parse_deps
from syllabus.compile.index_file import INDEX, write_index
from syllabus.errors import SyllabusError

MANIFEST = "manifest.json"
_RECORD_BATCH = 200_000
_UNITS_PER_BLOCK = 10_000  # unit rows written with each block of examples by a compile from nothing
_UNIT_COLUMNS = ("key", "discipline", "fp", "fields")
_KERNEL_COPY = 1 << 20  # runs of lines this long or longer are copied by copy_file_range
_SYNC_STEP = 256 << 20  # while a large file is written, what is written so far is synced every this many bytes
_GATHER_MAX = 256 << 20  # a file of short runs of lines up to this size is read a stretch at a time
_GATHER_GAP = 1 << 12  # lines this close in one source are read together (see _gathered)


@dataclass
class Staged:
    build_id: str
    seq: int
    staging: Path
    final: Path
    manifest: dict


def failpoint(name: str) -> None:
    """Die here, as a crash would, when SYLLABUS_FAILPOINT names this point (used by the kill tests)."""
    if os.environ.get("SYLLABUS_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def compile_lock(root: Path, wait: float = 0.0):
    """An exclusive lock on the build folder; E063 when another compile holds it past *wait* seconds."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / ".lock"
    fh = open(path, "a+")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                fh.close()
                raise SyllabusError("E063", path=str(path), pid=holder) from None
            time.sleep(0.1)
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    try:
        yield
    finally:
        fh.close()


def recover(session: Session, root: Path) -> list[str]:
    """Finish or discard staging folders left by an interrupted compile; returns what was done."""
    done = []
    known = set(session.scalars(select(XB.c.id)))
    if root.is_dir():
        for tmp in sorted(root.glob(".tmp-*")):
            build_id = tmp.name[len(".tmp-"):]
            if build_id in known and (tmp / MANIFEST).is_file():
                os.replace(tmp, root / build_id)
                done.append(f"published {build_id} left staged by an interrupted compile")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
                done.append(f"removed {tmp.name} left by an interrupted compile")
    last = session.scalar(select(XB.c.id).order_by(XB.c.seq.desc()).limit(1))
    if last and (root / last).is_dir():
        _point_latest(root, last)
    return done


def build_folder(root: Path, build_id: str | None) -> Path:
    """The folder of a build id, or of ``latest``; E070 when there is none."""
    name = build_id or "latest"
    path = root / name
    if not (path / MANIFEST).is_file():
        raise SyllabusError("E070", build=name, where=f" in {root}")
    return path.resolve()


def stage(compiled: Compiled, root: Path, parent_dir: Path | None) -> Staged:
    """Write the build's files into a staging folder (nothing visible changes yet)."""
    arrays = compiled.dedup_arrays
    kept = ~arrays["dropped"]
    manifest = _manifest(compiled, arrays, kept)
    seq, build_id = next_seq(compiled.parent), compiled.build_id
    manifest = {"build": build_id, **manifest}
    staging = root / f".tmp-{build_id}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / layout.SHARDS).mkdir(parents=True)
    syncing = _Syncer()  # the examples reach the disk while the index and the manifest are written
    files, arrays, linkable = _line_sources(arrays, parent_dir, [compiled.spool_dir / name for name in compiled.spools])
    kept_at, dropped_at = np.nonzero(kept)[0], np.nonzero(~kept)[0]
    bounds = layout.shard_bounds(arrays["ids"][kept_at])
    offsets = np.zeros(len(arrays["ids"]), dtype=np.int64)
    offsets[kept_at] = shard_offsets(arrays["len"][kept_at], bounds)
    offsets[dropped_at] = line_offsets(arrays["len"][dropped_at])
    # the index and the manifest need only the offsets: a thread writes them while the lines are copied
    side = _Side(lambda: _write_index_and_manifest(staging, arrays, offsets, manifest, syncing))
    try:
        wholes = _whole_files(arrays, kept_at, bounds, files, linkable)
        for shard, start, end, whole in zip(layout.SHARD_NAMES, bounds[:-1].tolist(), bounds[1:].tolist(), wholes):
            rows, path = kept_at[start:end], layout.shard_path(staging, shard)
            if not len(rows):
                continue
            if whole is not None:
                os.link(whole, path)  # the parent's shard, already on the disk: nothing to write or sync
            else:
                _assemble(path, rows, arrays, files, lambda: syncing.add(path))
                syncing.add(path)
        syncing.add(staging / layout.SHARDS)
        trace.phase("examples written")
        dropped_path = staging / layout.DROPPED
        _assemble(dropped_path, dropped_at, arrays, files, lambda: syncing.add(dropped_path))
        syncing.add(dropped_path)
        trace.phase(f"{layout.DROPPED} written")
        side.wait()
        syncing.add(staging)
        trace.phase("index and manifest written")
        syncing.wait()
    except BaseException as exc:
        side.wait(raise_error=False)
        syncing.wait(raise_error=False)
        if not isinstance(exc, OSError):
            raise
        shutil.rmtree(staging, ignore_errors=True)
        raise SyllabusError("E074", file=str(staging), detail=exc.strerror or str(exc)) from exc
    return Staged(build_id, seq, staging, root / build_id, manifest)


def _line_sources(arrays: dict, parent_dir: Path | None, spools: list[Path]) -> tuple[list[Path | None], dict, int]:
    """The files lines are copied from, *arrays* with ``src`` coding a line's file among them, and
    the first code of the parent's shard files (codes from there on may be hard-linked).

    In the candidate arrays ``src`` is 0 for the parent's kept examples, 1 for its dropped ones and
    2, 3, ... for the spool files; a sharded parent's kept example is coded here by its shard.
    """
    single = parent_dir / layout.SINGLE if parent_dir and not layout.is_sharded(parent_dir) else None
    files = [single, parent_dir / layout.DROPPED if parent_dir else None, *spools]
    if parent_dir is None or single is not None:
        return files, arrays, len(files)
    src = arrays["src"].copy()
    in_parent = np.nonzero(src == 0)[0]
    bounds = layout.shard_bounds(arrays["ids"])
    linkable = len(files)
    src[in_parent] = linkable + np.searchsorted(bounds, in_parent, side="right") - 1
    files += [layout.shard_path(parent_dir, shard) for shard in layout.SHARD_NAMES]
    return files, {**arrays, "src": src}, linkable


def _whole_files(arrays: dict, rows: np.ndarray, bounds: np.ndarray, files: list[Path | None],
                 linkable: int) -> list[Path | None]:
    """For each shard (``rows[bounds[k]:bounds[k + 1]]``, the kept lines in id order), the parent's
    shard file when the shard's lines are that file, whole and in order; else None."""
    src, off, length = arrays["src"][rows], arrays["off"][rows], arrays["len"][rows]
    # breaks[i]: how many of the first i lines do not continue the line before them in its file
    breaks = np.r_[0, 0, np.cumsum((src[1:] != src[:-1]) | (off[1:] != off[:-1] + length[:-1]))]
    ends = np.r_[0, np.cumsum(length)]
    out: list[Path | None] = []
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        whole = None
        if end > start and src[start] >= linkable and off[start] == 0 and breaks[end] == breaks[start + 1]:
            path = files[int(src[start])]
            whole = path if int(ends[end] - ends[start]) == path.stat().st_size else None
        out.append(whole)
    return out


def _write_index_and_manifest(staging: Path, arrays: dict, offsets: np.ndarray, manifest: dict,
                              syncing: "_Syncer") -> None:
    dropped_at = np.nonzero(arrays["dropped"])[0]
    write_index(staging / INDEX, dict(
        ids=arrays["ids"], exact=arrays["exact"], sig=arrays["sig"], dropped=arrays["dropped"], off=offsets,
        len=arrays["len"], disc=arrays["disc"], task=arrays["task"],
        disc_names=np.array(arrays["disc_names"], dtype=str), task_names=np.array(arrays["task_names"], dtype=str),
        reason_at=dropped_at,
        reason=np.array([arrays["reason"][arrays["ids"][i]] for i in dropped_at.tolist()], dtype=str)))
    syncing.add(staging / INDEX)
    _write_json(staging / MANIFEST, manifest)
    syncing.add(staging / MANIFEST)


class _Side:
    """*fn* in a background thread; :meth:`wait` joins it and re-raises its error."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc

    def wait(self, raise_error: bool = True) -> None:
        self._thread.join()
        if self._error is not None and raise_error:
            raise self._error


class _Syncer:
    """fsync files (and folders) in a background thread, in the order added; :meth:`wait` re-raises."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, path: Path) -> None:
        self._queue.put(path)

    def wait(self, raise_error: bool = True) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and raise_error:
            raise self._error

    def _run(self) -> None:
        while (path := self._queue.get()) is not None:
            if self._error is None:
                try:
                    fd = os.open(path, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                except OSError as exc:
                    self._error = exc


def record(session: Session, compiled: Compiled, staged: Staged) -> None:
    """The store side of a build: examples, dependencies, stale marks, fingerprints, journal, build row."""
    arrays = compiled.dedup_arrays
    status = np.asarray(arrays["changed_status"], dtype=np.int64)  # examples that are new or kept/dropped anew
    if compiled.streamed:  # the rows went in without a reason: only the dropped ones need theirs
        status = status[arrays["dropped"][status]]
    reason_of = {eid.decode(): arrays["reason"].get(eid) for eid in arrays["ids"][status].tolist()}
    if not compiled.streamed:  # else the rows went in while rendering (see StreamingRecord)
        delete_examples(session, compiled.removed_ids)
        next_seq = (session.scalar(select(func.max(XE.c.seq))) or 0) + 1
        insert_examples(session, compiled.new, next_seq, staged.build_id, reason_of)
    dropped = [{"i": eid, "r": reason} for eid, reason in reason_of.items() if reason or not compiled.streamed]
    if dropped:
        session.connection().execute(update(XE).where(XE.c.id == bindparam("i")).values(dropped=bindparam("r")),
                                     dropped)
    if compiled.pending_jobs:  # examples of unselected jobs that read a changed unit are now stale
        changed = sorted(compiled.stale_units)
        for i in range(0, len(changed), 500):
            session.execute(update(XE).where(XE.c.seq.in_(select(XD.c.example)
                                                          .where(XD.c.unit.in_(changed[i:i + 500]))))
                            .values(stale=1))
    if session.scalar(select(XE.c.seq).where(XE.c.stale == 1).limit(1)) is not None:
        redone = sorted(compiled.redone_jobs)
        for i in range(0, len(redone), 500):
            session.execute(update(XE).where(XE.c.unit.in_(redone[i:i + 500]), XE.c.stale == 1).values(stale=0))
    trace.phase("example rows updated")
    save_state(session, compiled)
    trace.phase("unit fingerprints saved")
    session.execute(insert(XB).values(id=staged.build_id, seq=staged.seq, parent=staged.manifest["parent"],
                                      created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                      path=str(staged.final), selector=compiled.selector,
                                      counts=canonical(staged.manifest["changes"])))


_EXAMPLE_COLUMNS = ("seq", "id", "unit", "discipline", "renderer", "task", "template", "template_sha", "deps",
                    "dropped", "stale", "build")


def insert_examples(session: Session, new: list, next_seq: int, build: str, reason_of: dict[str, str | None]) -> None:
    """Example rows (seq from *next_seq*) and their dependency rows; a reason taken from *reason_of* is used up."""
    for lo in range(0, len(new), _RECORD_BATCH):  # in batches: the dependency rows of 1.5M examples are many
        rows, deps = [], []
        for seq, c in enumerate(new[lo:lo + _RECORD_BATCH], next_seq + lo):
            rows.append((seq, *c, reason_of.pop(c.id, None) if reason_of else None, 0, build))  # c: a Candidate
            deps += [(k, seq) for k in parse_deps(c.deps)]
        bulk_insert(session, XE.name, _EXAMPLE_COLUMNS, rows)
        deps.sort()
        bulk_insert(session, XD.name, ("unit", "example"), deps)


class StreamingRecord:
    """Store rows written while a compile from nothing renders, so the store is filled as blocks of
    examples arrive (in the parent, while the workers render the next blocks), not afterwards.

    Every previous example goes first. The build's name is known before rendering (see
    ``build.build_name``); drop reasons are set by :func:`record` at the end. Dependency rows are
    made after rendering (:meth:`close`) by the database itself, from the example rows' ``deps``
    JSON, in key order: one pass in b-tree order instead of millions of inserts all over it, and
    none of the ~10 rows per example built in Python while the workers render. The example table's
    indexes are dropped while its rows go in and built once at the end, for the same reason
    (random hash ids made a unique index cost more than the rows). It all happens in the compile's
    transaction, so a failed compile leaves no trace.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.next_seq = 1
        self.build = ""
        self._units: Iterator[tuple[str, str, str, str]] = iter(())
        self._moving: _Side | None = None

    def begin(self, build_id: str, units: Iterator[tuple[str, str, str, str]]) -> None:
        """Start: every previous example goes, and the unit table is replaced by *units* (rows of
        key, discipline, fingerprint, field hashes, in key order), written a share at a time with
        the example blocks, so the store's work overlaps the rendering instead of following it."""
        delete_all_examples(self.session)
        for index in _example_indexes():  # built again, sorted, once the rows are in (see close)
            index.drop(self.session.connection())
        self.session.execute(delete(XU))
        self.next_seq, self.build, self._units = 1, build_id, units

    def add(self, new) -> None:
        """Rows for a block of candidates (a ``build.Candidate`` of columns)."""
        n = len(new.id)
        rows = list(zip(range(self.next_seq, self.next_seq + n), *new, itertools.repeat(None, n),
                        itertools.repeat(0, n), itertools.repeat(self.build, n)))
        bulk_insert(self.session, XE.name, _EXAMPLE_COLUMNS, rows)
        self.next_seq += n
        self._insert_units(_UNITS_PER_BLOCK)

    def _insert_units(self, count: int | None) -> None:
        rows = list(itertools.islice(self._units, count))
        bulk_insert(self.session, XU.name, _UNIT_COLUMNS, rows)

    def close(self) -> None:
        """Start making the ``example_dep`` rows from the example rows, in key order, and building the
        example indexes, in a thread.

        It is SQL alone (the driver lets go of the GIL), so the duplicate check and the build files
        go on meanwhile. Nothing else may use the session until :meth:`wait` returns.
        """
        self._insert_units(None)  # those left
        dialect = self.session.get_bind().dialect
        dbapi = self.session.connection().connection.driver_connection
        keys = (f"json_each({XE.name}.deps) AS d" if dialect.name == "sqlite"
                else f"LATERAL json_object_keys({XE.name}.deps::json) AS d(key)")
        statements = (f"INSERT INTO {XD.name} (unit, example) SELECT d.key, {XE.name}.seq FROM {XE.name} "
                      f"CROSS JOIN {keys} ORDER BY 1, 2",
                      *(str(CreateIndex(index).compile(dialect=dialect)) for index in _example_indexes()))
        self._moving = _Side(lambda: _run_sql(dbapi, statements))

    def wait(self, raise_error: bool = True) -> None:
        """Wait for :meth:`close`'s thread (a no-op when it was not started)."""
        moving, self._moving = self._moving, None
        if moving is not None:
            moving.wait(raise_error)


def _example_indexes() -> list:
    """The example table's indexes (all of them secondary), by name."""
    return sorted(XE.indexes, key=lambda index: index.name)


def _run_sql(dbapi, statements: tuple[str, ...]) -> None:
    cursor = dbapi.cursor()
    try:
        for sql in statements:
            cursor.execute(sql)
    finally:
        cursor.close()


def bulk_insert(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple], batch: int = 50_000) -> None:
    """Many rows through the driver's executemany (no per-row statement compilation)."""
    if not rows:
        return
    style = session.get_bind().dialect.paramstyle
    mark = "?" if style == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn = session.connection()
    for i in range(0, len(rows), batch):
        conn.exec_driver_sql(sql, rows[i:i + batch])


def save_state(session: Session, compiled: Compiled) -> None:
    """Refreshed fingerprints and the consumed journal (pending unselected jobs stay in it)."""
    if not compiled.streamed:  # else the unit table was replaced while rendering (see StreamingRecord.begin)
        _save_units(session, compiled.unit_updates, compiled.full)
    session.execute(delete(XJ).where(XJ.c.seq <= compiled.journal_max))
    pending = sorted(compiled.pending_jobs)
    if pending:
        session.execute(insert(XJ), [{"unit": k} for k in pending])


def _save_units(session: Session, updates: dict[str, tuple[str, str, str] | None], full: bool) -> None:
    present = sorted(k for k, v in updates.items() if v is not None)
    if full:  # every unit was fingerprinted: replace the table
        session.execute(delete(XU))
    else:  # the rows of removed units, and the old rows of refreshed ones
        old = [k for k, v in updates.items() if v is None] + present
        for i in range(0, len(old), 500):
            session.execute(delete(XU).where(XU.c.key.in_(old[i:i + 500])))
    bulk_insert(session, XU.name, _UNIT_COLUMNS, [(k, *updates[k]) for k in present])


def publish(staged: Staged, root: Path) -> Path:
    """Rename the staged folder into place and move ``latest`` to it."""
    os.replace(staged.staging, staged.final)
    _point_latest(root, staged.build_id)
    return staged.final


def _point_latest(root: Path, build_id: str) -> None:
    link = root / "latest"
    if link.is_symlink() and os.readlink(link) == build_id:
        return
    tmp = root / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(build_id, tmp)
    os.replace(tmp, link)


def line_offsets(lengths: np.ndarray) -> np.ndarray:
    """Where each line starts in a file of lines of these *lengths*, written one after another."""
    return np.cumsum(np.r_[0, lengths[:-1]]).astype(np.int64) if len(lengths) else np.zeros(0, np.int64)


def shard_offsets(lengths: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Where each line starts in its shard file: lines of these *lengths* in id order, shards cut at *bounds*."""
    offsets = line_offsets(lengths)
    first = bounds[:-1][bounds[:-1] < len(lengths)]  # each non-empty shard's first line
    counts = np.diff(np.r_[first, len(lengths)])
    return offsets - np.repeat(offsets[first], counts)


def _assemble(path: Path, order: np.ndarray, arrays: dict, sources: list[Path | None],
              progress: Callable[[], None] = lambda: None) -> np.ndarray:
    """Write the lines at *order* (id order) from their sources; returns each line's new offset.

    Consecutive lines that sit one after another in one source are copied as one run: long runs
    (an incremental build reusing its parent's lines) in the kernel, short ones by positioned reads;
    a file made of short runs alone (freshly rendered lines) is read a stretch at a time instead
    (see :func:`_gathered`). *progress* is called each
    time another ``_SYNC_STEP`` bytes have reached the file (the caller syncs them meanwhile, so
    the disk writes overlap the copying instead of all waiting for the end).
    """
    src, off, length = arrays["src"][order], arrays["off"][order], arrays["len"][order]
    out_offsets = line_offsets(length)
    handles = {}
    try:
        with open(path, "wb") as out:
            if len(order):
                brk = np.r_[True, (src[1:] != src[:-1]) | (off[1:] != off[:-1] + length[:-1])]
                starts = np.nonzero(brk)[0]
                ends = np.r_[starts[1:], len(order)]
                ends_bytes = np.cumsum(length)
                totals = ends_bytes[ends - 1] - np.r_[0, ends_bytes[starts[1:] - 1]]
                if len(starts) > 1 and totals.max() < _KERNEL_COPY and ends_bytes[-1] <= _GATHER_MAX:
                    lines = _gathered(src, off, length, sources, handles)
                    out.write(lines[0])
                    failpoint("writing")  # the kill tests stop here, with the file half written
                    out.write(b"".join(lines[1:]))
                    return out_offsets
                pending: list = []
                unsynced = 0
                for n, (kind, start, total) in enumerate(zip(src[starts].tolist(), off[starts].tolist(),
                                                            totals.tolist())):
                    if n == 1:  # the kill tests stop here, with the file half written
                        out.write(b"".join(pending))
                        pending.clear()
                        failpoint("writing")
                    if kind not in handles:
                        handles[kind] = open(sources[kind], "rb")
                    if total < _KERNEL_COPY:
                        pending.append(os.pread(handles[kind].fileno(), total, start))
                        unsynced += total
                        if len(pending) >= 4096 or unsynced >= _SYNC_STEP:
                            out.write(b"".join(pending))
                            pending.clear()
                            if unsynced >= _SYNC_STEP:
                                out.flush()
                                progress()
                                unsynced = 0
                        continue
                    out.write(b"".join(pending))
                    pending.clear()
                    for piece in range(start, start + total, _SYNC_STEP):
                        size = min(_SYNC_STEP, start + total - piece)
                        _copy(handles[kind], out, piece, size)
                        unsynced += size
                        if unsynced >= _SYNC_STEP:
                            progress()
                            unsynced = 0
                out.write(b"".join(pending))
    finally:
        for fh in handles.values():
            fh.close()
    return out_offsets


def _gathered(src: np.ndarray, off: np.ndarray, length: np.ndarray, sources: list[Path | None],
              handles: dict) -> list[bytes]:
    """The lines at (*src*, *off*, *length*), in the order given, read a stretch at a time.

    Lines of one source that lie within ``_GATHER_GAP`` bytes of each other are read with one
    positioned read and cut apart in memory: the lines of one shard, spooled in id order block by
    block (see ``build._render_block``), take one read per block instead of one per line.
    """
    by_place = np.lexsort((off, src))
    p_src, p_off = src[by_place], off[by_place]
    p_end = p_off + length[by_place]
    brk = np.r_[True, (p_src[1:] != p_src[:-1]) | (p_off[1:] > p_end[:-1] + _GATHER_GAP)]
    firsts = np.flatnonzero(brk)
    stretch = np.cumsum(brk) - 1
    begin, end = p_off[firsts], np.maximum.reduceat(p_end, firsts)
    reads = []
    for kind, start, size in zip(p_src[firsts].tolist(), begin.tolist(), (end - begin).tolist()):
        if kind not in handles:
            handles[kind] = open(sources[kind], "rb")
        reads.append(os.pread(handles[kind].fileno(), size, start))
    data = b"".join(reads)
    at = np.empty(len(off), dtype=np.int64)  # where each line (in the order given) starts in data
    at[by_place] = (np.cumsum(end - begin) - (end - begin))[stretch] + p_off - begin[stretch]
    return [data[a:a + n] for a, n in zip(at.tolist(), length.tolist())]


def _copy(src, dst, offset: int, count: int) -> None:
    dst.flush()
    while count > 0:
        try:
            n = os.copy_file_range(src.fileno(), dst.fileno(), count, offset)
        except OSError:
            n = 0
        if n <= 0:  # not supported here: copy through user space
            src.seek(offset)
            dst.write(src.read(count))
            dst.flush()
            return
        offset += n
        count -= n
    dst.seek(0, os.SEEK_END)


def _manifest(compiled: Compiled, arrays: dict, kept: np.ndarray) -> dict:
    discs, tasks = arrays["disc_names"], arrays["task_names"]
    by_discipline = np.bincount(arrays["disc"][kept], minlength=len(discs)).tolist()
    by_task = np.bincount(arrays["task"][kept], minlength=len(tasks)).tolist()
    removals = [{"id": arrays["ids"][i].decode(), "discipline": discs[arrays["disc"][i]], "task": tasks[arrays["task"][i]],
                 "reason": arrays["reason"][arrays["ids"][i]]} for i in np.nonzero(~kept)[0].tolist()]
    return {
        "schema_version": compiled.settings["schema_version"],
        "parent": compiled.parent["id"] if compiled.parent else None,
        "config_hash": digest(canonical(compiled.settings)),
        "settings": compiled.settings,
        "selector": compiled.selector,
        "input_fingerprints": compiled.fingerprint_sums,
        "changes": {k: compiled.counts[k] for k in ("new", "changed", "unchanged", "removed", "rendered")},
        "counts": {"examples": int(kept.sum()), "dropped": int((~kept).sum()),
                   "by_discipline": {d: n for d, n in zip(discs, by_discipline) if n},
                   "by_task": {t: n for t, n in zip(tasks, by_task) if n}},
        "quality": {"removed": removals},
    }


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(manifest_text(data))


_LIST_MARK = "@@syllabus-removed-list@@"


def manifest_text(manifest: dict) -> str:
    """The manifest as indented JSON, with each quality-gate removal on one line of its own.

    Indented JSON goes through the json module's pure-Python encoder, which took 0.6 s for the
    20,000 removals of a large build; the removals are encoded by the C encoder, one per line.
    """
    removed = manifest.get("quality", {}).get("removed")
    if not removed:
        return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    text = json.dumps({**manifest, "quality": {**manifest["quality"], "removed": _LIST_MARK}}, indent=2,
                      sort_keys=True, ensure_ascii=False)
    rows = ",\n      ".join(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in removed)
    return text.replace(json.dumps(_LIST_MARK), "[\n      " + rows + "\n    ]", 1) + "\n"
