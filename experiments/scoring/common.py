"""What the score tables share: a ratio that is ``nan`` when it is undefined, and
``as_dict()``, the JSON form of a frozen dataclass of scores.

Undefined ratios (zero denominators) are ``nan`` in the dataclasses and ``None`` in
``as_dict()``.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np


def ratio(num: float, den: float) -> float:
    """``num / den`` as a float, ``nan`` when ``den == 0``."""
    return float(num) / float(den) if den else math.nan


def plain(value: object) -> object:
    """A json-ready scalar: python int/float, ``nan`` -> ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else v
    return value


class AsDict:
    """Mixin: ``as_dict()`` for frozen dataclasses of scalars."""

    def as_dict(self) -> dict[str, int | float | None]:
        """Field name -> plain int/float (``nan`` -> ``None``), ready for ``json.dumps``."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
