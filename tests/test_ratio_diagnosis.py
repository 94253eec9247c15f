"""The diagnosis of a policy whose ratio line (SPEC §11: ``funded(fund_size) / amount``,
``sum(local_invest) / amount``) cannot hold, against an independent scipy ``milp`` model.

The reference is written from SPEC §4 and §11, not from the builder: x_i, a funded binary
y_i with l_i·y_i ≤ x_i ≤ u_i·y_i, the budget, and each policy line as a row. A ratio
M1 / M2 ≥ b is the row M1 − b·M2 ≥ 0; with b free it is bilinear, so for the count of
lines the reference drops a moved ratio line instead (a binary per line that switches the
line off): the fewest lines = the fewest whose removal leaves a plan. On random instances
of ≤ 12 rows it checks that

- fundopt moves exactly that many lines, and
- every suggested ``to`` is the threshold: with every change applied the reference has a
  plan; with one line moved 1e-3 back toward the value written it has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import SolveStatus

BIG = 1e4      # switches a row off: every activity of these instances is far below it


@dataclass
class Line:
    key: str                 # the policy key of the bound written
    side: str                # "min" or "max"
    kind: str                # "amount", "share", "count", "ratio"
    bound: float
    rows: np.ndarray         # bool mask of the rows it is over
    top: np.ndarray | None = None      # ratio: per-row weight of M1 ...
    top_on_y: bool = False             # ... on the funded binary (funded(...)) or on x
    bottom_on_y: bool = False          # M2: count (on y) or amount (on x)


@dataclass
class Instance:
    frame_rows: list[dict[str, object]]
    budget: float
    low: np.ndarray
    up: np.ndarray
    lines: list[Line] = field(default_factory=list)
    toml: str = ""

    @property
    def n(self) -> int:
        return len(self.frame_rows)


def random_instance(seed: int) -> Instance:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 13))
    regions = np.r_[["天津", "河北"], rng.choice(["天津", "河北"], n - 2)]   # both occur
    rows = [{"id": f"R{i:02d}", "name": f"fund {i}", "region": regions[i], "category": "A",
             "fund_size": (fund_size := round(float(rng.uniform(2.0, 20.0)), 1)),
             "max_ticket": round(fund_size * float(rng.uniform(0.1, 0.3)), 2),
             "score": round(float(rng.uniform(1, 10)), 1),
             "local_invest": round(float(rng.uniform(0.5, 6.0)), 2)} for i in range(n)]
    up = np.array([r["max_ticket"] for r in rows], float)
    low = np.full(n, 0.3)
    budget = round(float(up.sum() * rng.uniform(0.3, 0.6)), 1)
    inst = Instance(rows, budget, low, up)
    toml = [f"budget = {budget}", "min_ticket = 0.3", '[objective]\nmaximize = "score"']
    deploy = float(rng.choice([0.0, 0.5, 0.8]))
    if deploy:
        toml.insert(1, f"min_deploy = {deploy}")
        inst.lines.append(Line("min_deploy", "min", "amount", deploy * budget, np.ones(n, bool)))
    share = round(float(rng.uniform(0.2, 0.6)), 2)
    toml.append(f'[region."天津"]\nmin_share = {share}')
    inst.lines.append(Line("region.天津.min_share", "min", "share", share, regions == "天津"))
    if rng.random() < 0.5:
        cap = int(rng.integers(2, 5))
        toml.append(f'[region."河北"]\nmax_count = {cap}')
        inst.lines.append(Line("region.河北.max_count", "max", "count", cap, regions == "河北"))
    size = np.array([r["fund_size"] for r in rows], float)
    local = np.array([r["local_invest"] for r in rows], float)
    everyone = np.ones(n, bool)
    if seed % 3 == 0:        # leverage: Σ fund_size of the funded ≥ b·Σ x
        bound = round(float(rng.uniform(8.0, 20.0)), 3)
        toml.append(f'[[constraints]]\nname = "leverage"\nmeasure = "funded(fund_size) / amount"'
                    f"\nmin = {bound}")
        inst.lines.append(Line("constraints[1].min", "min", "ratio", bound, everyone,
                               size, top_on_y=True))
    elif seed % 3 == 1:      # portfolio 返投: Σ local_invest·x ≥ b·Σ x
        bound = round(float(rng.uniform(2.5, 5.0)), 3)
        toml.append(f'[[constraints]]\nname = "local"\nmeasure = "sum(local_invest) / amount"'
                    f"\nmin = {bound}")
        inst.lines.append(Line("constraints[1].min", "min", "ratio", bound, everyone, local))
    else:                    # a cap: the funded sub-funds' average size ≤ b
        bound = round(float(rng.uniform(4.0, 9.0)), 3)
        toml.append(f'[[constraints]]\nname = "size"\nmeasure = "funded(fund_size) / count"'
                    f"\nmax = {bound}")
        inst.lines.append(Line("constraints[1].max", "max", "ratio", bound, everyone,
                               size, top_on_y=True, bottom_on_y=True))
    inst.toml = "\n".join(toml) + "\n"
    return inst


def write(inst: Instance, folder: Path) -> Path:
    columns = list(inst.frame_rows[0])
    text = ",".join(columns) + "\n" + "".join(
        ",".join(str(r[c]) for c in columns) + "\n" for r in inst.frame_rows)
    (folder / "t.csv").write_text(text, encoding="utf-8")
    (folder / "t.toml").write_text(inst.toml, encoding="utf-8")
    return folder / "t.csv"


# --- the reference ------------------------------------------------------------------------


def _row(inst: Instance, line: Line, bound: float) -> tuple[np.ndarray, float, float]:
    """The line's side at ``bound`` over (x, y), as coefficients and row bounds."""
    n = inst.n
    coef = np.zeros(2 * n)
    if line.kind == "ratio":            # M1 − b·M2 ≥ 0 (≤ 0 for a cap)
        assert line.top is not None
        top = slice(n, 2 * n) if line.top_on_y else slice(0, n)
        bottom = slice(n, 2 * n) if line.bottom_on_y else slice(0, n)
        coef[top] += np.where(line.rows, line.top, 0.0)
        coef[bottom] -= bound * line.rows
        value = 0.0
    elif line.kind == "count":
        coef[n:] = line.rows
        value = bound
    else:
        coef[:n] = line.rows
        value = bound * inst.budget if line.kind == "share" else bound
    return coef, (value if line.side == "min" else -np.inf), (np.inf if line.side == "min"
                                                             else value)


