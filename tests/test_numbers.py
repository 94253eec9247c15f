"""One number format per kind (SPEC §12), checked against plain Decimal arithmetic on
random values."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fundopt.reports import numbers


def test_clean_removes_float_noise_and_nothing_else() -> None:
    rng = np.random.default_rng(20)
    for _ in range(2000):
        # a value written with at most 6 decimals, then disturbed by float arithmetic
        written = Decimal(int(rng.integers(-10**9, 10**9))) / Decimal(10) ** int(
            rng.integers(0, 7))
        noisy = sum([float(written) / 3] * 3)
        assert numbers.clean(noisy) == float(written), (written, noisy)
    assert numbers.clean(0.6199999999999999) == 0.62
    assert numbers.clean(13.000000000100002) == 13.0
    assert numbers.clean(35.06100000000001) == 35.061
    assert numbers.clean(1600.1000000000001) == 1600.1
    assert numbers.seconds(0.886945056000059) == 0.89


def test_texts_match_decimal_rounding() -> None:
    rng = np.random.default_rng(21)
    for value in rng.uniform(-1e6, 1e6, 500).tolist() + rng.uniform(0, 1, 500).tolist():
        exact = Decimal(value)
        amount = exact.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        assert numbers.amount_text(value) == f"{amount:,.2f}"
        share = (Decimal(value * 100)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        assert numbers.share_text(value) == f"{share:.1f}%"
    assert numbers.share_text(-1e-7) == "0.0%" and numbers.amount_text(-1e-9) == "0.00"
    assert numbers.limit_share_text(0.7) == "70%" and numbers.limit_share_text(0.125) == "12.5%"
    assert numbers.ratio_text(5.3) == "5.3×" and numbers.ratio_text(5.06) == "5.06×"
    assert numbers.ratio_text(5.2713) == "5.27×" and numbers.ratio_text(5.0) == "5.0×"
    assert numbers.amount_text(float("nan")) == numbers.DASH == numbers.share_text(None)


@pytest.mark.parametrize(("step", "decimals"), [(None, 2), (0.01, 2), (0.5, 2), (0.001, 3),
                                                (0.0005, 4), (1, 2), (10.0, 2)])
def test_amount_decimals_follow_the_step(step: float | None, decimals: int) -> None:
    assert numbers.step_decimals(step) == decimals


def test_binding_means_within_display_precision() -> None:
    """at_limit: closer to the limit than half a unit of the last digit shown."""
    rng = np.random.default_rng(22)
    for measure in ("share", "amount", "avg", "count"):
        scale = Decimal(100 if measure == "share" else 1)
        half = Decimal("0.5") * Decimal(10) ** -numbers.measure_decimals(measure)
        for _ in range(2000):
            limit = float(rng.uniform(0, 1) if measure == "share" else rng.uniform(0, 50))
            value = limit + float(rng.normal(0, 0.01))
            distance = abs(Decimal(value) - Decimal(limit)) * scale
            if abs(distance - half) < Decimal("1e-9"):
                continue  # a tie up to float rounding
            assert numbers.at_limit(value, limit, measure) == (distance < half)
    assert numbers.at_limit(0.6199999999999999, 0.62, "avg")   # the risk cap of issue 20
    assert not numbers.at_limit(0.61, 0.62, "avg")


def test_a_line_shown_at_its_limit_is_binding_in_json_and_terminal() -> None:
    """shown_binding: binding exactly where the value as shown reads as the limit as shown
    (plain string comparison of the rendered texts), or where the solver found it binding;
    the terminal's binding list then names the same lines."""
    from rich.console import Console

    from fundopt.optimizer.result import ConstraintValue
    from fundopt.reports.terminal.summary import _binding

    rng = np.random.default_rng(20)
    decimals = {"share": 3, "amount": 2, "avg": 2, "count": 0}  # of the fraction shown
    lines, expected = [], []
    for i in range(3000):
        measure = str(rng.choice(list(decimals)))
        limit = round(float(rng.uniform(0, 1 if measure == "share" else 80)), decimals[measure])
        value = limit + float(rng.normal(0, 0.004 if measure != "count" else 0.3))
        if measure == "count":
            value = float(round(value))
        side = str(rng.choice(["min", "max"]))
        solver = bool(rng.random() < 0.1)
        half = 0.5 * 10.0 ** -decimals[measure]
        if abs(abs(value - limit) - half) < 1e-9:
            continue  # a tie up to float rounding
        lines.append(ConstraintValue(
            id=f"c{i}", label=f"c{i}", measure=measure, value=value,
            min=limit if side == "min" else None, max=limit if side == "max" else None,
            slack=abs(value - limit), binding=solver, shadow_price=0.0,
            bound=side if solver else None))
        shown = numbers.measure_text(value, measure) == numbers.measure_text(limit, measure)
        expected.append(solver or shown)
    result = numbers.shown_binding(lines)
    assert [c.binding for c in result] == expected
    assert all(c.bound == ("min" if c.min is not None else "max") for c in result if c.binding)
    assert any(not c.binding and r.binding for c, r in zip(lines, result, strict=True))
    # the risk cap of issue 20: 0.6199999999999999 against 0.62 is binding
    cap = ConstraintValue(id="risk", label="avg(risk) <= 0.62", measure="avg",
                          value=0.6199999999999999, min=None, max=0.62, slack=1e-16,
                          binding=False, shadow_price=0.0)
    (shown_cap,) = numbers.shown_binding([cap])
    assert shown_cap.binding and shown_cap.bound == "max"
    console = Console(width=200, record=True)
    for part in _binding((shown_cap,), "亿元", "en"):
        console.print(part)
    text = console.export_text()
    assert "avg(risk) <= 0.62" in text and "0.62" in text


