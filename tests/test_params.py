"""params: the one validation helper for config dataclasses, and its one error format."""

from __future__ import annotations

import math

import numpy as np
import pytest

from params import MAX_SEED, ParamError, check, config, num, one_of, rule_of, seed


class MyError(ParamError):
    pass


@config(frozen=True, error=MyError)
class Sensor:
    name: str = "plate"
    hz: float = num(50.0, gt=0, unit="Hz")
    samples: int = num(5, ge=1, le=100, integer=True)
    fraction: float = num(0.5, ge=0, lt=1)
    kind: str = one_of("load", ("load", "camera"))
    deadline_s: float | None = num(None, gt=0, unit="s", optional=True)
    seed: int = seed()
    settle_hz: float = num(10.0, gt=0, unit="Hz")

    def __post_init__(self) -> None:
        check(self, "settle_hz", self.settle_hz < self.hz / 2, "under half of hz")


@pytest.mark.parametrize("kw, message", [
    ({"hz": 0}, "Sensor('plate').hz must be a number > 0 [Hz], got 0"),
    ({"hz": math.inf}, "Sensor('plate').hz must be a number > 0 [Hz], got inf"),
    ({"hz": "fast"}, "Sensor('plate').hz must be a number > 0 [Hz], got 'fast'"),
    ({"samples": 2.0}, "Sensor('plate').samples must be an integer in [1, 100], got 2.0"),
    ({"samples": True}, "Sensor('plate').samples must be an integer in [1, 100], got True"),
    ({"samples": 101}, "Sensor('plate').samples must be an integer in [1, 100], got 101"),
    ({"fraction": 1.0}, "Sensor('plate').fraction must be a number in [0, 1), got 1.0"),
    ({"kind": "radar"}, "Sensor('plate').kind must be one of 'load', 'camera', got 'radar'"),
    ({"deadline_s": 0.0}, "Sensor('plate').deadline_s must be a number > 0 [s] or None, "
                          "got 0.0"),
    ({"seed": -1}, "Sensor('plate').seed must be an integer in [0, 2^63), got -1"),
    ({"seed": MAX_SEED + 1}, "Sensor('plate').seed must be an integer in [0, 2^63), got "
                             f"{MAX_SEED + 1}"),
    ({"settle_hz": 30.0}, "Sensor('plate').settle_hz must be under half of hz, got 30.0"),
])
def test_a_bad_value_names_the_field_what_is_allowed_and_what_came(kw, message):
    with pytest.raises(MyError) as e:
        Sensor(**kw)
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)        # callers that catch ValueError still do


def test_good_values_pass_numpy_scalars_included():
    s = Sensor(hz=np.float64(20.0), samples=np.int64(7), deadline_s=None, seed=MAX_SEED,
               settle_hz=9.9)
    assert s.samples == 7 and s.seed == MAX_SEED


def test_the_declared_rule_is_readable_by_an_edge_that_checks_first():
    rule = rule_of(Sensor, "samples")
    assert rule.ok(3) and not rule.ok(0)
    assert rule.allowed() == "an integer in [1, 100]"
    with pytest.raises(KeyError):
        rule_of(Sensor, "name")
