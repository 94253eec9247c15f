"""The diagnosis of an infeasible policy against an independent minimal-relaxation model.

The reference is written from SPEC §3–§7 with scipy's ``milp`` and shares no code with
fundopt's model builder: x_i (a multiple of the step with ``amount_step``), a funded binary
y_i with l_i·y_i ≤ x_i ≤ u_i·y_i, every policy line side with a slack and a binary that
lets it move across its whole domain. On random infeasible instances (amount, share,
count, sum, avg, min_deploy, max_funded, amount_step) it checks that

- fundopt moves exactly as many line sides as the reference's minimum (stage 1), and
- every suggested ``to`` is the line's threshold (stage 2): with every change applied the
  reference has a plan; with one line moved a little back toward the value written, and
  the others at their ``to``, it has none.

Plus the two examples of issue 18 (f175 on the sample, the 21-row risk cap).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.relax import solve_relaxed
from fundopt.optimizer.result import Diagnosis, SolveStatus

ROOT = Path(__file__).resolve().parent.parent
REGIONS, CATEGORIES = ("天津", "河北"), ("A", "B", "C")


@dataclass
class Line:
    """One policy line side as the reference sees it: ``key`` is the policy key written."""

    key: str
    side: str                     # "min" or "max"
    measure: str                  # amount share count sum avg
    bound: float
    rows: np.ndarray              # bool mask of the rows it is over
    column: np.ndarray | None = None


@dataclass
class Instance:
    rows: list[dict[str, Any]]
    budget: float
    min_deploy: float
    min_ticket: float
    step: float | None
    max_funded: int | None
    lines: list[Line] = field(default_factory=list)
    toml: str = ""

    @property
    def n(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in self.rows])

    def tickets(self) -> tuple[np.ndarray, np.ndarray]:
        """l_i and u_i (SPEC §4, §7: rounded to the step, up and down)."""
        low = np.array([float(r["min_ticket"]) if r["min_ticket"] != "" else self.min_ticket
                        for r in self.rows])
        up = self.column("max_ticket")
        if self.step:
            low = np.ceil(low / self.step - 1e-9) * self.step
            up = np.floor(up / self.step + 1e-9) * self.step
        return low, up


def random_instance(seed: int) -> Instance:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 15))
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rows.append({
            "id": f"S{i:02d}", "name": f"fund {i}", "region": REGIONS[i % 2],
            "category": CATEGORIES[i if i < 3 else int(rng.integers(3))],
            "max_ticket": round(float(rng.uniform(0.5, 4)), 2),
            "min_ticket": "" if rng.random() < 0.6 else round(float(rng.uniform(0.2, 0.6)), 2),
            "score": round(float(rng.uniform(1, 10)), 1),
            "risk": round(float(rng.uniform(0, 1)), 2),
            "call": round(float(rng.uniform(0, 1)), 2),
            "status": "",
        })
    total = sum(float(r["max_ticket"]) for r in rows)
    inst = Instance(rows, budget=round(total * float(rng.uniform(0.3, 0.6)), 1),
                    min_deploy=float(rng.choice([0.0, 0.8, 0.95])), min_ticket=0.3,
                    step=None if rng.random() < 0.5 else 0.05,
                    max_funded=None if rng.random() < 0.4 else int(rng.integers(2, 6)))
    region = np.array([r["region"] for r in rows])
    category = np.array([r["category"] for r in rows])
    toml = [f"budget = {inst.budget}", f"min_deploy = {inst.min_deploy}",
            f"min_ticket = {inst.min_ticket}"]
    if inst.step:
        toml.append(f"amount_step = {inst.step}")
    if inst.max_funded is not None:
        toml.append(f"max_funded = {inst.max_funded}")
        inst.lines.append(Line("max_funded", "max", "count", inst.max_funded, np.ones(n, bool)))
    if inst.min_deploy:
        inst.lines.append(Line("min_deploy", "min", "amount", inst.min_deploy * inst.budget,
                               np.ones(n, bool)))
    toml.append('[objective]\nmaximize = "score"')
    for name in REGIONS:
        share = round(float(rng.uniform(0.3, 0.65)), 2)
        toml.append(f'[region."{name}"]\nmin_share = {share}')
        inst.lines.append(Line(f"region.{name}.min_share", "min", "share", share,
                               region == name))
    amount = round(float(rng.uniform(0.1, 0.5)) * inst.budget, 2)
    toml.append(f'[category."A"]\nmin_amount = {amount}')
    inst.lines.append(Line("category.A.min_amount", "min", "amount", amount, category == "A"))
    count = int(rng.integers(1, 4))
    toml.append(f'[category."B"]\nmin_count = {count}')
    inst.lines.append(Line("category.B.min_count", "min", "count", count, category == "B"))
    calls = round(float(rng.uniform(0.2, 0.6)) * inst.budget, 2)
    toml.append(f'[[constraints]]\nmeasure = "sum(call)"\nmax = {calls}')
    inst.lines.append(Line("constraints[1].max", "max", "sum", calls, np.ones(n, bool),
                           inst.column("call")))
    cap = round(float(rng.uniform(0.25, 0.5)), 3)
    toml.append(f'[[constraints]]\nwhere = {{ category = ["A", "B"] }}\n'
                f'measure = "avg(risk)"\nmax = {cap}')
    inst.lines.append(Line("constraints[2].max", "max", "avg", cap,
                           np.isin(category, ["A", "B"]), inst.column("risk")))
    inst.toml = "\n".join(toml) + "\n"
    return inst


def write(inst: Instance, folder: Path) -> Path:
    columns = ["id", "name", "region", "category", "max_ticket", "min_ticket", "score",
               "risk", "call", "status"]
    text = ",".join(columns) + "\n" + "".join(
        ",".join(str(r[c]) for c in columns) + "\n" for r in inst.rows)
    (folder / "t.csv").write_text(text, encoding="utf-8")
    (folder / "t.toml").write_text(inst.toml, encoding="utf-8")
    return folder / "t.csv"


# --- the reference model ------------------------------------------------------------


def _line_row(inst: Instance, line: Line, bound: float) -> tuple[np.ndarray, float, float]:
    """Coefficients on (x, y) of the line's side at ``bound``, and its row bounds."""
    n = inst.n
    coef = np.zeros(2 * n)
    if line.measure == "count":
        coef[n:] = line.rows
        value = bound
    elif line.measure == "avg":
        assert line.column is not None
        coef[:n] = np.where(line.rows, line.column - bound, 0.0)
        value = 0.0
    else:
        weights = line.column if line.column is not None else np.ones(n)
        coef[:n] = np.where(line.rows, weights, 0.0)
        value = bound * inst.budget if line.measure == "share" else bound
    return coef, (value if line.side == "min" else -np.inf), (np.inf if line.side == "min"
                                                             else value)


