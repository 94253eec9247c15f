"""scope = "fund" (SPEC §9): the second round of a fund planned against its book.

The independent check: random two-round instances whose second round fundopt solves with
``--book``, against a ``scipy.optimize.milp`` model that holds both rounds' rows (the
booked ones fixed at their booked amounts) and writes every fund-scope rule straight
from the SPEC over them — distinct ids for counts, the booked total in the share's
denominator, max_stake over the booked plus the new commitment of a follow-on.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from openpyxl import load_workbook
from scipy.optimize import Bounds, LinearConstraint, milp
from tables import loosened
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.domain import Constraint
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.store.fund import read_fund
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import SolveStatus

runner = CliRunner()
INF = math.inf
STAKE, MIN_TICKET, SINGLE = 0.3, 0.3, 0.5


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@dataclass
class Instance:
    first: pd.DataFrame          # round 1's table
    second: pd.DataFrame         # round 2's table (some ids are follow-ons)
    budget: float                # round 2's budget
    share_a: tuple[float, float]  # fund share of region A
    c1_max: float                # fund amount of category c1
    district_max: int            # fund count per district
    risk_max: float              # fund avg(risk) over category c0
    risk_sum_max: float          # fund sum(risk)
    b_min: float                 # round amount of region B (round scope)


def table(ids: list[str], rng: np.random.Generator, districts: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "id": ids, "name": ids,
        "region": rng.choice(["A", "B"], n), "district": rng.choice(districts, n),
        "category": rng.choice(["c0", "c1"], n),
        "max_ticket": rng.uniform(0.5, 2.5, n).round(2),
        "fund_size": rng.uniform(3.0, 8.0, n).round(1),
        "score": rng.integers(50, 100, n).astype(float),
        "risk": rng.uniform(0.2, 0.8, n).round(2),
    })


def write_round(folder: Path, name: str, frame: pd.DataFrame, policy: str) -> Path:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    (folder / f"{name}.toml").write_text(policy, encoding="utf-8")
    return path


FIRST_POLICY = f"""budget = 6
min_deploy = 0.8
max_stake = {STAKE}
min_ticket = {MIN_TICKET}
"""


def second_policy(inst: Instance) -> str:
    lo, hi = inst.share_a
    return f"""budget = {inst.budget}
min_deploy = 0.6
max_stake = {STAKE}
max_single = {SINGLE}
min_ticket = {MIN_TICKET}

[region.A]
min_share = {lo}
max_share = {hi}
scope = "fund"

[region.B]
min_amount = {inst.b_min}

[category.c1]
max_amount = {inst.c1_max}
scope = "fund"

[district."*"]
max_count = {inst.district_max}
scope = "fund"

[[constraints]]
name = "risk c0"
where = {{ category = "c0" }}
measure = "avg(risk)"
max = {inst.risk_max}
scope = "fund"