def _solve(inst: Instance, bounds: dict[str, float], switched: bool) -> float | None:
    """With ``switched``, the fewest lines switched off for a plan; else 0 if the policy
    with each line at ``bounds`` (key → value as written) has a plan. None: no plan."""
    n, m = inst.n, len(inst.lines)
    width = 2 * n + (m if switched else 0)
    rows = []
    link = np.zeros((2 * n, width))
    for i in range(n):
        link[i, i], link[i, n + i] = 1.0, -inst.up[i]        # x ≤ u·y
        link[n + i, i], link[n + i, n + i] = 1.0, -inst.low[i]   # x ≥ l·y
    rows.append(LinearConstraint(link, np.r_[np.full(n, -np.inf), np.zeros(n)],
                                 np.r_[np.zeros(n), np.full(n, np.inf)]))
    rows.append(LinearConstraint(np.r_[np.ones(n), np.zeros(width - n)], -np.inf, inst.budget))
    for j, line in enumerate(inst.lines):
        bound = bounds.get(line.key, line.bound)
        if line.key == "min_deploy" and line.key in bounds:
            bound *= inst.budget
        coef, lo, hi = _row(inst, line, bound)
        row = np.r_[coef, np.zeros(width - 2 * n)]
        if switched:                  # off: the row may miss its bound by up to BIG
            row[2 * n + j] = BIG if line.side == "min" else -BIG
        rows.append(LinearConstraint(row, lo, hi))
    cost = np.r_[np.zeros(2 * n), np.ones(width - 2 * n)]
    found = milp(cost, constraints=rows, bounds=Bounds(np.zeros(width),
                                                       np.r_[inst.up, np.ones(width - n)]),
                 integrality=np.r_[np.zeros(n), np.ones(width - n)],
                 options={"mip_rel_gap": 0})
    return float(found.fun) if found.status == 0 else None


def feasible(inst: Instance, bounds: dict[str, float]) -> bool:
    return _solve(inst, bounds, switched=False) is not None


def fewest_lines(inst: Instance) -> int:
    found = _solve(inst, {}, switched=True)
    assert found is not None
    return round(found)


def infeasible_cases(each: int) -> list[tuple[int, Instance]]:
    """Random instances whose ratio line is part of what cannot hold: ``each`` of every
    kind of ratio (the kind is the seed mod 3)."""
    found: list[tuple[int, Instance]] = []
    seed = 0
    while len(found) < 3 * each:
        inst = random_instance(seed)
        ratio = inst.lines[-1]
        dropped = 0.0 if ratio.side == "min" else 1e3
        if sum(s % 3 == seed % 3 for s, _ in found) < each and not feasible(inst, {}) \
                and feasible(inst, {ratio.key: dropped}):
            found.append((seed, inst))
        seed += 1
    return found


CASES = infeasible_cases(4)


@pytest.mark.parametrize(("seed", "inst"), CASES, ids=[str(s) for s, _ in CASES])
def test_a_ratio_line_moves_to_its_threshold(seed: int, inst: Instance,
                                             tmp_path: Path) -> None:
    inputs = load_inputs(write(inst, tmp_path))
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    result = problem.solve()
    assert result.status is SolveStatus.INFEASIBLE
    diagnosis = result.diagnosis
    assert diagnosis is not None
    moves = {r.key: r for r in diagnosis.relaxation}
    assert len(moves) == len(diagnosis.relaxation) == fewest_lines(inst), diagnosis
    applied = {key: r.to_value for key, r in moves.items()}
    assert feasible(inst, applied), diagnosis
    for key, r in moves.items():
        line = next(ln for ln in inst.lines if ln.key == key)
        step = 1.0 if line.kind == "count" else 1e-3
        back = r.to_value + step if r.bound == "min" else r.to_value - step
        back = min(back, r.from_value) if r.bound == "min" else max(back, r.from_value)
        if back != r.from_value:
            assert not feasible(inst, {**applied, key: back}), (key, r, back)


def test_the_ratio_cases_move_the_ratio(tmp_path: Path) -> None:
    """The family above is not vacuous: the ratio line is among the moves of most cases
    (the others move a line whose change alone also helps)."""
    moved = 0
    for _, inst in CASES:
        inputs = load_inputs(write(inst, tmp_path))
        diagnosis = Problem(inputs.table, inputs.policy, inputs.constraints).solve().diagnosis
        assert diagnosis is not None
        moved += any(r.key == inst.lines[-1].key for r in diagnosis.relaxation)
    assert moved >= len(CASES) // 3, moved