def _base(inst: Instance) -> tuple[list[LinearConstraint], Bounds, np.ndarray, int]:
    """Rows and bounds of the plan model over z = (x, y[, k]): tickets, steps, budget."""
    n = inst.n
    low, up = inst.tickets()
    nk = n if inst.step else 0
    width = 2 * n + nk
    rows = []
    link = np.zeros((2 * n, width))
    for i in range(n):
        link[i, i], link[i, n + i] = 1.0, -up[i]          # x ≤ u·y
        link[n + i, i], link[n + i, n + i] = 1.0, -low[i]  # x ≥ l·y
    rows.append(LinearConstraint(link, np.r_[np.full(n, -np.inf), np.zeros(n)],
                                 np.r_[np.zeros(n), np.full(n, np.inf)]))
    budget = np.zeros(width)
    budget[:n] = 1.0
    rows.append(LinearConstraint(budget, -np.inf, inst.budget))
    if inst.step:
        steps = np.zeros((n, width))
        steps[:, :n] = np.eye(n)
        steps[:, 2 * n:] = -inst.step * np.eye(n)
        rows.append(LinearConstraint(steps, 0.0, 0.0))
    blocked = low > up + 1e-9
    upper = np.r_[np.where(blocked, 0.0, up), np.where(blocked, 0.0, 1.0),
                  np.full(nk, 1e6)]
    integrality = np.r_[np.zeros(n), np.ones(n + nk)]
    return rows, Bounds(np.zeros(width), upper), integrality, width