[[constraints]]
name = "risk total"
measure = "sum(risk)"
max = {inst.risk_sum_max}
scope = "fund"
"""


def make_instance(seed: int, folder: Path) -> tuple[Instance, Path, pd.Series]:
    """Round 1 solved and booked; round 2 drawn around what round 1 funded."""
    rng = np.random.default_rng(seed)
    first = table([f"R1-{i}" for i in range(9)], rng, [f"d{k}" for k in range(6)])
    path = write_round(folder, "first", first, FIRST_POLICY)
    code, text = run("solve", path, "-o", folder / "first.json")
    assert code == 0, text
    plan = json.loads((folder / "first.json").read_text(encoding="utf-8"))
    amounts = pd.Series({a["id"]: a["amount"] for a in plan["allocations"]})
    code, text = run("book", "add", folder / "first.json", "--book", folder / "fund.book",
                     "--round", "r1")
    assert code == 0, text
    funded = first[first["id"].map(amounts) > 0]
    follow = funded.sample(n=min(3, len(funded)), random_state=seed)
    new = table([f"R2-{i}" for i in range(7)], rng, [f"d{k}" for k in range(8)])
    again = follow.assign(max_ticket=rng.uniform(0.5, 2.0, len(follow)).round(2),
                          fund_size=follow["fund_size"] + rng.uniform(0, 3, len(follow)).round(1),
                          score=rng.integers(50, 100, len(follow)).astype(float))
    second = pd.concat([again, new], ignore_index=True)
    booked = funded.assign(amount=funded["id"].map(amounts))
    total, budget = float(booked["amount"].sum()), 5.0
    share_a = float(booked.loc[booked["region"] == "A", "amount"].sum()) / (total + budget)
    lo = round(min(0.9, share_a + rng.uniform(0.0, 0.08)), 3)
    inst = Instance(
        first=first, second=second, budget=budget, share_a=(lo, round(min(1.0, lo + 0.2), 3)),
        c1_max=round(float(booked.loc[booked["category"] == "c1", "amount"].sum())
                     + rng.uniform(1.0, 3.0), 3),
        district_max=int(booked.groupby("district")["id"].nunique().max() + rng.integers(0, 2)),
        risk_max=round(_average(booked[booked["category"] == "c0"]) + rng.uniform(-0.03, 0.06),
                       3),
        risk_sum_max=round(_weighted(booked) + rng.uniform(1.5, 3.0), 3),
        b_min=round(rng.uniform(0.5, 1.5), 2))
    return inst, write_round(folder, "second", second, second_policy(inst)), amounts


def _average(booked: pd.DataFrame) -> float:
    """The booked commitment-weighted average risk (0.5 when nothing is booked)."""
    total = float(booked["amount"].to_numpy(float).sum())
    return _weighted(booked) / total if total > 0 else 0.5


def _weighted(booked: pd.DataFrame) -> float:
    return float(booked["risk"].to_numpy(float) @ booked["amount"].to_numpy(float))


def reference(inst: Instance, booked_amounts: pd.Series,
              fixed: np.ndarray | None = None) -> tuple[bool, float | None]:
    """Round 2's optimum from a model over both rounds' rows, written from SPEC §9.

    Columns: x1 (booked rows, fixed at their amounts), x2, y1 (fixed 1), y2, and one z per
    (district, id) that says the id is funded in that district in some round. ``fixed``
    pins x2 (a feasibility check of fundopt's plan).
    """
    old = inst.first.assign(amount=inst.first["id"].map(booked_amounts))
    old = old[old["amount"] > 0].reset_index(drop=True)
    new = inst.second.reset_index(drop=True)
    n1, n2 = len(old), len(new)
    rows = pd.concat([old, new], ignore_index=True)       # x1 then x2
    n = n1 + n2
    districts = list(dict.fromkeys(new["district"]))
    pairs = [(d, i) for d in districts
             for i in dict.fromkeys(rows.loc[rows["district"] == d, "id"])]
    nz = len(pairs)
    width = 2 * n + nz
    x, y, z = np.arange(n), n + np.arange(n), 2 * n + np.arange(nz)
    lower, upper = np.zeros(width), np.ones(width)
    upper[x] = INF
    lower[x[:n1]] = upper[x[:n1]] = old["amount"].to_numpy()
    lower[y[:n1]] = 1.0
    if fixed is not None:
        lower[x[n1:]] = upper[x[n1:]] = fixed
    integrality = np.zeros(width)
    integrality[y] = integrality[z] = 1
    A, lo, hi = [], [], []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        vector = np.zeros(width)
        for k, v in entries.items():
            vector[k] += v
        A.append(vector)
        lo.append(low)
        hi.append(high)

    second = list(range(n1, n))
    booked_total = float(old["amount"].to_numpy(float).sum())
    for j in second:
        r = rows.iloc[j]
        cap = min(r["max_ticket"], SINGLE * inst.budget)
        row({x[j]: 1.0, y[j]: -cap}, -INF, 0.0)                # x ≤ cap·y
        row({x[j]: 1.0, y[j]: -MIN_TICKET}, 0.0, INF)          # x ≥ min_ticket·y
        same = [k for k in range(n1) if old.at[k, "id"] == r["id"]]
        # max_stake on booked + new: Σ x over every round's row of this id
        row({x[k]: 1.0 for k in [*same, j]}, -INF, STAKE * r["fund_size"])
    row({x[j]: 1.0 for j in second}, 0.6 * inst.budget, inst.budget)
    in_a = rows["region"].to_numpy() == "A"
    lo_a, hi_a = inst.share_a        # the share's denominator: booked total + budget
    row({x[k]: float(in_a[k]) for k in range(n)}, lo_a * (booked_total + inst.budget),
        hi_a * (booked_total + inst.budget))
    in_b = rows["region"].to_numpy() == "B"
    in_c1 = rows["category"].to_numpy() == "c1"
    row({x[j]: float(in_b[j]) for j in second}, inst.b_min, INF)
    row({x[k]: float(in_c1[k]) for k in range(n)}, -INF, inst.c1_max)
    c0 = rows["category"].to_numpy() == "c0"
    risk = rows["risk"].to_numpy(float)
    row({x[k]: (risk[k] - inst.risk_max) * c0[k] for k in range(n)}, -INF, 0.0)
    row({x[k]: risk[k] for k in range(n)}, -INF, inst.risk_sum_max)
    for m, (d, i) in enumerate(pairs):   # z = 1 ⇔ id i is funded in district d in a round
        members = [k for k in range(n) if rows.at[k, "district"] == d and rows.at[k, "id"] == i]
        for k in members:
            row({z[m]: 1.0, y[k]: -1.0}, 0.0, INF)
        row({z[m]: 1.0, **{y[k]: -1.0 for k in members}}, -INF, 0.0)
    for d in districts:
        row({z[m]: 1.0 for m, (dd, _) in enumerate(pairs) if dd == d}, -INF, inst.district_max)
    cost = np.zeros(width)
    cost[x[n1:]] = -new["score"].to_numpy(float)
    found = milp(cost, constraints=LinearConstraint(np.array(A), lo, hi),
                 integrality=integrality, bounds=Bounds(lower, upper),
                 options={"mip_rel_gap": 0.0})
    if not found.success:
        return False, None
    return True, -float(found.fun)


@pytest.mark.parametrize("seed", range(10))
def test_fund_scope_matches_a_model_of_both_rounds(seed: int, tmp_path: Path) -> None:
    inst, second, booked = make_instance(seed, tmp_path)
    out = tmp_path / "second.json"
    code, text = run("solve", second, "--book", tmp_path / "fund.book", "-o", out)
    assert code in (0, 3), text
    ok, objective = reference(inst, booked)
    assert (code == 0) == ok, text
    if not ok:
        return
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["objective"] == pytest.approx(objective, rel=1e-6, abs=1e-6)
    amounts = np.array([a["amount"] for a in plan["allocations"]])
    feasible, value = reference(inst, booked, fixed=amounts)     # the plan obeys every rule
    assert feasible and value == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert plan["book"]["booked"] == pytest.approx(float(booked.sum()))


SAMPLE_2024 = ROOT / "inputs" / "2024.csv"
SAMPLE_2025 = ROOT / "inputs" / "2025.csv"


@pytest.fixture
def booked_2024(tmp_path: Path) -> Path:
    """The README's steps: solve 2024 and book it."""
    for path in (SAMPLE_2024, SAMPLE_2025):
        shutil.copy(path, tmp_path / path.name)
        shutil.copy(path.with_suffix(".toml"), tmp_path / path.with_suffix(".toml").name)
    assert run("solve", tmp_path / "2024.csv", "-o", tmp_path / "plan-2024.json")[0] == 0
    book = tmp_path / "fund.book"
    code, text = run("book", "add", tmp_path / "plan-2024.json", "--book", book, "--round",
                     "2024")
    assert code == 0, text
    return book


def test_sample_2025_against_the_book(booked_2024: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run("solve", tmp_path / "2025.csv", "--book", booked_2024,
                     "-o", out / "plan.json", "-o", out / "plan.xlsx")
    assert code == 0, text
    flat = " ".join(text.split())
    assert "the fund's book" in flat and "fund total" in flat and "follow-ons" in flat
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    first = json.loads((tmp_path / "plan-2024.json").read_text(encoding="utf-8"))
    before = {a["id"]: a["amount"] for a in first["allocations"] if a["amount"] > 0}
    now = {a["id"]: a["amount"] for a in plan["allocations"] if a["amount"] > 0}
    t24 = pd.read_csv(tmp_path / "2024.csv", encoding="utf-8-sig").set_index("id")
    t25 = pd.read_csv(tmp_path / "2025.csv", encoding="utf-8-sig").set_index("id")
    booked_total = sum(before.values())
    # 天津 and 河北 each hold 45–55 % of booked + this round's budget
    for region in ("天津", "河北"):
        money = sum(a for i, a in before.items() if t24.at[i, "region"] == region) \
            + sum(a for i, a in now.items() if t25.at[i, "region"] == region)
        assert 0.45 - 1e-9 <= money / (booked_total + 25) <= 0.55 + 1e-9
    # every district of the 2025 table has 1–2 distinct funded sub-funds over both rounds
    for district in t25["district"].unique():
        ids = {i for i in before if t24.at[i, "district"] == district} \
            | {i for i in now if t25.at[i, "district"] == district}
        assert 1 <= len(ids) <= 2, (district, ids)
    # a follow-on's booked + new commitment stays within max_stake of its fund
    follow_ons = {i for i in now if i in before}
    assert follow_ons, "the sample has funded follow-ons"
    fund_size = t25["fund_size"].astype(float)
    for i in follow_ons:
        assert before[i] + now[i] <= 0.3 * float(fund_size[i]) + 1e-9
    assert "TJ-XQ-02" not in now     # its stake is full since 2024: reported as unfundable
    assert any(w["id"] == "TJ-XQ-02" for w in plan["warnings"])
    scoped = {c["name"]: c for c in plan["constraints"] if c["scope"] == "fund"}
    assert scoped["region 天津 share"]["round_value"] is not None
    assert plan["book"]["rounds"] == ["2024"]
    assert plan["book"]["fund_total"] == pytest.approx(booked_total + plan["committed"])
    sheets = load_workbook(out / "plan.xlsx", read_only=True).sheetnames
    assert "book" in sheets


def test_round_scope_is_unchanged_by_a_book(booked_2024: Path, tmp_path: Path) -> None:
    """The 2024 policy has no fund-scope rule: a book without its ids changes nothing."""
    alone = json.loads((tmp_path / "plan-2024.json").read_text(encoding="utf-8"))
    empty = tmp_path / "empty.book"
    code, text = run("solve", tmp_path / "2024.csv", "--book", empty, "-o", tmp_path / "a.json")
    assert code == 2 and "no book at this path" in text
    other = tmp_path / "other"
    other.mkdir()
    fresh = pd.read_csv(tmp_path / "2025.csv", encoding="utf-8-sig")
    fresh.assign(id="X-" + fresh["id"]).to_csv(other / "x.csv", index=False)
    (other / "x.toml").write_text("budget = 10\n", encoding="utf-8")
    assert run("solve", other / "x.csv", "-o", other / "p.json")[0] == 0
    assert run("book", "add", other / "p.json", "--book", empty, "--round", "x")[0] == 0
    code, text = run("solve", tmp_path / "2024.csv", "--book", empty, "-o", tmp_path / "b.json")
    assert code == 0, text
    with_book = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert with_book["objective"] == pytest.approx(alone["objective"])   # no shared ids


def test_void_round_is_not_counted(booked_2024: Path, tmp_path: Path) -> None:
    assert run("book", "void", "2024", "--book", booked_2024, "--reason", "test")[0] == 0
    code, text = run("solve", tmp_path / "2025.csv", "--book", booked_2024, "-o",
                     tmp_path / "p.json")
    plan = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert plan["book"]["rounds"] == [] and plan["book"]["booked"] == 0
    assert code in (0, 3)


def test_fund_scope_without_a_book_is_an_input_error(tmp_path: Path) -> None:
    for command in ("solve", "check"):
        code, text = run(command, SAMPLE_2025)
        assert code == 2
        flat = " ".join(text.split())
        assert "region.天津.scope" in flat and "no book is given" in flat
        assert "Traceback" not in text
    code, text = run("solve", SAMPLE_2025, "--lang", "zh")
    assert code == 2 and "需要账簿" in text


def test_check_with_a_book(booked_2024: Path, tmp_path: Path) -> None:
    code, text = run("check", tmp_path / "2025.csv", "--book", booked_2024)
    assert code == 0, text


def test_unknown_scope_is_an_input_error(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_2024, tmp_path / "t.csv")
    (tmp_path / "t.toml").write_text('budget = 10\n[region."天津"]\nmax_share = 0.6\n'
                                     'scope = "fundd"\n', encoding="utf-8")
    code, text = run("solve", tmp_path / "t.csv")
    assert code == 2 and "region.天津.scope" in text and "unknown scope" in text


def test_book_in_another_unit_is_refused(booked_2024: Path, tmp_path: Path) -> None:
    policy = tmp_path / "2025.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('unit = "亿元"',
                                                                 'unit = "万元"'),
                      encoding="utf-8")
    code, text = run("solve", tmp_path / "2025.csv", "--book", booked_2024)
    assert code == 2 and "is in 亿元, the policy in 万元" in text


