"""The physical limit: a generated instance built straight from numpy arrays into HiGHS.

Independent of fundopt (it imports nothing from it): reads the CSV with pandas and the
TOML with tomllib, builds SPEC §4 for the keys ``benchmarks/generate.py`` writes (ticket
bounds, min tickets with binaries, budget and min_deploy, shares of budget, counts,
``avg`` as Σ(COL−b)·x ≤ 0, ``sum``), hands it to HiGHS in one ``passModel`` call (CSR,
columns x then y in input order, as fundopt does) and solves it.

Usage: ``python benchmarks/direct_highs.py lp-10000.csv [--time-limit S] [--solver ipm]``;
prints one JSON line: status, objective, gap, model size and seconds by phase.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd

INF = np.inf
IPM_FROM = 20_000   # LPs with at least this many columns go to interior point


@dataclass(frozen=True)
class DirectResult:
    status: str
    objective: float | None
    gap: float | None
    num_col: int
    num_row: int
    num_int: int
    solver: str
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class _Rows:
    """Rows collected as (columns, coefficients, lower, upper), emitted as CSR arrays."""

    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lengths: list[np.ndarray] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, cols: np.ndarray, vals: np.ndarray, lower: float, upper: float) -> None:
        self.cols.append(cols)
        self.vals.append(vals)
        self.lengths.append(np.array([len(cols)]))
        self.lower.append(lower)
        self.upper.append(upper)

    def add_pairs(self, first: np.ndarray, second: np.ndarray, coef: np.ndarray,
                  lower: float, upper: float) -> None:
        """One row ``x_first + coef·x_second`` per element, all at once."""
        k = len(first)
        self.cols.append(np.column_stack([first, second]).ravel())
        self.vals.append(np.column_stack([np.ones(k), coef]).ravel())
        self.lengths.append(np.full(k, 2))
        self.lower.extend([lower] * k)
        self.upper.extend([upper] * k)


def _bounds(frame: pd.DataFrame, pol: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Ticket bounds of SPEC §4: l = min_ticket or the policy default, u = min of the caps."""
    budget = float(pol["budget"])
    upper = frame["max_ticket"].to_numpy(float)
    if "max_stake" in pol:
        upper = np.fmin(upper, pol["max_stake"] * frame["fund_size"].to_numpy(float))
    if "max_single" in pol:
        upper = np.minimum(upper, pol["max_single"] * budget)
    lower = frame["min_ticket"].fillna(pol.get("min_ticket", 0.0)).to_numpy(float)
    return lower, upper


def _selection(frame: pd.DataFrame, where: dict[str, Any]) -> np.ndarray:
    mask = np.ones(len(frame), bool)
    for column, values in where.items():
        accepted = [values] if isinstance(values, str) else list(values)
        mask &= frame[column].isin(accepted).to_numpy()
    return mask


def _groups(pol: dict[str, Any], frame: pd.DataFrame) -> list[tuple[np.ndarray, dict]]:
    """(selection mask, bounds) of every region/category/district table and constraint."""
    out: list[tuple[np.ndarray, dict]] = []
    for column in ("region", "category", "district"):
        for value, bounds in pol.get(column, {}).items():
            values = frame[column].unique() if value == "*" else [value]
            out += [(frame[column].to_numpy() == v, bounds) for v in values]
    out += [(_selection(frame, c.get("where", {})), c) for c in pol.get("constraints", [])]
    return out


