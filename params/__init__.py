"""Checked parameters: the one validation helper for config dataclasses.

A config class declares each checked field with its range, unit or allowed values beside its
default, and ``@config`` makes the dataclass check them all on construction, with one error
format: ``Owner.field must be <what is allowed> [unit], got <value>``::

    @config(frozen=True)
    class LoadCellModel:
        plate_hz: float = num(50.0, gt=0, unit="Hz")   # where 50 Hz comes from ...
        samples_per_message: int = num(5, ge=1, integer=True)

        def __post_init__(self) -> None:   # optional: checks between fields, run after
            check(self, "settle_hz", self.settle_hz < self.plate_hz / 2, "under plate_hz / 2")

This package imports nothing of storetwin, so every package may import it (the other five
all do); the TOML readers in ``scenes.checks`` use the same wording for their documents.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

# Seeds: numpy's SeedSequence takes any non-negative int; storetwin keeps seeds in an int64
# column (results.parquet) and in JSON, so [0, 2^63).
MAX_SEED = 2**63 - 1

_KEY = "storetwin.check"


class ParamError(ValueError):
    """A config value outside what its field allows (a ValueError, as before)."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """What one field allows: a range (each end open or closed), integers only, a finite
    number, one of ``choices``, or ``None`` too (``optional``)."""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    integer: bool = False
    unit: str = ""
    choices: tuple | None = None
    optional: bool = False
    shown: str | None = None     # how the allowed values are said, where the rule's own
                                 # wording is clumsy (a seed's "[0, 2^63)")

    def allowed(self) -> str:
        if self.shown is not None:
            return self.shown
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = "an integer" if self.integer else "a number"
        lo = (f"[{_g(self.ge)}" if self.ge is not None else
              f"({_g(self.gt)}" if self.gt is not None else None)
        hi = (f"{_g(self.le)}]" if self.le is not None else
              f"{_g(self.lt)})" if self.lt is not None else None)
        if lo and hi:
            text = f"{kind} in {lo}, {hi}"
        elif lo:
            text = f"{kind} {'>=' if self.ge is not None else '>'} {lo[1:]}"
        elif hi:
            text = f"{kind} {'<=' if self.le is not None else '<'} {hi[:-1]}"
        else:
            text = f"{kind} (finite)"
        unit = f" [{self.unit}]" if self.unit else ""
        return text + unit + (" or None" if self.optional else "")

    def ok(self, v: Any) -> bool:
        if v is None:
            return self.optional
        if self.choices is not None:
            return v in self.choices
        if isinstance(v, bool) or not _is_number(v):
            return False
        if self.integer and not isinstance(v, numbers.Integral):   # 3.0 is no count
            return False
        # an int compared as an int (2^63 - 1 exactly, 10**400 without overflow)
        x = int(v) if isinstance(v, numbers.Integral) else float(v)
        return ((isinstance(x, int) or math.isfinite(x))
                and (self.ge is None or x >= self.ge) and (self.gt is None or x > self.gt)
                and (self.le is None or x <= self.le) and (self.lt is None or x < self.lt))


def _g(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real)   # int, float and numpy's scalars


def num(default: Any = dataclasses.MISSING, *, ge: float | None = None, gt: float | None = None,
        le: float | None = None, lt: float | None = None, integer: bool = False,
        unit: str = "", optional: bool = False, **kw: Any) -> Any:
    """A numeric field with its allowed range (``ge``/``gt`` below, ``le``/``lt`` above),
    ``integer`` only, its ``unit`` (shown in errors), ``optional`` (None allowed).
    Other keywords go to :func:`dataclasses.field`."""
    rule = Rule(ge=ge, gt=gt, le=le, lt=lt, integer=integer, unit=unit, optional=optional)
    return _field(default, rule, kw)


def one_of(default: Any, choices: Iterable, **kw: Any) -> Any:
    """A field that takes one of ``choices``."""
    return _field(default, Rule(choices=tuple(choices)), kw)


def _field(default: Any, rule: Rule, kw: dict) -> Any:
    meta = dict(kw.pop("metadata", None) or {})
    meta[_KEY] = rule
    if default is not dataclasses.MISSING:
        kw["default"] = default
    return dataclasses.field(metadata=meta, **kw)


def seed(default: int = 0) -> Any:
    """A seed field: an integer in [0, 2^63)."""
    return _field(default, SEED, {})


SEED = Rule(ge=0, le=MAX_SEED, integer=True, shown="an integer in [0, 2^63)")


def rule_of(cls: type, name: str) -> Rule:
    """The rule declared for ``cls.name`` (for an edge that checks before building, as the
    CLI's argparse types do)."""
    for f in dataclasses.fields(cls):
        if f.name == name and _KEY in f.metadata:
            return f.metadata[_KEY]
    raise KeyError(f"{cls.__name__}.{name} declares no rule")


def fail(owner: Any, name: str, allowed: str, value: Any) -> None:
    """Raise the one error: ``Owner.name must be <allowed>, got <value>`` (as the owner's
    class's error, ``@config(error=...)``, a :class:`ParamError` by default)."""
    error = getattr(type(owner), "__param_error__", ParamError)
    raise error(f"{_owner(owner)}.{name} must be {allowed}, got {value!r}")


def check(owner: Any, name: str, ok: bool, allowed: str, value: Any = dataclasses.MISSING
          ) -> None:
    """A check between fields, in the same format: raise unless ``ok``."""
    if not ok:
        fail(owner, name, allowed, getattr(owner, name) if value is dataclasses.MISSING
             else value)


def check_value(owner: Any, name: str, value: Any, rule: Rule) -> None:
    """Check one value against a rule (a value that is not a field)."""
    if not rule.ok(value):
        fail(owner, name, rule.allowed(), value)


def validate(obj: Any) -> None:
    """Check every field of a dataclass instance that declares a rule."""
    for f in dataclasses.fields(obj):
        rule = f.metadata.get(_KEY)
        if rule is not None:
            check_value(obj, f.name, getattr(obj, f.name), rule)


def _owner(owner: Any) -> str:
    if isinstance(owner, str):
        return owner
    cls = type(owner).__name__
    # a named instance (a visit type, a profile) says which one
    name = owner.__dict__.get("name") if dataclasses.is_dataclass(owner) else None
    return f"{cls}({name!r})" if isinstance(name, str) and name else cls


def config(cls: type | None = None, /, *, error: type[ParamError] = ParamError,
           **dataclass_kw: Any) -> Callable[[type], type] | type:
    """``@dataclass(**dataclass_kw)`` that checks its declared fields on construction, then
    runs the class's own ``__post_init__`` (checks between fields), if it has one. A bad
    value raises ``error`` (a :class:`ParamError` subclass the callers know)."""

    def wrap(c: type) -> type:
        c.__param_error__ = error
        own = c.__dict__.get("__post_init__")

        def __post_init__(self) -> None:
            validate(self)
            if own is not None:
                own(self)

        __post_init__.__doc__ = own.__doc__ if own is not None else None
        c.__post_init__ = __post_init__
        return dataclasses.dataclass(c, **dataclass_kw)

    return wrap if cls is None else wrap(cls)