def test_fund_scope_shadow_prices_bracket_resolves(booked_2024: Path, tmp_path: Path) -> None:
    """A fund-scope price is per unit of the bound as written (a share: per 1.0 of the
    fund's share): loosening the bound alone gains at most the price, tightening it costs
    at least the price (as for round scope, with the funded set of the optimum fixed)."""
    inputs = load_inputs(tmp_path / "2025.csv")
    policy = replace(inputs.policy, amount_step=None)   # prices are rates, not steps
    view = read_fund(str(booked_2024), inputs.table, policy, inputs.constraints)

    def objective(constraints: tuple[Constraint, ...]) -> float:
        result = Problem(inputs.table, policy, constraints, book=view).solve()
        assert result.objective is not None
        return result.objective

    base = Problem(inputs.table, policy, inputs.constraints, book=view).solve()
    assert base.objective is not None
    step, checked = 1e-4, 0
    for line in base.constraints:
        if not line.binding or line.scope != "fund" or np.isnan(line.shadow_price):
            continue
        gains = []
        for sign in (1, -1):
            moved = tuple(loosened(c, line.bound or "", sign * step) if c.id == line.id else c
                          for c in inputs.constraints)
            gains.append(sign * (objective(moved) - base.objective) / step)
        loosen, tighten = gains
        assert loosen <= line.shadow_price + 1e-3, line.label
        assert line.shadow_price <= tighten + 1e-3, line.label
        checked += 1
    assert checked >= 2       # 天津 / 河北 fund shares bind in the sample