def feasible(inst: Instance, bounds: dict[str, float], keep: set[str] | None = None) -> bool:
    """Whether the policy has a plan with each line at ``bounds`` (key → value as written;
    lines not named stay as written); with ``keep``, only the lines of those keys (and
    the budget, the tickets) hold."""
    rows, box, integrality, width = _base(inst)
    for line in inst.lines:
        if keep is not None and line.key not in keep:
            continue
        bound = bounds.get(line.key, line.bound)
        if line.key == "min_deploy" and line.key in bounds:
            bound = bounds[line.key] * inst.budget
        coef, lo, hi = _line_row(inst, line, bound)
        rows.append(LinearConstraint(np.r_[coef, np.zeros(width - 2 * inst.n)], lo, hi))
    found = milp(np.zeros(width), constraints=rows, bounds=box, integrality=integrality,
                 options={"mip_rel_gap": 0})
    return found.status == 0


def fewest_moves(inst: Instance) -> int:
    """Stage 1 of SPEC §6 written out: the fewest line sides whose bounds must move, each
    free to move across its whole domain (a slack up to the line's full range)."""
    rows, box, integrality, width = _base(inst)
    n, m = inst.n, len(inst.lines)
    total = width + 2 * m                      # then a slack and a binary per line side
    low, up = inst.tickets()
    grown = [LinearConstraint(np.hstack([np.atleast_2d(r.A),
                                         np.zeros((np.atleast_2d(r.A).shape[0], 2 * m))]),
                              r.lb, r.ub) for r in rows]
    for j, line in enumerate(inst.lines):
        coef, lo, hi = _line_row(inst, line, line.bound)
        room = float(np.abs(coef[:n]) @ up + np.abs(coef[n:2 * n]).sum()) + 1.0
        if line.measure in ("amount", "share", "count", "sum") and line.side == "min":
            room = float(line.bound * (inst.budget if line.measure == "share" else 1)) + 1.0
        row = np.zeros(total)
        row[: 2 * n] = coef
        row[width + j] = 1.0 if line.side == "min" else -1.0
        grown.append(LinearConstraint(row, lo, hi))
        tie = np.zeros(total)
        tie[width + j], tie[width + m + j] = 1.0, -room
        grown.append(LinearConstraint(tie, -np.inf, 0.0))
    cost = np.r_[np.zeros(width + m), np.ones(m)]
    box = Bounds(np.r_[box.lb, np.zeros(2 * m)], np.r_[box.ub, np.full(m, np.inf),
                                                       np.ones(m)])
    found = milp(cost, constraints=grown, bounds=box,
                 integrality=np.r_[integrality, np.zeros(m), np.ones(m)],
                 options={"mip_rel_gap": 0})
    assert found.status == 0, found.message
    return round(found.fun)


# --- the checks -----------------------------------------------------------------------


def diagnosed(table: Path) -> tuple[Problem, Diagnosis]:
    inputs = load_inputs(table)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    result = problem.solve()
    assert result.status is SolveStatus.INFEASIBLE
    assert result.diagnosis is not None
    return problem, result.diagnosis


def back_toward(inst: Instance, key: str, side: str, to: float, written: float) -> float:
    """``to`` moved a little toward the value written (a whole one for a count)."""
    line = next(ln for ln in inst.lines if ln.key == key)
    if line.measure == "count":
        step = 1.0
    else:
        step = 1e-4 * max(1.0, abs(to)) if line.measure != "share" else 1e-4
    moved = to + step if side == "min" else to - step
    return min(moved, written) if side == "min" else max(moved, written)


