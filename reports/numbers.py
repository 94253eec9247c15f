"""Numbers as people read them (SPEC §12): one format per kind, defined here once.

- amounts ``#,##0.00`` in the policy's unit (more decimals where ``amount_step`` has more);
- shares and fractions of the budget ``12.5%``; limits as written ``70%`` (no padding);
- ratios ``5.3×`` (two decimals at most, ``5.06×``); objective values two decimals; seconds to 0.01;
- any other value free of float noise (``0.62``, never ``0.6199999999999999``).

A value within display precision of its limit is *binding*: what a reader sees equal is
equal. The text functions return ``—`` for a missing or non-finite value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fundopt.optimizer.result import ConstraintValue

DASH = "—"
AMOUNT_DECIMALS = 2
SHARE_DECIMALS = 1         # 12.5%
OTHER_DECIMALS = 2         # avg(risk) 0.62, sum(call_2025) 12.80
# Significant digits that survive :func:`clean`: a double carries ~15.9; the noise of a
# sum of a few thousand terms sits below 10.
CLEAN_DIGITS = 10


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def clean(value: float) -> float:
    """``value`` without float noise: ``0.6199999999999999`` → ``0.62``,
    ``13.000000000100002`` → ``13.0``. Non-finite values are returned as they are."""
    if not math.isfinite(value) or value == 0:
        return float(value)
    return float(f"{value:.{CLEAN_DIGITS}g}")


def clean_array(values: np.ndarray) -> np.ndarray:
    """:func:`clean` for a whole column at once (NaN and infinities kept)."""
    x = np.asarray(values, dtype=float)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    digits = np.zeros(x.shape)
    digits[ok] = CLEAN_DIGITS - 1 - np.floor(np.log10(np.abs(x[ok])))
    # Powers of ten up to 1e22 are exact doubles: one rounding step, as clean() does.
    small = ok & (digits >= 0) & (digits <= 22)
    scale = 10.0 ** digits[small]
    out[small] = np.round(x[small] * scale) / scale
    large = ok & (digits < 0) & (digits >= -22)
    scale = 10.0 ** -digits[large]
    out[large] = np.round(x[large] / scale) * scale
    rest = ok & ~small & ~large  # beyond 1e31 or below 1e-13: one by one
    out[rest] = [clean(float(v)) for v in x[rest]]
    return out


def seconds(value: float) -> float:
    """Wall-clock seconds as written in every output: to 0.01."""
    return round(float(value), 2)


def step_decimals(step: float | None) -> int:
    """Decimals an amount needs: 2, or as many as ``amount_step`` has where it has more
    (``0.001`` → 3)."""
    if step is None:
        return AMOUNT_DECIMALS
    exponent = Decimal(repr(clean(step))).normalize().as_tuple().exponent
    return max(AMOUNT_DECIMALS, -exponent if isinstance(exponent, int) else 0)


def amount_text(value: float | None, decimals: int = AMOUNT_DECIMALS, unit: str = "") -> str:
    """``1234.5`` → ``1,234.50`` (``unit``: ``1,234.50 亿元``)."""
    if not _finite(value):
        return DASH
    assert value is not None
    text = f"{round(value, decimals) + 0.0:,.{decimals}f}"  # + 0.0: never "-0.00"
    return f"{text} {unit}" if unit else text


def share_text(value: float | None) -> str:
    """A share or fraction of the budget: ``0.125`` → ``12.5%``."""
    if not _finite(value):
        return DASH
    assert value is not None
    return f"{round(value * 100, SHARE_DECIMALS) + 0.0:.{SHARE_DECIMALS}f}%"


def limit_share_text(value: float | None) -> str:
    """A share limit as the planner wrote it: ``0.7`` → ``70%``, ``0.125`` → ``12.5%``."""
    if not _finite(value):
        return DASH
    assert value is not None
    return f"{clean(value * 100):g}%"


def ratio_text(value: float | None) -> str:
    """A ratio of two measures, to two decimals with at least one: ``5.3`` → ``5.3×``,
    ``5.06`` → ``5.06×`` (a limit as the policy writes it), ``5.2713`` → ``5.27×``."""
    if not _finite(value):
        return DASH
    assert value is not None
    text = f"{value:,.2f}"
    return (text[:-1] if text.endswith("0") else text) + "×"


def objective_text(value: float | None) -> str:
    """An objective value: two decimals with thousands separators."""
    return amount_text(value, 2)


def count_text(value: float | None) -> str:
    """A count of sub-funds or districts: a whole number."""
    if not _finite(value):
        return DASH
    assert value is not None
    return f"{round(value):d}"


def plain_text(value: float | None, decimals: int = OTHER_DECIMALS) -> str:
    """Any other value (an average, a sum of a column): ``decimals`` places."""
    return amount_text(value, decimals)


def written_text(value: float | None) -> str:
    """A number the planner wrote (a bound of ``avg(risk)``): as written, ``0.62``, ``13``."""
    if not _finite(value):
        return DASH
    assert value is not None
    return f"{clean(value):g}"


def measure_decimals(measure: str, amount_decimals: int = AMOUNT_DECIMALS) -> int:
    """Decimals a value of ``measure`` is shown with, in *its* unit (a share: percent)."""
    return {"share": SHARE_DECIMALS, "amount": amount_decimals, "count": 0}.get(
        measure, OTHER_DECIMALS)


def measure_text(value: float | None, measure: str, amount_decimals: int = AMOUNT_DECIMALS,
                 unit: str = "") -> str:
    """A constraint's value in the format of its measure."""
    if measure == "share":
        return share_text(value)
    if measure == "amount":
        return amount_text(value, amount_decimals, unit)
    if measure == "count":
        return count_text(value)
    return plain_text(value)


