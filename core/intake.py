"""The core's intake: sensor messages put back in time order before anything reads them.

A store's network delivers messages late and out of order (a camera's frame overtaken by a
plate message, a switch that buffers). Every message carries its own timestamp (a frame its
capture time, a plate message its last sample's time, a check-in its scan time), so the
core orders them by it, as stream processors do with a bounded out-of-orderness watermark
(Apache Flink's ``forBoundedOutOfOrderness``, Kafka Streams' grace period): a message is
processed once the newest arrival is ``window`` seconds past it, and messages then come out
grouped as the sensors produced them (one batch per frame or plate-message time, check-ins
with the next of those).

The window starts at 0 (a network that delivers in order costs no latency: the core sees
exactly the batches it is given) and grows to ``margin`` times the latest lateness seen, up
to ``max_reorder_s``; so it adapts to the network it is on, deterministically. A frame or
plate message older than what was already processed cannot be put back: it is dropped and
counted (:attr:`Intake.dropped`), and a dropped plate message is reported to the caller
(:attr:`Intake.lost_plates`) so the plates it came from are doubted for that time.
Check-ins are never dropped: a late one is processed with its scan time.
"""

from __future__ import annotations

import heapq
import math

from core.records import SensorBatch
from params import config, num


@config(frozen=True)
class IntakeConfig:
    """max_reorder_s: the longest a message waits for the ones it overtook [s] (a message
    later than this is lost for billing; five seconds is ten of the twin's plate messages
    and longer than a receipt's unscored tail is short); margin: the window is this many
    times the latest lateness seen (room for a later one than seen so far) [-]."""

    max_reorder_s: float = num(5.0, ge=0.0, le=60.0, unit="s")
    margin: float = num(1.5, ge=1.0, le=10.0)


class Intake:
    """Orders a core's incoming :class:`SensorBatch` es by their messages' own timestamps
    (module doc). ``push(batch)`` returns the batches now ready, in time order;
    ``flush()`` the rest (the stream ended)."""

    def __init__(self, config: IntakeConfig | None = None) -> None:
        self.config = config or IntakeConfig()
        self.window = 0.0                   # current reorder window [s]
        self.done_t = -math.inf             # time of the last batch handed on [s]
        self.max_late_s = 0.0               # the latest lateness seen [s]
        self.late = 0                       # messages that arrived out of time order
        self.dropped = {"frames": 0, "plates": 0}
        # (t0, t1, plate ids) of plate messages dropped since the caller last emptied it
        self.lost_plates: list[tuple[float, float, object]] = []
        self._heap: list[tuple[float, int, int, str, object]] = []
        self._n = 0

    def push(self, batch: SensorBatch) -> list[SensorBatch]:
        t = float(batch.t)
        simple = not self._heap and self.window == 0.0
        for g in batch.gate:
            self._add(float(g.t.max()) if len(g) else t, 0, "g", g)
        for p in batch.plates:
            tp = float(p.t[-1]) if p.t.size else t
            if self._late(tp, t, p, "plates"):
                continue
            self._add(tp, 1, "p", p)
        for f in batch.frames:
            if self._late(float(f.t), t, f, "frames"):
                continue
            self._add(float(f.t), 2, "f", f)
        if simple and self.window == 0.0 and all(m[0] <= t for m in self._heap):
            self._heap.clear()          # in order, nothing held: the batch as it came
            self.done_t = max(self.done_t, t)
            return [batch]
        return self._release(t - self.window)

    def _late(self, tm: float, now: float, msg, kind: str) -> bool:
        """Note a message's lateness (growing the window); True when it is too late."""
        late = now - tm
        if late > 0:
            self.late += 1
            if late > self.max_late_s:
                self.max_late_s = late
                self.window = min(self.config.max_reorder_s, self.config.margin * late)
        if tm < self.done_t:
            self.dropped[kind] += 1
            if kind == "plates":
                self.lost_plates.append((float(msg.t[0]), tm, msg.plate))
            return True
        return False

    def _add(self, tm: float, order: int, kind: str, msg) -> None:
        heapq.heappush(self._heap, (tm, order, self._n, kind, msg))
        self._n += 1

    def _release(self, upto: float) -> list[SensorBatch]:
        out: list[SensorBatch] = []
        gates: list = []
        gate_t = -math.inf
        while self._heap and self._heap[0][0] <= upto:
            tm = self._heap[0][0]
            frames, plates = [], []
            while self._heap and self._heap[0][0] == tm:
                _, _, _, kind, m = heapq.heappop(self._heap)
                {"g": gates, "p": plates, "f": frames}[kind].append(m)
            if frames or plates:
                out.append(SensorBatch(tm, tuple(frames), tuple(plates), tuple(gates)))
                gates = []
            else:
                gate_t = tm
        if gates:   # check-ins after the last frame or plate message: at the watermark
            t_g = upto if math.isfinite(upto) else max(gate_t, self.done_t)
            out.append(SensorBatch(max(t_g, out[-1].t if out else -math.inf), (), (),
                                   tuple(gates)))
        if upto > self.done_t and math.isfinite(upto):
            if not out or out[-1].t < upto:
                out.append(SensorBatch(upto))
            self.done_t = upto
        elif out:
            self.done_t = max(self.done_t, out[-1].t)
        return out

    def flush(self) -> list[SensorBatch]:
        """Everything still held, in time order (the stream ended)."""
        return self._release(math.inf)