def test_infeasible_fund_policy_is_diagnosed_in_fund_terms(booked_2024: Path,
                                                           tmp_path: Path) -> None:
    policy = tmp_path / "2025.toml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("min_share = 0.45\nmax_share = 0.55\nscope", "min_share = "
                                   "0.6\nmax_share = 0.7\nscope", 1), encoding="utf-8")
    out = tmp_path / "p.json"
    code, shown = run("solve", tmp_path / "2025.csv", "--book", booked_2024, "-o", out)
    assert code == 3, shown
    moves = json.loads(out.read_text(encoding="utf-8"))["diagnosis"]["relaxation"]
    assert [m["key"] for m in moves] == ["region.天津.min_share"]
    to = moves[0]["to"]
    code, shown = run("solve", tmp_path / "2025.csv", "--book", booked_2024, "--relax")
    assert code == 0 and "RELAXED POLICY" in shown, shown
    # in the fund's terms: above 天津's booked 16 of 65亿, and the most the fund can reach
    assert 16 / 65 < to < 0.6
    for bound, expected in ((to, 0), (round(to + 0.005, 6), 3)):
        policy.write_text(text.replace("min_share = 0.45\nmax_share = 0.55\nscope",
                                       f"min_share = {bound}\nmax_share = 0.7\nscope", 1),
                          encoding="utf-8")
        code, shown = run("solve", tmp_path / "2025.csv", "--book", booked_2024)
        assert code == expected, (bound, shown)