def infeasible_instances(count: int) -> list[tuple[int, Instance]]:
    found: list[tuple[int, Instance]] = []
    seed = 0
    while len(found) < count:
        inst = random_instance(seed)
        if not feasible(inst, {}):
            found.append((seed, inst))
        seed += 1
    return found


CASES = infeasible_instances(25)


@pytest.mark.parametrize(("seed", "inst"), CASES, ids=[str(s) for s, _ in CASES])
def test_fewest_lines_and_each_at_its_threshold(seed: int, inst: Instance,
                                                tmp_path: Path) -> None:
    problem, diagnosis = diagnosed(write(inst, tmp_path))
    moves = {r.key: r for r in diagnosis.relaxation}
    assert len(moves) == len(diagnosis.relaxation) == fewest_moves(inst), diagnosis
    applied = {key: r.to_value for key, r in moves.items()}
    assert feasible(inst, applied), diagnosis
    for key, r in moves.items():
        back = back_toward(inst, key, r.bound, r.to_value, r.from_value)
        if back == r.from_value:
            continue
        assert not feasible(inst, {**applied, key: back}), (key, r, back)
    # the conflict cannot hold together and, with the budget in it, any one line dropped
    # lets the rest hold (the reference keeps the budget's cap always)
    keys = {c.id: set(c.keys) for c in problem.constraints}
    conflict = set().union(*(keys[i] for i in diagnosis.conflict_ids))
    assert not feasible(inst, {}, conflict), diagnosis.conflict
    if "budget" in diagnosis.conflict_ids:
        for i in diagnosis.conflict_ids:
            if i != "budget":
                assert feasible(inst, {}, conflict - keys[i]), (i, diagnosis.conflict)
    # --relax solves under the same changes
    relaxed = solve_relaxed(problem, problem.solve())
    assert relaxed.is_ok, diagnosis
    assert diagnosis.conflict and len(diagnosis.conflict) == len(diagnosis.conflict_ids)


def test_every_random_case_moves_at_least_one_kind_of_line() -> None:
    """The random cases do exercise the line kinds the issue names."""
    kinds = {ln.measure for _, inst in CASES for ln in inst.lines}
    assert kinds == {"amount", "share", "count", "sum", "avg"}
    assert any(inst.step for _, inst in CASES) and any(not inst.step for _, inst in CASES)
    assert any(inst.max_funded for _, inst in CASES)
    assert any(inst.min_deploy for _, inst in CASES)


# --- the examples of issue 18 -----------------------------------------------------------


def test_f175_moves_the_frontier_floor_to_its_threshold(tmp_path: Path) -> None:
    """The sample with 前沿技术 ≥ 17.5 %: the smallest move is to about 15.975 % (15.5 %
    holds, 16 % does not), not 3.45 %; --relax applies it and a hair above does not hold."""
    text = (ROOT / "inputs/2024.toml").read_text(encoding="utf-8")
    policy = tmp_path / "f175.toml"
    head = '"前沿技术"]\nmin_share = '
    policy.write_text(text.replace(head + "0.15", head + "0.175"), encoding="utf-8")
    inputs = load_inputs(ROOT / "inputs/2024.csv", policy)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    result = problem.solve()
    assert result.diagnosis is not None
    (move,) = result.diagnosis.relaxation
    assert move.key == "category.前沿技术.min_share"
    assert 0.155 <= move.to_value <= 0.16
    relaxed = solve_relaxed(problem, result)
    assert relaxed.is_ok
    line = next(c for c in relaxed.constraints if c.label == "category 前沿技术 share")
    assert line.min == pytest.approx(move.to_value)
    for share, holds in ((move.to_value, True), (move.to_value + 1e-4, False),
                         (0.155, True), (0.16, False)):
        policy.write_text(text.replace('"前沿技术"]\nmin_share = 0.15',
                                       f'"前沿技术"]\nmin_share = {share}'), encoding="utf-8")
        again = load_inputs(ROOT / "inputs/2024.csv", policy)
        status = Problem(again.table, again.policy, again.constraints).solve().status
        assert (status is not SolveStatus.INFEASIBLE) is holds, share


