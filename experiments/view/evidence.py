"""What happened at the shelves and what the store charged: the shoppers' true shelf events,
the core's billed events with their evidence (ledger.json ``billed``: track, method,
cameras that saw a hand, confidence, doubt), and every receipt, truth against issued, line by
line, each line pointing at the events behind it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from scenes.store import Store


def shoppers(path: Path) -> list[dict]:
    """ground_truth/shoppers.parquet: id, account, visit kind, enter and exit times [s]."""
    if not path.is_file():
        return []
    t = pq.read_table(path, columns=["shopper_id", "account", "visit", "enter_t", "exit_t"])
    return [{"id": int(r["shopper_id"]), "account": int(r["account"]), "visit": r["visit"],
             "enter": _r(r["enter_t"]), "exit": _r(r["exit_t"])} for r in t.to_pylist()]


def truth_events(path: Path, store: Store) -> list[dict]:
    """The shoppers' picks and put-backs (ground_truth/events.parquet) at their bins; a
    put-back into a bin the planogram gives another sku is ``misplaced``."""
    if not path.is_file():
        return []
    t = pq.read_table(path).to_pylist()
    bins, cat = store.bins, store.catalogue
    planned = {i: str(cat.sku[s]) for i, s in enumerate(bins.sku_index.tolist())}
    out = []
    for r in t:
        if r["action"] not in ("pick", "put_back") or not 0 <= r["bin"] < len(bins):
            continue
        action = r["action"]
        if action == "put_back" and planned[r["bin"]] != r["sku"]:
            action = "misplaced"
        out.append({"t": _r(r["t"]), "shopper": int(r["shopper_id"]),
                    "account": int(r["account"]), "action": action, "bin": int(r["bin"]),
                    "sku": r["sku"], "quantity": int(r["quantity"])})
    out.sort(key=lambda e: (e["t"], e["shopper"], e["bin"]))
    return out


def billed_events(ledger: dict | None, store: Store) -> list[dict]:
    """The core's billed events (ledger.json ``billed``), each with the bin it most likely
    came from: the plate's bin that holds its sku, else the plate's first bin."""
    if not ledger or "billed" not in ledger:
        return []
    bins, cat = store.bins, store.catalogue
    by_plate: dict[int, list[int]] = {}
    for b, p in enumerate(bins.plate.tolist()):
        by_plate.setdefault(p, []).append(b)
    sku_of = [str(s) for s in cat.sku]
    out = []
    for e in ledger["billed"]:
        cand = by_plate.get(int(e["plate"]), [])
        same = [b for b in cand if sku_of[bins.sku_index[b]] == e["sku"]]
        out.append({**e, "bin": (same or cand or [-1])[0]})
    out.sort(key=lambda e: (e["t_start"], e["plate"]))
    return out


def _lines(receipt: dict | None) -> dict[str, int]:
    return {p["sku"]: int(p["quantity"]) for p in (receipt or {}).get("products", [])}


def receipts(issued: list[dict], truth: list[dict], events: list[dict],
             billed: list[dict]) -> list[dict]:
    """Every account's receipt, truth against issued: per line the true and billed units and
    the indices of the true events (``truth_events``) and billed events (``billed``) behind
    it. ``status``: "exact", "wrong" (a line differs), "missing" (a shopper left and no
    receipt came), "no truth" (the shopper had not left when the run ended: the scores leave
    it out) or "alert" (an account-less alert)."""
    by_truth = {int(r["account"]): r for r in truth}
    by_issued = {int(r["account"]): r for r in issued}
    ev_of: dict[tuple[int, str], list[int]] = {}
    for k, e in enumerate(events):
        ev_of.setdefault((e["account"], e["sku"]), []).append(k)
    bill_of: dict[tuple[int, str], list[int]] = {}
    for k, e in enumerate(billed):
        bill_of.setdefault((int(e["account"]), e["sku"]), []).append(k)
    out = []
    for acct in sorted(set(by_truth) | set(by_issued)):
        t, i = by_truth.get(acct), by_issued.get(acct)
        tl, il = _lines(t), _lines(i)
        lines = [{"sku": s, "truth": tl.get(s, 0), "issued": il.get(s, 0),
                  "doubt": next((p.get("doubt", "") for p in (i or {}).get("products", [])
                                 if p["sku"] == s), ""),
                  "events": ev_of.get((acct, s), []), "billed": bill_of.get((acct, s), [])}
                 for s in sorted(set(tl) | set(il))]
        if acct < 0:
            status = "alert"
        elif t is None:
            status = "no truth"
        elif i is None:
            status = "missing"
        else:
            status = "exact" if tl == il else "wrong"
        out.append({"account": acct, "status": status, "lines": lines,
                    "review": bool((i or {}).get("review", False)),
                    "reasons": list((i or {}).get("reasons", [])),
                    "confidence": (i or {}).get("confidence"),
                    "total": (i or {}).get("total"), "truth_total": (t or {}).get("total"),
                    "issued": i is not None})
    return out


def _r(v) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 4)
