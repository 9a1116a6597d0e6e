"""Track rows on disk as a run makes them, and the tracking scores read back in chunks: a
run's memory does not grow with its length (issue 24, "memory flat in simulated time").

:class:`TrackRowWriter` appends (frame, t, id, x, y) rows to a Parquet file, a row group
every ``flush_rows`` rows (or at :meth:`TrackRowWriter.commit`, for a run that may have to
drop what came after its last checkpoint). :func:`tracking_scores_from_files` reads the
ground truth's and the core's files in chunks of whole frames, three times (the ids; the
CLEAR matching, the ID measures' co-occurrence and HOTA's association; HOTA's matching),
into the accumulators :func:`experiments.scoring.tracking.score_tracking` and
:func:`experiments.scoring.hota.score_hota` use on arrays: the same scores, whatever the
chunk size (``tests/experiments/test_streaming_scores.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.scoring.hota import HotaAccumulator
from experiments.scoring.tracking import ClearAccumulator, as_track_rows


def track_schema(id_name: str) -> pa.Schema:
    return pa.schema([("frame", pa.int64()), ("t", pa.float64()), (id_name, pa.int64()),
                      ("x", pa.float64()), ("y", pa.float64())])


class TrackRowWriter:
    """Rows of one track table to ``path`` as they come (``add`` per frame, in frame
    order). ``hold``: write only at :meth:`commit` (what is added after it can still be
    :meth:`discard` ed)."""

    def __init__(self, path: str | Path, id_name: str, flush_rows: int = 100_000,
                 hold: bool = False) -> None:
        self.path = Path(path)
        self.schema = track_schema(id_name)
        self.flush_rows = int(flush_rows)
        self.hold = hold
        self._buf: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self._n = 0
        self.rows = 0
        self._w: pq.ParquetWriter | None = None

    def add(self, frame: int, t: float, ids: np.ndarray, xy: np.ndarray) -> None:
        ids = np.asarray(ids, np.int64).reshape(-1)
        self._buf.append((int(frame), float(t), ids, np.asarray(xy, np.float64).reshape(-1, 2)))
        self._n += ids.size
        if not self.hold and self._n >= self.flush_rows:
            self.commit()

    def commit(self) -> None:
        """Everything added so far to the file."""
        if self._w is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._w = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        if self._buf:
            n = [b[2].size for b in self._buf]
            xy = np.concatenate([b[3] for b in self._buf])
            self._w.write_table(pa.table([
                pa.array(np.repeat([b[0] for b in self._buf], n), pa.int64()),
                pa.array(np.repeat([b[1] for b in self._buf], n), pa.float64()),
                pa.array(np.concatenate([b[2] for b in self._buf]), pa.int64()),
                pa.array(xy[:, 0]), pa.array(xy[:, 1])], schema=self.schema))
            self.rows += self._n
        self._buf, self._n = [], 0

    def discard(self) -> None:
        """Drop what was added since the last commit."""
        self._buf, self._n = [], 0

    def close(self) -> None:
        self.commit()
        if self._w is not None:
            self._w.close()
            self._w = None


def _batches(path: Path, id_name: str) -> Iterator[tuple[np.ndarray, ...]]:
    # one thread, no pre-buffering: pyarrow's reader threads would hold ~100 MB of
    # arenas for a two-hour run's files (measured), for no gain on a sequential scan
    f = pq.ParquetFile(path, pre_buffer=False)
    for b in f.iter_batches(batch_size=65_536, columns=["frame", id_name, "x", "y"],
                            use_threads=False):
        yield (b.column(0).to_numpy(), b.column(1).to_numpy(),
               np.stack([b.column(2).to_numpy(), b.column(3).to_numpy()], axis=1))


class _Rows:
    """Rows of one file (in frame order), handed out up to a frame at a time: a list of
    read batches and how far into the first one has been handed out (no batch is copied
    but the slices handed out)."""

    def __init__(self, path: Path, id_name: str) -> None:
        self._it = _batches(path, id_name)
        self._buf: list[tuple[np.ndarray, ...]] = []
        self._at = 0            # rows of the first batch already handed out
        self._done = False
        self.last = -1          # the largest frame read so far

    def _more(self) -> bool:
        if self._done:
            return False
        nxt = next(self._it, None)
        if nxt is None:
            self._done = True
            return False
        if nxt[0].size:
            self._buf.append(nxt)
            self.last = max(self.last, int(nxt[0][-1]))
        return True

    def upto(self, end: int) -> tuple[np.ndarray, ...]:
        """Every row of a frame below ``end`` not handed out yet."""
        while self.last < end and self._more():
            pass
        parts: list[tuple[np.ndarray, ...]] = []
        while self._buf:
            b = self._buf[0]
            stop = int(np.searchsorted(b[0], end, side="left"))
            if stop > self._at:
                parts.append(tuple(c[self._at:stop] for c in b))
            if stop < b[0].size:
                self._at = stop
                break
            self._buf.pop(0)
            self._at = 0
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2))
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))

    @property
    def exhausted(self) -> bool:
        return self._done and not self._buf

    def first(self) -> int | None:
        """The lowest frame still to hand out (None: none read)."""
        return int(self._buf[0][0][self._at]) if self._buf else None


def frame_chunks(gt: tuple[Path, str], hy: tuple[Path, str], frames: int = 2_000
                 ) -> Iterator[tuple[np.ndarray, ...]]:
    """(gf, gi, gxy, hf, hi, hxy) of whole frames, ``frames`` at a time, sorted by (frame,
    id): the two files read side by side (each must be in frame order)."""
    g, h = _Rows(*gt), _Rows(*hy)
    end = 0
    while True:
        end += frames
        gr, hr = g.upto(end), h.upto(end)
        if gr[0].size or hr[0].size:
            yield (*as_track_rows(*gr, "gt"), *as_track_rows(*hr, "hy"))
        elif g.exhausted and h.exhausted:
            return
        else:                         # a gap of frames: on to the window of the next row
            nxt = min(f for f in (g.first(), h.first()) if f is not None)
            end = max(end, nxt - nxt % frames)


def tracking_scores_from_files(gt: tuple[Path, str], hy: tuple[Path, str],
                               threshold_m: float = 1.0, frames: int = 2_000) -> dict:
    """CLEAR MOT, IDF1 and HOTA at ``threshold_m`` of the ground-truth rows in file
    ``gt`` (path, id column) against the track rows in ``hy``, read ``frames`` frames at a
    time (the metrics.json ``tracking`` block)."""
    g_ids, h_ids = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for c in frame_chunks(gt, hy, frames):
        g_ids = np.union1d(g_ids, c[1])
        h_ids = np.union1d(h_ids, c[4])
    clear = ClearAccumulator(g_ids, h_ids, threshold_m)
    hota = HotaAccumulator(g_ids, h_ids, threshold_m)
    for c in frame_chunks(gt, hy, frames):
        clear.add(c)
        hota.potential(c)
    for c in frame_chunks(gt, hy, frames):
        hota.match(c)
    return {**clear.result().as_dict(), **hota.result().as_dict()}