def test_local_time_says_its_zone() -> None:
    moment = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
    before = os.environ.get("TZ")
    try:
        os.environ["TZ"] = "Asia/Shanghai"
        time.tzset()
        assert numbers.local_time_text(moment) == "2026-12-06 15:30 CST (UTC+08:00)"
        os.environ["TZ"] = "UTC"
        time.tzset()
        assert numbers.local_time_text(moment) == "2026-12-06 07:30 UTC"
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_clean_array_is_clean_for_every_value() -> None:
    rng = np.random.default_rng(23)
    values = np.concatenate([rng.uniform(-1e6, 1e6, 3000), rng.uniform(0, 1, 3000),
                             np.exp(rng.uniform(-50, 50, 3000)),
                             rng.integers(0, 10**6, 3000) / 100 + 1e-13,
                             [0.0, -0.0, np.nan, np.inf, -np.inf]])
    cleaned = numbers.clean_array(values)
    expected = [numbers.clean(float(v)) for v in values]
    np.testing.assert_array_equal(cleaned, expected)


def test_json_and_csv_carry_no_float_noise(tmp_path: Path) -> None:
    from fundopt.reports.files.export import csv_text, json_ready

    data = json_ready({"value": 0.6199999999999999, "bound": 35.06100000000001,
                       "nested": [13.000000000100002, float("nan")]})
    assert data == {"value": 0.62, "bound": 35.061, "nested": [13.0, None]}
    frame = pd.DataFrame({"a": [1600.1000000000001, 0.15000000000000002], "b": ["x", "y"]})
    assert csv_text(frame).splitlines()[1:] == ["1600.1,x", "0.15,y"]


@pytest.mark.parametrize(("lang", "measure", "price", "expected"), [
    ("en", "share", 238.0, "+2.38 per percentage point"),
    ("en", "amount", 3.8235, "+3.82 per 亿元"),
    ("en", "sum", 1.5, "+1.50 per 亿元"),
    ("zh", "share", 65.88, "每个百分点 +0.66"),
    ("zh", "amount", 3.8235, "每亿元 +3.82"),
    ("en", "count", float("nan"), "—"),
])
def test_shadow_prices_say_their_unit(lang: str, measure: str, price: float,
                                      expected: str) -> None:
    assert numbers.price_text(price, measure, "亿元", lang) == expected


def test_a_price_over_a_narrow_range_says_so() -> None:
    narrow = numbers.price_text(3.82, "amount", "亿元", "en", 40.0, 39.9, 40.1)
    wide = numbers.price_text(3.82, "amount", "亿元", "en", 40.0, 30.0, 45.0)
    assert narrow.endswith("(holds for < 1% of the limit)") and wide == "+3.82 per 亿元"
