"""The core protocol: the one interface the twin drives.

A core is started with the store knowledge, fed :class:`~core.records.SensorBatch` tick by
tick in time order, and returns the tracks and receipts it has so far. storetwin's own core
and any third party's are implementations; the twin never special-cases one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.knowledge import StoreKnowledge
from core.records import Receipt, SensorBatch, Tracks


@runtime_checkable
class Core(Protocol):
    def start(self, knowledge: StoreKnowledge) -> None:
        """Receive the static store data once, before the first batch."""

    def step(self, batch: SensorBatch) -> tuple[list[Tracks], list[Receipt]]:
        """Consume one tick of records; return tracks per camera frame in the batch and
        receipts issued during this tick (shoppers who left)."""

    def finish(self, t: float) -> list[Receipt]:
        """End of the stream at time ``t`` [s]; return any receipts still due."""
