"""``explain`` and ``--alternatives`` under a policy with a missed target (SPEC §11): they
compare plans by the objective the optimizer maximises, the target's cost included.

The reference is scipy ``milp`` written from SPEC §4 and §11, not from the builder: x_i,
a funded binary y_i with l·y_i ≤ x_i ≤ u_i·y_i, Σ x ≤ budget, and the target
Σ_天津 x / budget + s ≥ min_share with s ≥ 0 costing P per 1.0 of share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.alternatives import alternatives
from fundopt.optimizer.explain import explain
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import Result, SolveStatus

TICKET = 0.3


def instance(seed: int, folder: Path) -> tuple[pd.DataFrame, float, float, float, Path]:
    """A table, budget, the 天津 share target and its penalty; 天津 cannot reach it."""
    rng = np.random.default_rng(1950 + seed)
    n = int(rng.integers(6, 10))
    frame = pd.DataFrame({
        "id": [f"T{i:02d}" for i in range(n)], "name": [f"fund {i}" for i in range(n)],
        "region": ["天津" if i < 3 else "河北" for i in range(n)], "category": "A",
        "max_ticket": rng.uniform(0.5, 2.5, n).round(2),
        "score": rng.uniform(1, 10, n).round(1)})
    budget = round(float(frame.max_ticket.sum() * rng.uniform(0.4, 0.7)), 1)
    reach = float(frame.max_ticket[:3].sum()) / budget
    share = round(min(0.95, reach + float(rng.uniform(0.05, 0.3))), 3)
    penalty = round(float(rng.uniform(5, 60)), 1)
    frame.to_csv(folder / "t.csv", index=False)
    (folder / "t.toml").write_text(
        f'budget = {budget}\nmin_ticket = {TICKET}\n[objective]\nmaximize = "score"\n'
        f'[region."天津"]\nmin_share = {share}\ntarget = true\npenalty = {penalty}\n',
        encoding="utf-8")
    return frame, budget, share, penalty, folder / "t.csv"


def penalised(frame: pd.DataFrame, budget: float, share: float, penalty: float,
              x: np.ndarray) -> float:
    """score·x − P × shortfall, by hand."""
    tianjin = x[(frame.region == "天津").to_numpy()].sum() / budget
    return float(frame.score.to_numpy(float) @ x - penalty * max(0.0, share - tianjin))


def reference(frame: pd.DataFrame, budget: float, share: float, penalty: float, *,
              score: dict[int, float] | None = None, forced: int | None = None,
              excluded: int | None = None, cut: tuple[np.ndarray, ...] = (),
              floor: float | None = None) -> float | None:
    """The best penalised objective over (x, y, s); ``cut``: funded sets to differ from,
    ``floor``: a least penalised objective. None: no plan."""
    n = len(frame)
    c = frame.score.to_numpy(float).copy()
    for i, v in (score or {}).items():
        c[i] = v
    up = frame.max_ticket.to_numpy(float)
    tianjin = (frame.region == "天津").to_numpy(float)
    objective = np.r_[c, np.zeros(n), -penalty]          # over (x, y, s)
    rows = [LinearConstraint(np.hstack([np.eye(n), -np.diag(up), np.zeros((n, 1))]),
                             -np.inf, 0),
            LinearConstraint(np.hstack([np.eye(n), -TICKET * np.eye(n), np.zeros((n, 1))]),
                             0, np.inf),
            LinearConstraint(np.r_[np.ones(n), np.zeros(n + 1)], -np.inf, budget),
            LinearConstraint(np.r_[tianjin / budget, np.zeros(n), 1.0], share, np.inf)]
    for funded in cut:               # Σ_{i∉S} y_i − Σ_{i∈S} y_i ≥ 1 − |S|
        rows.append(LinearConstraint(np.r_[np.zeros(n), np.where(funded, -1.0, 1.0), 0.0],
                                     1.0 - funded.sum(), np.inf))
    if floor is not None:
        rows.append(LinearConstraint(objective, floor, np.inf))
    lower, upper = np.zeros(2 * n + 1), np.r_[up, np.ones(n), np.inf]
    if forced is not None:
        lower[n + forced] = 1.0
    if excluded is not None:
        upper[excluded] = upper[n + excluded] = 0.0
    found = milp(-objective, constraints=rows, bounds=Bounds(lower, upper),
                 integrality=np.r_[np.zeros(n), np.ones(n), 0], options={"mip_rel_gap": 0})
    return None if found.status != 0 else float(-found.fun)


def solved(path: Path) -> tuple[Problem, Result]:
    inputs = load_inputs(path)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    base = problem.solve()
    assert base.status is SolveStatus.OPTIMAL
    return problem, base


@pytest.mark.parametrize("seed", range(6))
def test_alternatives_compare_with_the_targets_cost(seed: int, tmp_path: Path) -> None:
    frame, budget, share, penalty, path = instance(seed, tmp_path)
    problem, base = solved(path)
    optimum = reference(frame, budget, share, penalty)
    assert optimum is not None
    assert penalised(frame, budget, share, penalty, base.amounts) == pytest.approx(optimum)
    assert (base.objective or 0.0) > optimum + 1e-6          # the target is missed: it costs
    within = 20.0
    found = alternatives(problem, base, 3, within)
    assert found, "the family is not vacuous"
    floor = optimum - abs(optimum) * within / 100
    cut: list[np.ndarray] = [np.asarray(base.funded, dtype=np.bool_)]
    for alt in found:
        value = penalised(frame, budget, share, penalty, alt.amounts)
        assert alt.gap == pytest.approx(abs(optimum - value) / abs(optimum), abs=1e-9)
        assert alt.objective == pytest.approx(float(frame.score @ alt.amounts))
        best = reference(frame, budget, share, penalty, cut=tuple(cut), floor=floor - 1e-9)
        assert best is not None and value == pytest.approx(best, abs=1e-6), alt
        cut.append(alt.amounts > 0)
    if len(found) < 3:       # none left within the gap
        assert reference(frame, budget, share, penalty, cut=tuple(cut), floor=floor + 1e-6) is None


@pytest.mark.parametrize("seed", range(6))
def test_explain_compares_with_the_targets_cost(seed: int, tmp_path: Path) -> None:
    frame, budget, share, penalty, path = instance(seed, tmp_path)
    problem, base = solved(path)
    optimum = reference(frame, budget, share, penalty)
    assert optimum is not None
    ids = frame.id.tolist()
    for i, e in enumerate(explain(problem, ids, base)):
        if e.funded:
            other = reference(frame, budget, share, penalty, excluded=i)
            assert other is not None
            assert e.objective_change == pytest.approx(optimum - other, abs=1e-6), e
        else:
            other = reference(frame, budget, share, penalty, forced=i)
            assert other is not None
            assert e.objective_change == pytest.approx(optimum - other, abs=1e-6), e
            other = optimum
        if e.threshold is None:
            continue
        # at the threshold the best plan with i in is worth the best plan without it (or,
        # for a funded i, the optimum with i out); just below it, less
        at = reference(frame, budget, share, penalty, forced=i, score={i: e.threshold})
        below = reference(frame, budget, share, penalty, forced=i,
                          score={i: e.threshold - 0.01})
        assert at == pytest.approx(other, abs=1e-6), (e, at, other)
        assert below is not None and below < other - 1e-6, (e, below, other)