def test_a_booked_table_is_not_counted_twice(booked_2024: Path, tmp_path: Path) -> None:
    code, text = run("solve", tmp_path / "2024.csv", "--book", booked_2024)
    assert code == 2 and "already in the book as round '2024'" in " ".join(text.split())


def test_scope_in_policy_files_and_sheets() -> None:
    from fundopt.errors import InputError
    from fundopt.models.domain import Scope
    from fundopt.models.rules.policy import policy_from_sheets

    sheet: list[list[object]] = [
        ["key", "value"], ["budget", 10], ["region.天津.min_share", 0.4],
        ["region.天津.scope", "fund"]]
    constraints: list[list[object]] = [
        ["name", "where", "measure", "max", "口径"],
        ["risk", "category=前沿技术", "avg(risk)", 0.6, "fund"],
        ["calls", "", "sum(call_2025)", 9, ""]]
    policy = policy_from_sheets(sheet, constraints, "t.xlsx[policy]")
    assert [r.scope for r in policy.rules] == [Scope.FUND, Scope.FUND, Scope.ROUND]
    with pytest.raises(InputError, match="no bounds given"):
        policy_from_sheets([["key", "value"], ["budget", 10], ["region.天津.scope", "fund"]],
                           None, "t.xlsx[policy]")


def test_booked_rows_are_selected_on_their_own_columns() -> None:
    from fundopt.models.store.fund import booked_mask

    frame = pd.DataFrame({"id": ["a", "b", "c"], "region": ["天津", "河北", ""],
                          "year": [2024.0, 2023.0, None], "amount": [1.0, 2.0, 3.0]})
    assert booked_mask(frame, (("region", ("天津",)),)).tolist() == [True, False, False]
    assert booked_mask(frame, (("region", ("*",)),)).tolist() == [True, True, False]
    assert booked_mask(frame, (("year", ("2024",)),)).tolist() == [True, False, False]
    # a column the booked round's table did not have selects none of its rows
    assert booked_mask(frame, (("manager", ("x",)),)).tolist() == [False, False, False]
    assert booked_mask(frame, ()).tolist() == [True, True, True]


def test_a_robust_plan_has_its_own_book_totals(booked_2024: Path, tmp_path: Path) -> None:
    """Regression: the book's "this round" once described the nominal plan, not the
    robust one returned."""
    frame = pd.read_csv(tmp_path / "2025.csv", encoding="utf-8-sig")
    frame["score_sd"] = 0.3 * frame["score"]
    frame.to_csv(tmp_path / "2025.csv", index=False, encoding="utf-8-sig")
    policy = tmp_path / "2025.toml"
    policy.write_text(policy.read_text(encoding="utf-8") + '\n[uncertainty]\n'
                      'spread = "score_sd"\ndraws = 200\n', encoding="utf-8")
    out = tmp_path / "robust.json"
    code, text = run("solve", tmp_path / "2025.csv", "--book", booked_2024,
                     "--robust", "cvar:0.1", "-o", out)
    assert code == 0, text
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["book"]["this_round"] == pytest.approx(plan["committed"], abs=1e-9)
    amounts = {a["id"]: a["amount"] for a in plan["allocations"]}
    for row in plan["book"]["follow_ons"]:
        assert row["this_round"] == pytest.approx(amounts[row["id"]], abs=1e-9)


def test_the_diagnosis_moves_a_fund_line_to_its_threshold_in_fund_terms(
        booked_2024: Path, tmp_path: Path) -> None:
    """A fund-scope floor is moved to its threshold over the book and this round together:
    the policy holds at the suggested value and not a hair closer to the value written."""
    from fundopt.optimizer.diagnose import diagnose
    from fundopt.optimizer.relax import apply_relaxation

    policy = tmp_path / "2025.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "min_share = 0.45\nmax_share = 0.55\nscope", "min_share = 0.6\nmax_share = 0.7\nscope",
        1), encoding="utf-8")
    inputs = load_inputs(tmp_path / "2025.csv", None)

    def problem() -> Problem:
        return Problem(inputs.table, inputs.policy, inputs.constraints,
                       book=read_fund(str(booked_2024), inputs.table, inputs.policy,
                                      inputs.constraints))

    relaxation = diagnose(problem()).relaxation
    assert [r.key for r in relaxation] == ["region.天津.min_share"]
    (move,) = relaxation
    for to, holds in ((move.to_value, True), (move.to_value + 1e-4, False)):
        at = problem()
        at.retarget(at.policy, apply_relaxation(at.constraints, (replace(move, to_value=to),)))
        assert (at.solve().status is not SolveStatus.INFEASIBLE) is holds, to