def twenty_one_rows(folder: Path) -> Path:
    """The 21-row example of issue 18: 国家重大平台 ≥ 2.2 and an avg(risk) cap of 0.048
    over 国家重大平台 + 高端人才团队; moving the risk cap alone suffices."""
    rng = np.random.default_rng(18)
    categories = ["国家重大平台", "重大科技专项", "前沿技术", "高端人才团队"]
    lines = ["id,name,region,category,max_ticket,score,risk"]
    for i in range(21):
        category = categories[i % 4]
        risk = round(float(rng.uniform(0.05, 0.3)), 3)
        # outside the cap the rows are small: they cannot reach min_deploy alone
        top = round(float(rng.uniform(0.5, 1.5)), 2) if i % 4 in (0, 3) else 0.5
        lines.append(f"R{i:02d},fund {i},{'天津' if i % 2 else '河北'},{category},"
                     f"{top},{int(rng.integers(50, 90))},{risk}")
    (folder / "r21.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "r21.toml").write_text(
        'budget = 8\nmin_deploy = 0.9\nmin_ticket = 0.3\n[objective]\nmaximize = "score"\n'
        '[category."国家重大平台"]\nmin_amount = 2.2\n'
        '[[constraints]]\nname = "risk cap"\n'
        'where = { category = ["国家重大平台", "高端人才团队"] }\n'
        'measure = "avg(risk)"\nmax = 0.048\n', encoding="utf-8")
    return folder / "r21.csv"


def test_twenty_one_rows_moves_only_the_risk_cap(tmp_path: Path) -> None:
    problem, diagnosis = diagnosed(twenty_one_rows(tmp_path))
    (move,) = diagnosis.relaxation
    assert move.constraint == "risk cap" and move.bound == "max"
    assert move.id == "c2"
    # the threshold: the lowest commitment-weighted risk any plan with 国家重大平台 ≥ 2.2
    # reaches, by brute force over which rows of the two categories are funded
    inputs = load_inputs(tmp_path / "r21.csv")
    frame = inputs.table.frame
    assert move.to_value == pytest.approx(_lowest_risk(frame), abs=2e-6)
    relaxed = solve_relaxed(problem, problem.solve())
    assert relaxed.is_ok


