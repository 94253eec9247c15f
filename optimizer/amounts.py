"""Contract sums and clean numbers (SPEC §7): the grid amounts live on, and the snapping
of a solver's column values onto it.

With ``amount_step`` every commitment is a whole number of steps (the model makes it so:
x = step·k with k integer); without it amounts are continuous and kept to a decimal grid
no coarser than 1e-9 of the budget. Either way an amount is written as the decimal it
stands for (3.99, not 3.9899999999999998), and ``committed`` is their exact sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

# Below this an amount is zero (amounts are in the policy's unit, e.g. 亿元).
ZERO = 1e-9


@dataclass(frozen=True)
class Grid:
    """Amounts are multiples of ``step`` (None: continuous), shown to ``decimals``."""

    step: float | None
    decimals: int

    def round(self, values: np.ndarray) -> np.ndarray:
        """``values`` on the grid: whole steps, then the decimals they are written with."""
        if self.step is not None:
            values = np.round(values / self.step) * self.step
        return np.round(values, self.decimals) + 0.0      # + 0.0: no negative zero

    def total(self, amounts: np.ndarray) -> float:
        """The exact sum of amounts on this grid (summed as whole units of its last
        decimal, so no rounding error can build up)."""
        unit = 10.0 ** self.decimals
        whole = sum(np.rint(amounts * unit).astype(np.int64).tolist())   # Python ints: exact
        return round(whole / unit, self.decimals) + 0.0


def grid(budget: float, step: float | None) -> Grid:
    """The grid of a policy: ``amount_step``'s own decimals, else 1e-9 of the budget."""
    if step is not None:
        exponent = Decimal(repr(step)).normalize().as_tuple().exponent
        return Grid(step, max(0, -int(exponent)))
    return Grid(None, max(0, 9 - math.floor(math.log10(budget))))


def snap(values: np.ndarray, n: int, lower: np.ndarray, upper: np.ndarray, on: Grid
         ) -> np.ndarray:
    """The commitments in a solver's column values, solver noise removed.

    Values within ``ZERO`` of 0 are 0, and so is a value below half its row's minimum
    ticket (a MIP's tolerances let x_i = 1e-8 through with its binary at 0: that row is
    not funded); every other amount is put into its ticket bounds [l_i, u_i] (the same
    tolerances let 0.720001 through a 0.72 cap) and onto the grid.
    """
    amounts = np.asarray(values[:n], dtype=float)
    funded = (np.abs(amounts) >= ZERO) & (amounts >= 0.5 * lower)
    amounts = np.where(funded, np.clip(amounts, lower, np.maximum(lower, upper)), 0.0)
    return on.round(amounts)


def clean(values: np.ndarray, n: int) -> np.ndarray:
    """Column values as amounts with only values within ``ZERO`` of 0 set to 0 (models
    whose amounts may leave the ticket bounds: the diagnosis's elastic model)."""
    amounts = np.asarray(values[:n], dtype=float).copy()
    amounts[np.abs(amounts) < ZERO] = 0.0
    return amounts