def test_rules_of_a_guidance_fund_against_the_book(booked_2024: Path, tmp_path: Path) -> None:
    """SPEC §11 constructs with scope = "fund": an expression summed over the book and the
    round, a where range, and a stake limit that counts a follow-on's booked amount;
    checked on the plan with plain pandas."""
    extra = """
[[constraints]]
name = "fund risk mass"
where = { fund_size = { min = 5 } }
measure = "sum(risk * 2)"
max = 30
scope = "fund"

[[limits]]
name = "28% of each sub-fund, both rounds"
max_stake = 0.28
"""
    policy = tmp_path / "2025.toml"
    policy.write_text(policy.read_text(encoding="utf-8") + extra, encoding="utf-8")
    code, text = run("solve", tmp_path / "2025.csv", "--book", booked_2024, "-o",
                     tmp_path / "plan.json")
    assert code == 0, text
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    first = json.loads((tmp_path / "plan-2024.json").read_text(encoding="utf-8"))
    now = pd.read_csv(tmp_path / "2025.csv")
    then = pd.read_csv(tmp_path / "2024.csv")
    x = pd.Series({a["id"]: a["amount"] for a in plan["allocations"]})
    booked = pd.Series({a["id"]: a["amount"] for a in first["allocations"]})
    size = now.set_index("id")["fund_size"]
    held = booked.reindex(size.index).fillna(0.0)
    assert ((x[size.index] + held) <= 0.28 * size + 1e-9)[x[size.index] > 0].all()
    risk_then = then.set_index("id")
    big_then = risk_then.index[risk_then.fund_size >= 5]
    mass = float((2 * risk_then.risk[big_then] * booked.reindex(big_then).fillna(0)).sum())
    big_now = now.set_index("id")
    chosen = big_now.index[big_now.fund_size >= 5]
    mass += float((2 * big_now.risk[chosen] * x[chosen]).sum())
    [line] = [c for c in plan["constraints"] if c["name"] == "fund risk mass"]
    assert line["value"] == pytest.approx(mass) and mass <= 30 + 1e-6


def _rules_policy(inst: Instance, size_cap: float, leverage: float, covered: int) -> str:
    return f"""budget = {inst.budget}
min_deploy = 0.6
max_stake = {STAKE}
max_single = {SINGLE}
min_ticket = {MIN_TICKET}

[[constraints]]
name = "fund sizes"
measure = "funded(fund_size)"
max = {size_cap}
scope = "fund"

[[constraints]]
name = "leverage"
measure = "funded(fund_size) / amount"
min = {leverage}
scope = "fund"

[[constraints]]
name = "districts"
measure = "groups(district)"
min = {covered + 1}
max = {covered + 2}
scope = "fund"
"""


def _rules_reference(inst: Instance, booked: pd.DataFrame, size_cap: float, leverage: float,
                     covered: int) -> float | None:
    """Round 2's optimum under ``_rules_policy``, written with scipy ``milp`` from SPEC §9 +
    §11 over round 2's rows (x, y) and one binary per district the book does not cover;
    the book enters as constants. None if infeasible."""
    new = inst.second.reset_index(drop=True)
    n = len(new)
    held = new["id"].map(booked.groupby("id")["amount"].sum()).fillna(0.0).to_numpy()
    fresh = ~new["id"].isin(booked["id"]).to_numpy()
    size = new["fund_size"].to_numpy(float)
    districts = [d for d in dict.fromkeys(new["district"]) if d not in set(booked["district"])]
    width = 2 * n + len(districts)
    rows, lo, hi = [], [], []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        vector = np.zeros(width)
        for k, v in entries.items():
            vector[k] += v
        rows.append(vector)
        lo.append(low)
        hi.append(high)

    for i in range(n):
        cap = min(new.at[i, "max_ticket"], SINGLE * inst.budget, STAKE * size[i] - held[i])
        row({i: 1.0, n + i: -max(cap, 0.0)}, -INF, 0.0)
        row({i: 1.0, n + i: -MIN_TICKET}, 0.0, INF)
    row({i: 1.0 for i in range(n)}, 0.6 * inst.budget, inst.budget)
    size_booked = float(booked["fund_size"].sum())
    row({n + i: size[i] for i in range(n) if fresh[i]}, -INF, size_cap - size_booked)
    money_booked = float(booked["amount"].sum())   # (F + Σ size·y) − b·(A + Σ x) ≥ 0
    row({**{n + i: size[i] for i in range(n) if fresh[i]},
         **{i: -leverage for i in range(n)}}, leverage * money_booked - size_booked, INF)
    for k, d in enumerate(districts):
        members = [n + i for i in range(n) if new.at[i, "district"] == d]
        row({2 * n + k: 1.0, **{m: -1.0 for m in members}}, -INF, 0.0)
        row({2 * n + k: -float(len(members)), **{m: 1.0 for m in members}}, -INF, 0.0)
    booked_districts = booked["district"].nunique()
    row({2 * n + k: 1.0 for k in range(len(districts))}, covered + 1 - booked_districts,
        covered + 2 - booked_districts)
    cost = np.zeros(width)
    cost[:n] = -new["score"].to_numpy(float)
    upper = np.ones(width)
    upper[:n] = INF
    integrality = np.ones(width)
    integrality[:n] = 0
    found = milp(cost, constraints=LinearConstraint(np.array(rows), lo, hi),
                 integrality=integrality, bounds=Bounds(np.zeros(width), upper),
                 options={"mip_rel_gap": 0.0})
    return -float(found.fun) if found.success else None


