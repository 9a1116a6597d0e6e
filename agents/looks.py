"""How shoppers look: the colours of each shopper's top, bottoms and skin, drawn once per
shopper. They are ground truth of appearance: the renderer paints them, and a camera's
appearance cue would be measured from them.

Palette and weights are an ASSUMPTION, stated here: everyday wear is mostly neutral. A
consumer survey reported by The Sun (2019; https://suave969.com/nearly-80-of-people-dont-
own-colorful-clothing/) found 79 % of people saying their wardrobe is "full of black, gray
and beige"; a fashion-analytics sales ranking (https://fashion.allwomenstalk.com/the-hottest-
fashion-colors-for-countries-around-the-world/) names blacks, greys and whites the most
common clothing colours in the US and navy in the UK. Hence ~70 % neutrals (black, grey,
white, beige, navy) for tops, the rest saturated colours; bottoms mostly denim blue, black
and khaki. Skin: five tones spanning light to dark (sRGB averages of the Fitzpatrick-style
swatches commonly used in graphics), equally weighted (assumption). Several shoppers in
black tops are therefore common, as in a real store: appearance alone does not tell them
apart.
"""

from __future__ import annotations

import numpy as np

# name, sRGB, weight (tops)
TOPS: tuple[tuple[str, tuple[int, int, int], float], ...] = (
    ("black", (28, 28, 30), 0.22),
    ("white", (228, 228, 224), 0.13),
    ("grey", (128, 128, 130), 0.13),
    ("navy", (30, 40, 80), 0.12),
    ("beige", (200, 180, 150), 0.08),
    ("blue", (50, 90, 170), 0.07),
    ("red", (170, 35, 40), 0.06),
    ("green", (50, 110, 60), 0.05),
    ("brown", (110, 75, 50), 0.05),
    ("yellow", (220, 190, 60), 0.03),
    ("pink", (225, 150, 170), 0.03),
    ("purple", (100, 60, 130), 0.03),
)
BOTTOMS: tuple[tuple[str, tuple[int, int, int], float], ...] = (
    ("denim", (55, 75, 115), 0.35),
    ("black", (28, 28, 30), 0.25),
    ("khaki", (185, 165, 120), 0.13),
    ("grey", (110, 110, 112), 0.10),
    ("navy", (30, 40, 80), 0.10),
    ("brown", (100, 70, 48), 0.05),
    ("white", (225, 225, 220), 0.02),
)
SKIN: tuple[tuple[int, int, int], ...] = (
    (241, 194, 167), (224, 172, 130), (198, 134, 96), (141, 85, 54), (90, 56, 38))

TOP, BOTTOM, SKIN_PART = 0, 1, 2      # rows of a shopper's looks


def _probs(table) -> np.ndarray:
    w = np.array([t[2] for t in table], dtype=np.float64)
    return w / w.sum()


def draw_looks(rng: np.random.Generator) -> np.ndarray:
    """(3, 3) uint8 sRGB of one shopper's top, bottoms and skin (rows TOP, BOTTOM,
    SKIN_PART)."""
    top = TOPS[int(rng.choice(len(TOPS), p=_probs(TOPS)))][1]
    bottom = BOTTOMS[int(rng.choice(len(BOTTOMS), p=_probs(BOTTOMS)))][1]
    skin = SKIN[int(rng.integers(len(SKIN)))]
    return np.array([top, bottom, skin], dtype=np.uint8)