def build_lp(frame: pd.DataFrame, pol: dict[str, Any]) -> tuple[highspy.HighsLp, np.ndarray]:
    """The HiGHS model of one instance, and the integrality flags of its columns."""
    n, budget = len(frame), float(pol["budget"])
    lower, upper = _bounds(frame, pol)
    status = frame["status"].fillna("").to_numpy()
    must = status == "must"
    ok = (lower <= upper) & (upper > 0) & (status != "exclude")
    groups = _groups(pol, frame)
    counted = [m for m, b in groups if "min_count" in b or "max_count" in b]
    binary = ok & ((lower > 0) | np.logical_or.reduce([np.zeros(n, bool), *counted]))
    brows = np.flatnonzero(binary)
    y_of = np.full(n, -1)
    y_of[brows] = n + np.arange(len(brows))
    rows = _Rows()
    fundable = np.flatnonzero(ok)
    rows.add(fundable, np.ones(len(fundable)), pol.get("min_deploy", 0.0) * budget, budget)
    for mask, b in groups:
        sel = np.flatnonzero(mask & ok)
        ones = np.ones(len(sel))
        for key, scale in (("share", budget), ("amount", 1.0)):
            if f"min_{key}" in b or f"max_{key}" in b:
                rows.add(sel, ones, b.get(f"min_{key}", -INF / scale) * scale,
                         b.get(f"max_{key}", INF / scale) * scale)
        if "min_count" in b or "max_count" in b:
            rows.add(y_of[sel], ones, b.get("min_count", -INF), b.get("max_count", INF))
        measure = re.fullmatch(r"(sum|avg)\((\w+)\)", b.get("measure", ""))
        if measure:
            col = frame[measure[2]].to_numpy(float)[sel]
            if measure[1] == "sum":
                rows.add(sel, col, b.get("min", -INF), b.get("max", INF))
            else:
                if "min" in b:
                    rows.add(sel, col - b["min"], 0.0, INF)
                if "max" in b:
                    rows.add(sel, col - b["max"], -INF, 0.0)
    rows.add_pairs(brows, y_of[brows], -upper[brows], -INF, 0.0)
    floor = brows[lower[brows] > 0]
    rows.add_pairs(floor, y_of[floor], -lower[floor], 0.0, INF)

    nb = len(brows)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + nb, len(rows.lower)
    lp.sense_ = highspy.ObjSense.kMaximize
    score = frame["score"].to_numpy(float)
    lp.col_cost_ = np.concatenate([score, np.zeros(nb)])
    lp.col_lower_ = np.concatenate([np.where(must & ok, lower, 0.0), must[brows] * 1.0])
    lp.col_upper_ = np.concatenate([np.where(ok, upper, 0.0), np.ones(nb)])
    lp.row_lower_ = np.asarray(rows.lower)
    lp.row_upper_ = np.asarray(rows.upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.concatenate(rows.lengths))])
    lp.a_matrix_.index_ = np.concatenate(rows.cols).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate(rows.vals)
    return lp, np.concatenate([np.zeros(n, bool), np.ones(nb, bool)])


def solve_direct(csv: Path, time_limit: float | None = None, solver: str = "auto",
                 feasibility: bool = False, presolve: str = "choose") -> DirectResult:
    """Read, build and solve one generated instance; time each phase.

    Parameters
    ----------
    csv
        The table; its policy is the ``.toml`` beside it.
    time_limit
        Seconds HiGHS may spend (``None``: no limit).
    solver
        ``auto`` (IPM for LPs with ≥ 20 000 columns, else HiGHS's choice), ``simplex``, ``ipm``.
    presolve
        HiGHS ``presolve`` option: ``choose`` (on), ``on`` or ``off`` — on this LP shape
        (a handful of rows over 100 000 columns) presolve costs more than it saves.
    feasibility
        Stop at the first feasible point (MILP: ``mip_max_improving_sols = 1``).
    """
    t = [time.perf_counter()]
    frame = pd.read_csv(csv, dtype={"min_ticket": float, "fund_size": float, "status": str})
    pol = tomllib.loads(csv.with_suffix(".toml").read_text(encoding="utf-8"))
    t.append(time.perf_counter())
    lp, integer = build_lp(frame, pol)
    t.append(time.perf_counter())
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    if feasibility:
        highs.setOptionValue("mip_max_improving_sols", 1)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    is_mip, n = bool(integer.any()), len(frame)
    if solver == "auto":
        solver = "ipm" if not is_mip and len(integer) >= IPM_FROM else "choose"
    highs.setOptionValue("solver", solver)
    highs.setOptionValue("presolve", presolve)
    highs.passModel(lp)
    if is_mip:
        idx = np.flatnonzero(integer).astype(np.int32)
        highs.changeColsIntegrality(len(idx), idx, np.ones(len(idx), np.uint8))
    t.append(time.perf_counter())
    highs.run()
    t.append(time.perf_counter())
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2
    x = np.asarray(highs.getSolution().col_value) if has_solution else None
    t.append(time.perf_counter())
    names = ("read", "build", "pass", "solve", "extract")
    return DirectResult(
        status=highs.modelStatusToString(highs.getModelStatus()),
        objective=None if x is None else float(frame["score"].to_numpy(float) @ x[:n]),
        gap=float(info.mip_gap) if is_mip else None,
        num_col=lp.num_col_, num_row=lp.num_row_, num_int=int(integer.sum()),
        solver=solver + ("" if presolve == "choose" else f", presolve {presolve}"),
        phases={k: t[i + 1] - t[i] for i, k in enumerate(names)} | {"total": t[-1] - t[0]},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--solver", default="auto", choices=["auto", "simplex", "ipm"])
    parser.add_argument("--presolve", default="choose", choices=["choose", "on", "off"])
    parser.add_argument("--feasibility", action="store_true")
    args = parser.parse_args()
    result = solve_direct(args.csv, args.time_limit, args.solver, args.feasibility,
                          args.presolve)
    json.dump(asdict(result), sys.stdout)
    print()


if __name__ == "__main__":
    main()