def _lowest_risk(frame: object) -> float:
    """min Σ risk·x / Σ x over the 国家重大平台 and 高端人才团队 rows, given at least 2.2 in
    国家重大平台 and 7.2..8 in all, tickets 0.3..max: bisection on the cap λ, each step a
    scipy milp feasibility check of Σ (risk − λ)·x ≤ 0 (not fundopt's Dinkelbach)."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    n = len(frame)
    cat = frame["category"].to_numpy()
    risk = frame["risk"].to_numpy(float)
    up = frame["max_ticket"].to_numpy(float)
    low = np.full(n, 0.3)
    big = cat == "国家重大平台"
    capped = big | (cat == "高端人才团队")

    def holds(lam: float) -> bool:
        width = 2 * n
        rows = [
            LinearConstraint(np.hstack([np.eye(n), -np.diag(up)]), -np.inf, 0),
            LinearConstraint(np.hstack([np.eye(n), -np.diag(low)]), 0, np.inf),
            LinearConstraint(np.r_[np.ones(n), np.zeros(n)], 7.2, 8.0),
            LinearConstraint(np.r_[big.astype(float), np.zeros(n)], 2.2, np.inf),
            LinearConstraint(np.r_[np.where(capped, risk - lam, 0.0), np.zeros(n)], -np.inf,
                             0.0),
        ]
        found = milp(np.zeros(width), constraints=rows,
                     bounds=Bounds(np.zeros(width), np.r_[up, np.ones(n)]),
                     integrality=np.r_[np.zeros(n), np.ones(n)])
        return found.status == 0

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if holds(mid) else (mid, hi)
    return hi


def test_the_json_keeps_the_keys_and_adds_ids_and_messages(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fundopt.cli import app

    table = twenty_one_rows(tmp_path)
    out = tmp_path / "r.json"
    for lang in ("en", "zh"):
        got = CliRunner().invoke(app, ["solve", str(table), "-o", str(out), "--lang", lang])
        assert got.exit_code == 3, got.output
        diagnosis = json.loads(out.read_text(encoding="utf-8"))["diagnosis"]
        (move,) = diagnosis["relaxation"]
        assert {"constraint", "bound", "from", "to", "id"} <= set(move)
        assert diagnosis["conflict"] and diagnosis["messages"]
        assert all(isinstance(m, str) for m in diagnosis["messages"])
        assert math.isfinite(move["to"])


def test_sweep_agrees_with_the_suggested_threshold(tmp_path: Path) -> None:
    """`sweep` over the moved line: the suggested `to` is feasible, a point just before it
    (toward the value written) is not — on the sample with 河北 ≥ 70 %."""
    from typer.testing import CliRunner

    from fundopt.cli import app

    text = (ROOT / "inputs/2024.toml").read_text(encoding="utf-8")
    policy = tmp_path / "hb.toml"
    policy.write_text(text.replace('[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
                                   '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8'),
                      encoding="utf-8")
    inputs = load_inputs(ROOT / "inputs/2024.csv", policy)
    result = Problem(inputs.table, inputs.policy, inputs.constraints).solve()
    assert result.diagnosis is not None
    (move,) = result.diagnosis.relaxation
    assert move.key == "region.河北.min_share" and move.to_value == pytest.approx(0.6)
    out = tmp_path / "sweep.json"
    got = CliRunner().invoke(app, [
        "sweep", str(ROOT / "inputs/2024.csv"), "--policy", str(policy), "--param",
        move.key, "--from", str(move.to_value + 1e-4), "--to", str(move.to_value),
        "--steps", "2", "-o", str(out)])
    assert got.exit_code == 0, got.output
    points = json.loads(out.read_text(encoding="utf-8"))["points"]
    assert [p["status"] for p in points] == ["infeasible", "optimal"]


# --- the words: both catalogs, every reason ------------------------------------------------


def test_both_catalogs_hold_the_same_codes_and_placeholders() -> None:
    import string

    from fundopt.reports.text import en, zh

    def fields(template: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}

    assert en.MESSAGES.keys() == zh.MESSAGES.keys()
    for code, template in en.MESSAGES.items():
        assert fields(template) == fields(zh.MESSAGES[code]), code


def _reasons(table: Path, policy: Path | None = None) -> Diagnosis:
    inputs = load_inputs(table, policy)
    result = Problem(inputs.table, inputs.policy, inputs.constraints).solve()
    assert result.diagnosis is not None
    return result.diagnosis


def test_floors_over_the_budget_are_summed_in_both_languages(tmp_path: Path) -> None:
    from fundopt.reports.diagnosis_text import diagnosis_lines

    text = (ROOT / "inputs/2024.toml").read_text(encoding="utf-8")
    policy = tmp_path / "hb.toml"
    policy.write_text(text.replace('[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
                                   '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8'),
                      encoding="utf-8")
    diagnosis = _reasons(ROOT / "inputs/2024.csv", policy)
    assert diagnosis.reasons[0].code == "diagnosis.over_total"
    en, zh = diagnosis_lines(diagnosis, "en"), diagnosis_lines(diagnosis, "zh")
    assert en[0] == ("region 天津 share ≥ 40%, region 河北 share ≥ 70%: together 110% of "
                     "the 40 亿元 budget")
    assert zh[0] == "地区 天津 占比 ≥ 40%，地区 河北 占比 ≥ 70%：合计占 40 亿元预算的 110%"
    assert en[1] == "region 河北 share ≥ 70%: with the rest of the policy it reaches at most 60%"
    assert zh[1] == "地区 河北 占比 ≥ 70%：在其余政策下最多只能达到 60%"


def test_caps_under_min_deploy_are_summed(tmp_path: Path) -> None:
    from fundopt.reports.diagnosis_text import diagnosis_lines

    text = (ROOT / "inputs/2024.toml").read_text(encoding="utf-8")
    policy = tmp_path / "caps.toml"
    policy.write_text(text.replace('[region."天津"]\nmin_share = 0.4\nmax_share = 0.6',
                                   '[region."天津"]\nmax_share = 0.4')
                      .replace('[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
                               '[region."河北"]\nmax_share = 0.45'), encoding="utf-8")
    diagnosis = _reasons(ROOT / "inputs/2024.csv", policy)
    assert diagnosis.reasons[0].code == "diagnosis.under_total", diagnosis
    (line,) = [t for t in diagnosis_lines(diagnosis, "en") if "together" in t]
    assert line == ("region 天津 share ≤ 40%, region 河北 share ≤ 45%: together at most 85%, "
                    "less than min_deploy ≥ 90%")
    assert any("合计至多 85%，低于" in t for t in diagnosis_lines(diagnosis, "zh"))


def test_per_row_lines_appear_once_as_their_rule(tmp_path: Path) -> None:
    """A cap per sub-fund (``where = { id = "*" }``) below what the floors need: the
    conflict names the rule once, with the sub-funds listed."""
    from fundopt.reports.diagnosis_text import diagnosis_lines

    rows = ["id,name,region,category,max_ticket,score"] + [
        f"P{i},p{i},天津,A,5,{10 - i}" for i in range(6)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "p.toml").write_text(
        'budget = 10\nmin_deploy = 0.9\n[objective]\nmaximize = "score"\n'
        '[[constraints]]\nname = "per fund"\nwhere = { id = "*" }\nmeasure = "amount"\n'
        'max = 1\n', encoding="utf-8")
    diagnosis = _reasons(tmp_path / "p.csv")
    assert len(diagnosis.conflict) == 7            # the budget and six per-fund caps
    (first, *_) = diagnosis_lines(diagnosis, "en")
    assert first.count("per fund") == 1, first
    assert "for each of 6: P0, P1, P2, P3, P4, P5" in first
    assert "共 6 项：P0, P1, P2, P3, P4, P5" in diagnosis_lines(diagnosis, "zh")[0]


def test_must_rows_over_the_budget_are_a_reason_in_both_languages(tmp_path: Path) -> None:
    from fundopt.reports.diagnosis_text import diagnosis_lines

    (tmp_path / "m.csv").write_text(
        "id,name,region,category,max_ticket,min_ticket,score,status\n"
        "A,a,天津,k,4,2,5,must\nB,b,河北,k,4,1.5,4,must\nC,c,河北,k,4,1,3,\n",
        encoding="utf-8")
    (tmp_path / "m.toml").write_text("budget = 3\n", encoding="utf-8")
    diagnosis = _reasons(tmp_path / "m.csv")
    (en,), (zh,) = diagnosis_lines(diagnosis, "en"), diagnosis_lines(diagnosis, "zh")
    assert "A, B" in en and "3.5" in en and "budget of 3" in en
    assert zh == "必投子基金 A, B 的最低出资合计至少 3.5 亿元，超过预算 3 亿元"


def test_must_rows_against_the_tickets_read_in_both_languages() -> None:
    from fundopt.messages import Message
    from fundopt.reports.diagnosis_text import reason_text

    values = {"ids": [], "total": 0.0, "budget": 3.0, "unit": "亿元"}
    message = Message("diagnosis.must_and_tickets", values)
    assert reason_text(message, "en") == (
        "the policy stays infeasible even with every policy bound relaxed: the must-fund "
        "sub-funds (none) (at least 0 亿元) and the ticket bounds conflict")
    assert reason_text(message, "zh") == (
        "即使放宽所有政策边界仍不可行：必投子基金 （无）（至少 0 亿元）与出资上下限相互冲突")
