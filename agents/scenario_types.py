"""A checked scripted scenario as data, and the receipts its script implies.

:class:`Scenario` names a store, a seed and a few scripted shoppers
(:class:`ScriptedShopper`), each with its :mod:`agents.actions` in order;
:class:`ScenarioError` holds every problem a scenario file had. The ``storetwin-scenario/1``
TOML format that reads and writes them is :mod:`agents.scenario`.

Actions refer to SKUs by catalogue row (``store.catalogue.index()``) and to bins by
``store.bins`` row; :class:`agents.actions.HandTo` ``to`` is the receiver's index in
:attr:`Scenario.shoppers` (the crowd gives scripted shoppers ids 0 .. k-1 in file order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.actions import Action, HandTo, Pick, PutBack
from scenes.checks import ProblemsError
from scenes.store import Store
from twin.faults import FaultSchedule


class ScenarioError(ProblemsError):
    """A scenario with problems: ``problems`` is a list of (field path, message)."""


@dataclass(frozen=True)
class ScriptedShopper:
    """One scripted shopper.

    name: unique id in the file; account: app account it checks in with (shoppers sharing
    one are a group billed together); enter_s: entry time [s]; actions: what it does, in
    order, ending with :class:`agents.actions.Exit` (an ``after`` key is an
    :class:`agents.actions.After` just before the action it holds back); checkin_delay_s:
    the gate's check-in message reaches the core this long after it passes the gate [s];
    checkin: False sends no check-in at all (an unknown shopper).
    """

    name: str
    account: str
    enter_s: float
    actions: tuple[Action, ...]
    checkin_delay_s: float = 0.0
    checkin: bool = True


@dataclass(frozen=True)
class Scenario:
    """A checked scenario.

    source: where it was read from (not compared); name, description: from the file;
    store: the built store (not compared; ``store_ref`` identifies it); store_ref: the preset
    name, or the absolute path of the store spec file; seed: the run's seed; max_duration_s:
    the latest the run stops [s]; layout: absolute path of a camera layout file, or None for
    the run's default; crowd_shoppers: background shoppers kept in the store [shoppers];
    shoppers: the scripted shoppers in file order (crowd ids 0 .. k-1); crowd_warm_start:
    the background crowd is inside, mid-trip, at t = 0; crowd_seed: the background crowd's
    own seed (None: drawn from ``seed``, as before).
    """

    source: str = field(compare=False)
    name: str
    description: str
    store: Store = field(compare=False, repr=False)
    store_ref: str
    seed: int
    max_duration_s: float
    layout: str | None
    crowd_shoppers: float
    shoppers: tuple[ScriptedShopper, ...]
    crowd_warm_start: bool = False
    crowd_seed: int | None = None
    faults: FaultSchedule | None = None     # twin.faults (docs/faults.md); None: none

    @property
    def accounts(self) -> tuple[str, ...]:
        """The scripted shoppers' accounts in order of first appearance."""
        return tuple(dict.fromkeys(s.account for s in self.shoppers))


def expected_receipts(scenario: Scenario) -> dict[str, dict[str, int]]:
    """What each scripted account owes, from the script alone.

    account -> {sku string: units}: picks - put-backs (into any bin, misplaced or not)
    - units handed out + units handed in (billed to the receiver's account); a concealed unit
    is still owed. Zero lines are dropped; every scripted account is present, possibly empty;
    accounts in order of first appearance, skus in catalogue order. Background crowd shoppers
    are not included.
    """
    owed: dict[str, dict[int, int]] = {a: {} for a in scenario.accounts}

    def add(account: str, k: int, n: int) -> None:
        owed[account][k] = owed[account].get(k, 0) + n

    for s in scenario.shoppers:
        for a in s.actions:
            if isinstance(a, Pick):
                add(s.account, a.sku, a.qty)
            elif isinstance(a, PutBack):
                add(s.account, a.sku, -a.qty)
            elif isinstance(a, HandTo):
                add(s.account, a.sku, -a.qty)
                add(scenario.shoppers[a.to].account, a.sku, a.qty)
    sku = scenario.store.catalogue.sku
    return {acct: {str(sku[k]): n for k, n in sorted(lines.items()) if n != 0}
            for acct, lines in owed.items()}
