"""Actions timed relative to another shopper's: the ``after`` key of a scenario action.

Part of the ``storetwin-scenario/1`` reader (:mod:`agents.scenario`). The grammar
(docs/scenarios.md, "Timing relative to another shopper")::

    after = "SHOPPER.KIND[#N] [+ SECONDS[ s]]"

SHOPPER is a shopper ``id`` of the file (oneself included: an earlier action of one's own);
KIND is an action's ``do`` name (``pick``, ``put_back``, ``hand_to``, ``conceal``, ``wait``,
``wait_until``, ``look``, ``inspect``, ``reach``, ``stand``, ``follow``, ``exit``) or
``enter``; N is the 1-based occurrence among that shopper's actions of that kind (default
1; ``enter`` has only #1); SECONDS a number >= 0 (default 0). The action then starts no
earlier than SECONDS after that action of that shopper was over (``enter``: after it passed
the gate; ``exit``: after it left); until then the shopper stands where it is.

A reference to an occurrence the script does not have, and waits that can never end (A waits
for B's pick, which comes after B waits for A's), are problems of the file, each reported
once at the ``after`` that closes it.
"""

from __future__ import annotations

import re

from agents.actions import ACTION_KIND, After
from scenes.checks import Reader, show

KINDS = ("enter", *ACTION_KIND.values())
AFTER_RE = re.compile(r"^\s*([A-Za-z0-9_-]{1,64})\.([a-z_]+)(?:#(\d+))?"
                      r"\s*(?:([+-])\s*(\d+(?:\.\d*)?|\.\d+)\s*s?)?\s*$")
GRAMMAR = ('"SHOPPER.KIND[#N] [+ SECONDS]", e.g. "alice.pick#2 + 3": SHOPPER a shopper id, '
           "KIND one of " + ", ".join(KINDS) + ", N an occurrence from 1, SECONDS >= 0")
MAX_OFFSET_S = 86_400.0


def parse_after(r: Reader, v, path: str, ids: dict[str, int]) -> After | None:
    """The ``After`` an ``after`` value names (the shopper as its index), or None with the
    problem reported at ``path``."""
    if not isinstance(v, str):
        r.bad(path, f"= {show(v)} is not allowed; expected a string {GRAMMAR}")
        return None
    m = AFTER_RE.match(v)
    if m is None:
        r.bad(path, f"= {show(v)} is not allowed; expected {GRAMMAR}")
        return None
    who, kind, n, sign, sec = m.groups()
    ok = True
    if who not in ids:
        r.bad(path, f"= {show(v)} names no shopper {who!r}; expected a shopper id of this file: "
              + ", ".join(ids))
        ok = False
    if kind not in KINDS:
        r.bad(path, f"= {show(v)}: {kind!r} is not an action kind; expected one of "
              + ", ".join(KINDS))
        ok = False
    occ = int(n) if n is not None else 1
    if occ < 1 or (kind == "enter" and occ != 1):
        r.bad(path, f"= {show(v)}: occurrence #{occ} is not allowed; expected #1 or more "
              "(enter: #1 only)")
        ok = False
    off = float(sec) if sec is not None else 0.0
    if sign == "-":
        r.bad(path, f"= {show(v)}: a negative offset is not allowed (the simulation does not "
              "look ahead: an action cannot start before the moment it waits for); expected "
              "+ SECONDS, SECONDS >= 0")
        ok = False
    elif off > MAX_OFFSET_S:
        r.bad(path, f"= {show(v)}: offset {off:g} s is not allowed; expected <= "
              f"{MAX_OFFSET_S:g} s")
        ok = False
    return After(ids[who], kind, occ, off) if ok else None


def check_afters(r: Reader, afters: list[tuple[str, int, int, After]],
                 scripts: dict[int, tuple], names: list[str | None]) -> None:
    """Check every ``after`` against the whole file: the occurrence exists, and no wait is
    circular. afters: (path, shopper index, position of the After in its script, After);
    scripts: shopper index -> its actions (Afters included)."""
    # (shopper, kind, n) -> position in the script
    where: dict[tuple[int, str, int], int] = {}
    for i, acts in scripts.items():
        seen: dict[str, int] = {}
        where[(i, "enter", 1)] = -1
        for j, a in enumerate(acts):
            kind = ACTION_KIND.get(type(a))
            if kind is not None:
                seen[kind] = seen.get(kind, 0) + 1
                where[(i, kind, seen[kind])] = j
    good: list[tuple[str, int, int, After]] = []
    for path, i, j, a in afters:
        if a.shopper not in scripts:
            continue                    # that shopper's own problems are reported
        if (a.shopper, a.kind, a.n) not in where:
            have = sum(1 for (s, k, _) in where if s == a.shopper and k == a.kind)
            who = names[a.shopper] or f"shopper[{a.shopper}]"
            r.bad(path, f"waits for {a.kind} #{a.n} of {who!r}, whose script has {have} "
                  f"{a.kind} action(s); expected an occurrence 1 .. {have}" if have else
                  f"waits for a {a.kind} of {who!r}, whose script has none; expected a kind "
                  "of action it does")
            continue
        good.append((path, i, j, a))
    # each script position waits for the one before it and for its After's target: a cycle
    # of such waits never ends
    deps: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for path, i, j, a in good:
        deps.setdefault((i, j), []).append((a.shopper, where[(a.shopper, a.kind, a.n)]))

    def reaches(node: tuple[int, int], goal: tuple[int, int]) -> bool:
        """Does ``node`` (transitively) wait for ``goal``?"""
        stack, seen = [node], set()
        while stack:
            i, j = stack.pop()
            if (i, j) in seen or j < 0:
                continue
            seen.add((i, j))
            if (i, j) == goal:
                return True
            stack.append((i, j - 1))
            stack.extend(deps.get((i, j), ()))
        return False

    targets = {(i, j): (a.shopper, where[(a.shopper, a.kind, a.n)]) for _, i, j, a in good}
    done: set[tuple[int, int]] = set()      # afters of a cycle already reported
    for path, i, j, a in good:
        if (i, j) in done or not reaches(targets[(i, j)], (i, j)):
            continue
        # one problem per cycle: its other afters are not reported again
        done.update(n for n in targets if reaches(targets[(i, j)], n)
                    and reaches(targets[n], (i, j)))
        who = names[a.shopper] or f"shopper[{a.shopper}]"
        me = names[i] or f"shopper[{i}]"
        r.bad(path, f"waits for {a.kind} #{a.n} of {who!r}, which itself comes after this "
              f"wait of {me!r} (directly or through other after keys): the script can "
              "never go on; expected a moment that does not wait for this one")