@pytest.mark.parametrize("seed", range(6))
def test_funded_ratio_and_groups_over_the_fund(seed: int, tmp_path: Path) -> None:
    """funded(EXPR), a ratio and groups(COL) with scope = "fund" (SPEC §9 + §11): a booked
    sub-fund counts once (its booked fund_size), a follow-on adds money but no second
    fund_size, a district counts if any round covers it. Checked with plain pandas over
    the booked rows and this round's plan, and against a scipy ``milp`` reference."""
    inst, second, amounts = make_instance(seed, tmp_path)
    rng = np.random.default_rng(100 + seed)
    booked = inst.first.assign(amount=inst.first["id"].map(amounts))
    booked = booked[booked["amount"] > 0]
    size_booked = float(booked["fund_size"].sum())
    leverage = round(size_booked / float(booked["amount"].sum()) * rng.uniform(0.75, 0.95), 2)
    size_cap = round(size_booked + rng.uniform(12.0, 24.0), 1)
    covered = booked["district"].nunique()
    second.with_suffix(".toml").write_text(_rules_policy(inst, size_cap, leverage, covered),
                                           encoding="utf-8")
    code, text = run("solve", second, "--book", tmp_path / "fund.book", "-o",
                     tmp_path / "plan.json")
    found = _rules_reference(inst, booked, size_cap, leverage, covered)
    if code == 3:       # the drawn bounds admit no plan: fundopt must say which rule
        assert found is None
        assert any(name in text for name in ("fund sizes", "leverage", "districts")), text
        return
    assert code == 0, text
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert found is not None and plan["objective"] == pytest.approx(found, rel=1e-6)
    x = inst.second["id"].map({a["id"]: a["amount"] for a in plan["allocations"]})
    now = inst.second.assign(amount=x.fillna(0.0).to_numpy()).set_index("id")
    funded_now = now[now["amount"] > 1e-9]
    new = funded_now[~funded_now.index.isin(booked["id"])]
    sizes = size_booked + float(new["fund_size"].sum())
    money = float(booked["amount"].sum() + funded_now["amount"].sum())
    districts = set(booked["district"]) | set(funded_now["district"])
    values = {c["name"]: c for c in plan["constraints"]}
    assert values["fund sizes"]["value"] == pytest.approx(sizes)
    assert values["leverage"]["value"] == pytest.approx(sizes / money)
    assert values["districts"]["value"] == len(districts)
    assert sizes <= size_cap + 1e-6
    assert sizes / money >= leverage - 1e-6
    assert covered + 1 <= len(districts) <= covered + 2
    # what this round adds, beside the fund's value: its new sub-funds (as for count)
    assert values["fund sizes"]["round_value"] == pytest.approx(float(new["fund_size"].sum()))


def test_every_fund_scope_row_carries_the_books_offset(booked_2024: Path,
                                                       tmp_path: Path) -> None:
    """The diagnosis and --ranges put a moved bound b into a row as b·per_unit − offset:
    every fund-scope row with a scalar bound (amount, share, count, funded, groups) must
    carry what the book adds to it, or a moved count bound would ignore the booked ids."""
    from fundopt.optimizer.fund import row_offset
    from fundopt.optimizer.matrix import RowKind

    extra = """
[[constraints]]
name = "fund sizes"
measure = "funded(fund_size)"
max = 400
scope = "fund"

[[constraints]]
name = "districts"
measure = "groups(district)"
min = 3
scope = "fund"
"""
    policy = tmp_path / "2025.toml"
    policy.write_text(policy.read_text(encoding="utf-8") + extra, encoding="utf-8")
    inputs = load_inputs(tmp_path / "2025.csv", None)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints,
                      book=read_fund(str(booked_2024), inputs.table, inputs.policy,
                                     inputs.constraints))
    model = problem.model
    by_id = {c.id: c for c in problem.constraints}
    seen = set()
    for r, tag in enumerate(model.tags):
        c = by_id.get(tag.key) if tag.kind is RowKind.POLICY else None
        if c is None or c.booked is None or str(c.measure) in ("avg", "ratio"):
            continue
        assert tag.offset == pytest.approx(row_offset(c))
        for bound, side in ((c.min, model.row_lower[r]), (c.max, model.row_upper[r])):
            if bound is not None and not c.rule.target:
                assert side == pytest.approx(bound * tag.per_unit - tag.offset)
        seen.add(str(c.measure))
    assert {"count", "funded", "groups"} <= seen