def limit_text(value: float | None, measure: str, amount_decimals: int = AMOUNT_DECIMALS,
               unit: str = "") -> str:
    """A constraint's limit: shares as written in percent, amounts as amounts, the rest as
    the planner wrote it."""
    if measure == "share":
        return limit_share_text(value)
    if measure == "amount":
        return amount_text(value, amount_decimals, unit)
    if measure == "count":
        return count_text(value)
    return written_text(value)


def at_limit(value: float, limit: float, measure: str,
             amount_decimals: int = AMOUNT_DECIMALS) -> bool:
    """Whether ``value`` equals ``limit`` as shown: within half a unit of the last digit
    displayed (a share in percent points)."""
    scale = 100.0 if measure == "share" else 1.0
    decimals = measure_decimals(measure, amount_decimals)
    return abs(value - limit) * scale < 0.5 * 10.0 ** -decimals + 1e-12


def local_time_text(moment: datetime | None = None) -> str:
    """A time as people read it: local, to the minute, with its zone —
    ``2026-12-06 15:30 CST (UTC+08:00)``, ``2026-12-06 07:30 UTC``."""
    local = (moment or datetime.now()).astimezone()
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = local.tzname() or ""
    if zone == "UTC+00:00" and name in ("UTC", "GMT", ""):
        return f"{local:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M} {name} ({zone})" if name else f"{local:%Y-%m-%d %H:%M} {zone}"


def price_text(price: float | None, measure: str, unit: str, lang: str,
               bound: float | None = None, low: float | None = None,
               high: float | None = None) -> str:
    """A shadow price with its unit in words: ``+3.82 per 亿元``, ``+2.38 per percentage
    point`` (a share's price is per 1.0 of share: divided by 100), ``+1.50 per sub-fund``.
    With the range over which it holds (``low`` … ``high`` of the ``bound``), a note when
    that range is less than 1% of the bound. ``—`` where there is no price."""
    from fundopt.reports.labels import measure_name
    from fundopt.reports.text import say

    if price is None or not math.isfinite(price):
        return DASH
    if measure == "share":
        price, code = price / 100.0, "price.per_point"
    elif measure in ("amount", "sum") or measure.startswith("sum"):
        code = "price.per_unit"
    elif measure == "count":
        code = "price.per_count"
    else:
        code = "price.per_value"
    shown = "0" if price == 0 else (f"{price:+,.2f}" if abs(price) >= 0.005
                                    else f"{price:+.2g}")
    text = say(code, lang, price=shown, unit=unit, measure=measure_name(measure, lang))
    if (bound is not None and low is not None and high is not None and bound != 0
            and math.isfinite(low) and math.isfinite(high)
            and high - low < 0.01 * abs(bound)):
        text += say("price.narrow", lang)
    return text


def range_end_text(value: float | None, measure: str, amount_decimals: int = AMOUNT_DECIMALS,
                   unit: str = "") -> str:
    """An end of a shadow price's range, as the bound it moves is written: a share
    ``40%``, an amount ``36.00 亿元``, a count ``3``; ``∞`` / ``−∞`` for no end, ``—``
    for none computed."""
    if value is None:
        return DASH
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞"
    return limit_text(clean(value), measure, amount_decimals, unit)


def shown_binding(constraints: Sequence[ConstraintValue],
                  amount_decimals: int = AMOUNT_DECIMALS) -> tuple[ConstraintValue, ...]:
    """``constraints`` with a line binding wherever its value is within display precision of
    a limit (:func:`at_limit`): what a reader sees equal to its limit is listed as binding,
    in the JSON and the terminal as in the memo (a risk cap at value ``0.6199999999999999``
    shown as 0.62 with limit 0.62). A line the solver found binding stays binding; a line
    binding only as shown keeps its shadow price of 0 (its row had slack at the optimum)."""
    out = []
    for c in constraints:
        if not c.binding and math.isfinite(c.value):
            sides = {side: abs(c.value - limit) for side, limit in (("min", c.min), ("max", c.max))
                     if limit is not None and at_limit(c.value, limit, c.measure,
                                                       amount_decimals)}
            if sides:
                c = replace(c, binding=True, bound=min(sides, key=lambda s: sides[s]))
        out.append(c)
    return tuple(out)
