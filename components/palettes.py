"""Colour-blind-safe palettes used by every chart.

* Categorical: Okabe & Ito (2008), "Color Universal Design" — distinguishable under the
  common colour-vision deficiencies (protan, deutan, tritan) and in greyscale order.
* Sequential heatmaps (attention, probabilities): ``cividis`` (Nuñez, Anderton & Renslow
  2018, optimised for colour-vision deficiency), monotone in lightness.
* Diverging (signed scores): blue ↔ orange, from the Okabe–Ito set (no red/green pair).
"""
from __future__ import annotations

OKABE_ITO: list[str] = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]
"""Categorical colours, most distinct first (Okabe & Ito 2008)."""

SEQUENTIAL = "cividis"
"""Plotly colourscale name for heatmaps."""

DIVERGING: list[list] = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]
"""Plotly colourscale for signed values: vermillion (negative) → white → blue (positive)."""

POSITIVE = "#0072B2"
NEGATIVE = "#D55E00"
NEUTRAL = "#999999"
UNREADABLE = "#DDDDDD"  # texts a model could not read (drawn hatched, apart from neutral)


def categorical(n: int) -> list[str]:
    """``n`` categorical colours (Okabe–Ito, repeated if ``n`` > 8)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(max(0, n))]
