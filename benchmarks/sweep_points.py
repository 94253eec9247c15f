"""Sweep points on the held model against a bare highspy loop (issue 13 §3, "Sweeps").

    python benchmarks/sweep_points.py [--repeat 3] [--lp-rows 10000] [--lp-points 20] [--write]

Two sweeps over ``budget``, each measured in this process, serially and single-threaded:

* the 2024 sample, 50 points from 20 to 50 (a MILP; the points above about 41亿 are
  infeasible and each is diagnosed: relaxation and conflict);
* a generated LP of ``--lp-rows`` sub-funds (``generate.py``), ``--lp-points`` points from
  0.6 to 1.0 of its budget.

fundopt runs the path of ``fundopt sweep --workers 1``: ``optimizer.batch.solve_many``,
which holds one ``Problem`` per chunk of points and moves it from point to point (a
feasible point: the solve, the LP of the shadow prices and the constraint report; an
infeasible one: its diagnosis). The reference is a bare highspy loop over the same model:
one ``Highs`` object, and per point only the changed column bounds, row bounds and link
coefficients pushed (precomputed, not timed) and ``run()``; it returns nothing but the
status and the objective. It runs with HiGHS's defaults and with fundopt's options (an LP
re-solved by simplex from the last basis); the faster counts. Both must agree on every
point's status and objective.

Reported: milliseconds per feasible point for both and their ratio (target ≤ 1.5), and
fundopt's infeasible point against its feasible one (target ≤ 3).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
from generate import generate
from sections import replace_section

from fundopt.models.domain import Table
from fundopt.models.reading.inputs import policy_tree
from fundopt.models.reading.table import read_table
from fundopt.models.rules.sweep import sweep_policies
from fundopt.optimizer.build import build
from fundopt.optimizer.engines import one_thread
from fundopt.optimizer.highs import configure, new_highs, to_highs_lp
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.problem import Problem

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    name: str
    points: int
    infeasible: int
    fundopt_feasible_ms: float
    fundopt_infeasible_ms: float | None
    bare_feasible_ms: float

    @property
    def ratio(self) -> float:
        return self.fundopt_feasible_ms / self.bare_feasible_ms

    @property
    def infeasible_ratio(self) -> float | None:
        if self.fundopt_infeasible_ms is None:
            return None
        return self.fundopt_infeasible_ms / self.fundopt_feasible_ms


def _points(table_path: Path, policy_path: Path, values: np.ndarray) -> tuple[Table, list]:
    data = read_table(table_path)
    base = policy_tree(data, policy_path)
    return data, sweep_policies(data, base, "budget", tuple(float(v) for v in values))


def fundopt_times(data: Table, points: list) -> tuple[list[float], list[bool], list[float]]:
    """Seconds, feasibility and objective per point, on the batch path: one ``Problem``
    built at the first point and moved (warm) from point to point."""
    problem: Problem | None = None
    seconds, ok, objectives = [], [], []
    with one_thread():
        for policy, constraints in points:
            started = time.perf_counter()
            if problem is None:
                problem = Problem(data, policy, constraints, warm=True)
            else:
                problem.retarget(policy, constraints)
            result = problem.solve()
            seconds.append(time.perf_counter() - started)
            ok.append(result.is_ok)
            objectives.append(np.nan if result.objective is None else result.objective)
    return seconds, ok, objectives


def bare_times(models: list[LinearModel], tuned: bool) -> tuple[list[float], list[bool],
                                                                list[float]]:
    """One Highs object; per point the changed bounds and coefficients, then run().

    ``tuned``: fundopt's options (``configure``; an LP re-solved by simplex from the last
    basis), else HiGHS's defaults. Single-threaded either way.
    """
    first = models[0]
    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    if tuned:
        configure(highs, first, None, 0.0)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)   # proven optima, as fundopt's (default 1e-4)
    highs.passModel(to_highs_lp(first))
    changes = [_changes(a, b) for a, b in zip([first, *models], models, strict=False)]
    change_rows = getattr(highs, "changeRowsBounds")  # noqa: B009 (not in highspy's stubs)
    seconds, ok, objectives = [], [], []
    with one_thread():
        for model, (cols, rows, coefs) in zip(models, changes, strict=True):
            started = time.perf_counter()
            if len(cols):
                highs.changeColsBounds(len(cols), cols, model.col_lower[cols],
                                       model.col_upper[cols])
            if len(rows):
                change_rows(len(rows), rows, model.row_lower[rows], model.row_upper[rows])
            for r, c, v in coefs:
                highs.changeCoeff(r, c, v)
            highs.run()
            if tuned and not model.is_mip:
                highs.setOptionValue("solver", "simplex")
            status = highs.getModelStatus()
            seconds.append(time.perf_counter() - started)
            good = status == highspy.HighsModelStatus.kOptimal
            ok.append(good)
            objectives.append(highs.getInfo().objective_function_value if good else np.nan)
    return seconds, ok, objectives


def _changes(old: LinearModel, new: LinearModel) -> tuple[np.ndarray, np.ndarray, list]:
    assert np.array_equal(old.start, new.start) and np.array_equal(old.index, new.index)
    cols = np.flatnonzero((old.col_lower != new.col_lower) | (old.col_upper != new.col_upper))
    rows = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))
    row_of = np.repeat(np.arange(new.num_rows), np.diff(new.start))
    coefs = [(int(row_of[k]), int(new.index[k]), float(new.value[k]))
             for k in np.flatnonzero(old.value != new.value)]
    return cols.astype(np.int32), rows.astype(np.int32), coefs


def measure(name: str, table_path: Path, policy_path: Path, values: np.ndarray,
            repeat: int) -> Timing:
    data, points = _points(table_path, policy_path, values)
    models = [build(data, p, c).model for p, c in points]
    runs_f, runs_b = [], []
    for _ in range(repeat):
        f_seconds, f_ok, f_obj = fundopt_times(data, points)
        # the reference: the faster of HiGHS's defaults and fundopt's own options
        b_seconds, b_ok, b_obj = min((bare_times(models, tuned) for tuned in (False, True)),
                                     key=lambda run: sum(run[0]))
        assert f_ok == b_ok, "fundopt and the bare loop disagree on feasibility"
        assert np.allclose(f_obj, b_obj, rtol=1e-7, equal_nan=True), "objectives differ"
        runs_f.append(f_seconds)
        runs_b.append(b_seconds)
    ok = np.array(f_ok)
    f = np.median(np.array(runs_f), axis=0) * 1e3
    b = np.median(np.array(runs_b), axis=0) * 1e3
    return Timing(name, len(points), int((~ok).sum()), float(f[ok].mean()),
                  float(f[~ok].mean()) if (~ok).any() else None, float(b[ok].mean()))


def section(repeat: int = 3, lp_rows: int = 10_000, lp_points: int = 20) -> list[str]:
    """The Markdown section of docs/performance.md."""
    timings = [measure("2024 sample, MILP, budget 20→50", ROOT / "inputs" / "2024.csv",
                       ROOT / "inputs" / "2024.toml", np.linspace(20, 50, 50), repeat)]
    with tempfile.TemporaryDirectory() as tmp:
        csv = generate(lp_rows, "lp", 7, Path(tmp))
        text = csv.with_suffix(".toml").read_text(encoding="utf-8")
        budget = float(next(line.split("=")[1] for line in text.splitlines()
                            if line.startswith("budget")))
        timings.append(measure(f"LP {lp_rows:,} rows, budget ×0.6→1.0", csv,
                               csv.with_suffix(".toml"),
                               np.linspace(0.6 * budget, budget, lp_points), repeat))
    lines = ["## Sweep points on the held model", "",
             "`python benchmarks/sweep_points.py`: per point, fundopt's batch path (one "
             "`Problem` moved from point to point, with shadow prices, report and, for an "
             "infeasible point, its diagnosis) against a bare highspy loop that pushes the "
             "same changed bounds and coefficients into one held `Highs` object and runs it. "
             f"Serial, one thread, medians of {repeat} runs in one process.", "",
             "| sweep | points | infeasible | fundopt ms / feasible point | bare ms | ratio "
             "(≤ 1.5) | fundopt ms / infeasible point | infeasible ÷ feasible (≤ 3) |",
             "|---|---|---|---|---|---|---|---|"]
    for t in timings:
        inf = "—" if t.fundopt_infeasible_ms is None else f"{t.fundopt_infeasible_ms:.1f}"
        inf_ratio = "—" if t.infeasible_ratio is None else f"{t.infeasible_ratio:.2f}"
        lines.append(f"| {t.name} | {t.points} | {t.infeasible} | {t.fundopt_feasible_ms:.1f}"
                     f" | {t.bare_feasible_ms:.1f} | {t.ratio:.2f} | {inf} | {inf_ratio} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lp-rows", type=int, default=10_000)
    parser.add_argument("--lp-points", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    text = "\n".join(section(args.repeat, args.lp_rows, args.lp_points))
    print(text)
    if args.write:
        replace_section(ROOT / "docs" / "performance.md", "sweep-points", text)


if __name__ == "__main__":
    main()