def _stake_case(folder: Path, rows: dict[str, dict[str, float | str]], extra: str = ""
                ) -> Path:
    """inputs/2025 with some rows edited (``rows``: id → column values) and ``extra``
    appended to its policy, in ``folder`` beside the booked 2024 round."""
    frame = pd.read_csv(folder / "2025.csv", encoding="utf-8-sig", dtype={"status": str})
    for row_id, values in rows.items():
        for column, value in values.items():
            frame.loc[frame["id"] == row_id, column] = value
    path = folder / "stake.csv"
    frame.to_csv(path, index=False)
    (folder / "stake.toml").write_text(
        (folder / "2025.toml").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@dataclass
class StakeFacts:
    held: pd.Series           # per id of stake.csv: what the 2024 plan committed
    room: pd.Series           # max_stake · fund_size − held
    full: set[str]            # follow-ons with no room
    short: set[str]           # follow-ons with room below their minimum ticket


def _stake_cases(folder: Path) -> StakeFacts:
    """Which rows of stake.csv a stake cap leaves no ticket, found with plain pandas from
    the two tables and the 2024 plan: (full, short of a minimum ticket)."""
    now = pd.read_csv(folder / "stake.csv", encoding="utf-8-sig").set_index("id")
    first = json.loads((folder / "plan-2024.json").read_text(encoding="utf-8"))
    held = pd.Series({a["id"]: a["amount"] for a in first["allocations"] if a["amount"] > 0})
    held = held.reindex(now.index).fillna(0.0)
    room = (STAKE_2025 * now["fund_size"] - held).round(9)
    ticket = now["min_ticket"].fillna(0.2)
    follow = held > 0
    full = set(now.index[follow & (room <= 0)])
    short = set(now.index[follow & (room > 0) & (room < ticket)])
    return StakeFacts(held, room, full, short)


STAKE_2025 = 0.3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_follow_on_at_its_stake_cap_says_so(booked_2024: Path, tmp_path: Path,
                                               lang: str) -> None:
    """A follow-on whose 2024 stake is already at max_stake (TJ-XQ-02: 0.72 of 2.4) or
    leaves less than a ticket (TJ-WQ-01 made 7.0 big: 2.10 − 2.00 = 0.10 < 0.2) is told
    by its round, booked amount and cap — terminal, JSON, workbook and memo — never as
    "cap 0"; a must-fund one is the diagnosis' reason."""
    path = _stake_case(tmp_path, {"TJ-WQ-01": {"fund_size": 7.0}})
    facts = _stake_cases(tmp_path)
    assert facts.full == {"TJ-XQ-02"} and facts.short == {"TJ-WQ-01"}
    out = tmp_path / "out"
    code, text = run("solve", path, "--book", booked_2024, "--lang", lang,
                     "-o", out / "plan.json", "-o", out / "plan.xlsx", "-o", out / "plan.pdf")
    assert code == 0, text
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    told = {w["id"]: w for w in plan["warnings"] if w.get("code") == "stake_full"}
    assert set(told) == facts.full | facts.short
    flat_terminal = "".join(text.split())
    sheets = load_workbook(out / "plan.xlsx", read_only=True)
    cells = {str(v) for ws in sheets for row in ws.iter_rows(values_only=True)
             for v in row if v is not None}
    memo = "".join(subprocess.run(["pdftotext", str(out / "plan.pdf"), "-"], check=True,
                                  capture_output=True, text=True).stdout.split())
    for row_id, w in told.items():
        held, room = facts.held[row_id], facts.room[row_id]
        message = w["message"]
        assert f"{held:.2f} 亿元" in message and "30%" in message and "2024" in message
        assert w["detail"]["booked"] == pytest.approx(held)
        if row_id in facts.short:
            assert f"{room:.2f} 亿元" in message and "0.20 亿元" in message
        assert (" 0 " not in message and "上限 0" not in message), message
        assert "".join(message.split()) in flat_terminal
        assert message in cells
        assert "".join(message.split()) in memo
    # the same row made must-fund: the plan is infeasible and the diagnosis says why
    path = _stake_case(tmp_path, {"TJ-XQ-02": {"status": "must"}})
    code, text = run("solve", path, "--book", booked_2024, "--lang", lang,
                     "-o", out / "must.json")
    assert code == 3, text
    [reason] = json.loads((out / "must.json").read_text(encoding="utf-8"))["diagnosis"][
        "messages"]
    assert "TJ-XQ-02" in reason and "0.72 亿元" in reason and "30%" in reason


def test_a_stake_limit_names_itself_when_a_follow_on_is_full(booked_2024: Path,
                                                             tmp_path: Path) -> None:
    """A [[limits]] max_stake tighter than the policy's blocks follow-ons by its own name
    and fraction; which ones, plain pandas decides."""
    extra = '\n[[limits]]\nname = "two rounds"\nmax_stake = 0.2\n'
    path = _stake_case(tmp_path, {}, extra)
    now = pd.read_csv(path, encoding="utf-8-sig").set_index("id")
    first = json.loads((tmp_path / "plan-2024.json").read_text(encoding="utf-8"))
    held = pd.Series({a["id"]: a["amount"] for a in first["allocations"]}).reindex(
        now.index).fillna(0.0)
    blocked = set(now.index[(held > 0) & ((0.2 * now["fund_size"] - held).round(9)
                                         < now["min_ticket"].fillna(0.2))])
    assert blocked
    code, text = run("solve", path, "--book", booked_2024, "-o", tmp_path / "p.json")
    assert code in (0, 3), text
    plan = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    told = {w["id"]: w["message"] for w in plan["warnings"] if w.get("code") == "stake_full"}
    assert set(told) == blocked
    by_policy = (0.3 * now["fund_size"] - held).round(9) < now["min_ticket"].fillna(0.2)
    for row_id, message in told.items():    # the first cap that blocks is named
        assert (("30%" in message and "(max_stake)" in message) if by_policy[row_id]
                else ("20%" in message and "(two rounds, limits[1].max_stake)" in message))
