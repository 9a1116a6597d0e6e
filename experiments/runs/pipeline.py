"""A core in its own process, fed while the twin simulates the next ticks.

On a machine with two or more cores the twin (physics, shoppers, sensors) and the core
(tracking, shelf events, billing) need not take turns: a real store runs its core on its own
compute too. :class:`CoreProcess` starts the core in a spawned process, sends it the sensor
batches in chunks of ``chunk`` ticks as the twin produces them, and collects what the core
returns on a reader thread, so a run's wall time is about the slower of the two instead of
their sum. The core sees exactly the batches, in exactly the order, it would see in process,
so tracks and receipts are the same (``tests/experiments/test_run.py`` checks it).

Errors in the core come back as :class:`CoreProcessError` naming the tick's time; a core
process that dies is reported the same way, never as a hang.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any

from core.records import Receipt, SensorBatch, Tracks
from experiments.runs.guard import CoreFault


class CoreProcessError(CoreFault):
    """The core in its process raised, died or gave no answer within the deadline."""


@dataclass
class CoreSummary:
    """What a run reads off a core after its last tick, brought back from the core process."""

    stats: Any
    ledger: dict | None
    journeys: dict | None = None    # the core's journey table (core.journeys), if it keeps one
    final_tracks: tuple = ()        # tracks of the frames its finish processed (held late)
    health: dict | None = None      # its sensor_health(), if it has one


def _serve(conn, core, knowledge, journey_key: bytes | None = None) -> None:  # pragma: no cover - runs in the child process
    from core.ledger import ledger_json

    busy = 0.0
    t = float("nan")
    try:
        t0 = time.perf_counter()
        core.start(knowledge)
        busy += time.perf_counter() - t0
        while True:
            kind, payload = conn.recv()
            if kind == "batches":
                out = []
                t0 = time.perf_counter()
                for b in payload:
                    t = b.t
                    out.append(core.step(b))
                busy += time.perf_counter() - t0
                conn.send(("results", out))
            elif kind == "finish":
                t = payload
                t0 = time.perf_counter()
                receipts = core.finish(payload)
                busy += time.perf_counter() - t0
                jt = getattr(core, "journeys", None)
                health = getattr(core, "sensor_health", None)
                conn.send(("finished", (receipts, busy, CoreSummary(
                    getattr(core, "stats", None), ledger_json(core),
                    jt(journey_key) if callable(jt) and journey_key else None,
                    tuple(getattr(core, "final_tracks", ())),
                    health() if callable(health) else None))))
                return
    except BaseException as e:  # noqa: BLE001 - reported to the parent, with the tick
        conn.send(("error", (t, f"{type(e).__name__}: {e}", traceback.format_exc())))


def _context():
    """fork where it is safe (POSIX, this process runs one thread: the child starts in
    milliseconds with every module already imported), else spawn (a fresh interpreter)."""
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return mp.get_context("fork")
    return mp.get_context("spawn")


class CoreProcess:
    """Drive ``core`` (a :class:`core.protocol.Core`, picklable) in a child process.

    ``submit(batch)`` for every tick in order, then ``finish(t)`` returns every tick's
    ``(tracks, receipts)`` (in order), the final receipts, the core's busy seconds and a
    :class:`CoreSummary`. Batches go out ``chunk`` ticks at a time from the caller's thread
    (a full pipe makes the twin wait for the core: back-pressure); what the core returns is
    read by one thread, so neither side can block the other for good.
    ``finish_wait_s``: how long the caller waited for the core at the end. ``journey_key``:
    the summary holds the core's journeys under this pseudonym key, when it keeps them.
    """

    def __init__(self, core, knowledge, chunk: int = 60,
                 deadline_s: float | None = None, journey_key: bytes | None = None) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        if deadline_s is not None and not deadline_s > 0:
            raise ValueError(f"deadline_s must be > 0, got {deadline_s}")
        self.chunk = chunk
        self.deadline_s = deadline_s
        self._last_t: float | None = None      # the last tick sent
        # each sent, unanswered chunk's first and last tick [s], oldest first: a core that
        # fails is reported at the chunk it was working on, not at the last tick sent
        self._open_chunks: deque[tuple[float, float]] = deque()
        self._sent = 0                         # chunks sent, and answered
        self._answered = 0
        self._waiting_since: float | None = None   # monotonic time of the oldest unanswered
        ctx = _context()
        self._conn, child = ctx.Pipe()
        for c in (self._conn, child):   # room for a few seconds of batches in flight
            sock = socket.socket(fileno=os.dup(c.fileno()))
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            except OSError:  # pragma: no cover - a platform without the options
                pass
            finally:
                sock.close()
        self._proc = ctx.Process(target=_serve, args=(child, core, knowledge, journey_key),
                                 daemon=True,
                                 name="storetwin-core")
        self._proc.start()
        child.close()
        self._pending: list[SensorBatch] = []
        self._results: list[tuple[list[Tracks], list[Receipt]]] = []
        self._lock = threading.Lock()       # the reader appends, take() empties
        self._final: tuple | None = None
        self._error: tuple | None = None
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.finish_wait_s = 0.0
        if deadline_s is not None:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        """Kill a core that leaves a chunk (or its start, or its finish) unanswered for
        ``deadline_s``: a hang becomes a clear error, not a run that never ends."""
        while not self._done.wait(min(1.0, self.deadline_s / 4)):
            since = self._waiting_since
            if since is not None and time.monotonic() - since > self.deadline_s:
                t0, t1 = self._working_on()
                self._error = (t0, f"no answer within the {self.deadline_s:g} s deadline "
                                   f"for the ticks t={t0:.4f}-{t1:.4f} s" if t0 is not None
                               else f"no answer within the {self.deadline_s:g} s deadline", "")
                self._proc.kill()
                return

    def _read(self) -> None:
        try:
            while True:
                kind, payload = self._conn.recv()
                if kind == "results":
                    with self._lock:
                        self._results.extend(payload)
                    self._answered += 1
                    if self._open_chunks:
                        self._open_chunks.popleft()
                    self._waiting_since = (time.monotonic() if self._answered < self._sent
                                           else None)
                elif kind == "finished":
                    self._final = payload
                    break
                elif kind == "error":
                    self._error = payload
                    break
        except (EOFError, OSError):
            if self._error is None:
                self._proc.join(timeout=5)
                t0, t1 = self._working_on()
                self._error = (t0, "the core process died (exit code "
                                   f"{self._proc.exitcode}) while billing the ticks "
                                   f"t={t0:.4f}-{t1:.4f} s" if t0 is not None else
                               f"the core process died (exit code {self._proc.exitcode})", "")
        finally:
            self._done.set()

    def _working_on(self) -> tuple[float | None, float | None]:
        """The first and last tick of the oldest chunk the core has not answered (what it
        was working on when it failed); the last tick sent when none is open."""
        if self._open_chunks:
            return self._open_chunks[0]
        return self._last_t, self._last_t

    def _check(self) -> None:
        if self._error is not None:
            t, msg, tb = self._error
            raise CoreProcessError(None if t is None or t != t else t,
                                   msg + (f"\n{tb}" if tb else ""))

    def take(self) -> list[tuple[list[Tracks], list[Receipt]]]:
        """Every tick's ``(tracks, receipts)`` answered since the last call, in order (so a
        long run does not keep them all until :meth:`finish`)."""
        with self._lock:
            out, self._results = self._results, []
        return out

    def submit(self, batch: SensorBatch) -> None:
        self._pending.append(batch)
        self._last_t = batch.t
        if len(self._pending) >= self.chunk:
            self._send_chunk()

    def _send_chunk(self) -> None:
        p = self._pending
        self._open_chunks.append((p[0].t, p[-1].t))
        self._send(("batches", p))
        self._pending = []

    def _send(self, msg) -> None:
        self._check()
        if msg[0] in ("batches", "finish"):
            self._sent += 1
            if self._waiting_since is None:
                self._waiting_since = time.monotonic()
        try:
            self._conn.send(msg)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._done.wait(10.0)
            self._check()
            raise CoreProcessError("the core process is gone") from None

    def finish(self, t: float):
        t0 = time.perf_counter()
        if self._pending:
            self._send_chunk()
        self._open_chunks.append((t, t))      # the finish is a chunk of its own
        self._send(("finish", t))
        self._done.wait()
        self.finish_wait_s += time.perf_counter() - t0
        self._reader.join()
        self._proc.join(timeout=10)
        if self._proc.is_alive():  # pragma: no cover - a core that will not exit
            self._proc.kill()
        self._conn.close()
        self._check()
        receipts, busy, summary = self._final
        return self._results, receipts, busy, summary

    def close(self) -> None:
        """Stop the core process (after an error in the twin)."""
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
