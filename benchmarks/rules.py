"""Benchmark of the policy language of a 管理办法 (SPEC §11, issue 19).

The worked example (``inputs/rules.toml``) over a generated table of N rows
(``benchmarks/rules_data.py``; budget and yearly call caps scaled with N), solved

1. by fundopt (build + solve + report, the files already read), and
2. as the same model built directly with highspy from pandas columns and the TOML (SPEC
   §4 + §11 rows written out here, one ``passModel``), independent of fundopt;

then two infeasible variants diagnosed by fundopt: a declared district with no candidate
plus a leverage floor too high (said in one line before any solve), and the leverage
floor alone (the elastic diagnosis). Ratios are taken in the same run; each timing is the
best of ``--repeat`` runs. Results go to docs/performance.md by hand.

Usage: ``python benchmarks/rules.py --rows 200 [--repeat 5]``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from rules_data import rules_table  # noqa: E402

ROOT = Path(__file__).parents[1]
INF = np.inf


def scaled_policy(rows: int, leverage: float | None = None, extra_district: bool = False
                  ) -> str:
    """``inputs/rules.toml`` for ``rows`` rows: money-valued bounds scale with the table."""
    text = (ROOT / "inputs" / "rules.toml").read_text(encoding="utf-8")
    scale = rows / 40
    for key, value in (("budget", 20), ("max", 6), ("max", 12), ("max_count", 3)):
        pattern = rf"^{key} = {value}$"
        text = re.sub(pattern, f"{key} = {round(value * scale, 6):g}", text, count=1,
                      flags=re.M)
    if leverage is not None:
        text = text.replace("min = 8.5", f"min = {leverage:g}")
    if extra_district:
        text = text.replace('"雄安新区"]', '"雄安新区", "邢台市"]')
    return text


def direct_model(frame: pd.DataFrame, pol: dict[str, Any]) -> tuple[highspy.HighsLp, int]:
    """SPEC §4 + §11 for the worked example, straight into arrays (x, then one y per row)."""
    n = len(frame)
    col = {c: frame[c].to_numpy(float) for c in
           ("max_ticket", "fund_size", "score", "other_lp_max", "other_govt", "local_invest",
            "duration_years", "risk", "call_2025", "call_2026")}
    text = {c: frame[c].astype(str).to_numpy() for c in
            ("district", "stage", "fund_kind", "invest_type", "manager")}
    budget = float(pol["budget"])
    upper = np.minimum.reduce([col["max_ticket"], pol["max_stake"] * col["fund_size"],
                               np.full(n, pol["max_single"] * budget), np.full(n, budget)])
    lower = np.full(n, float(pol["min_ticket"]))
    ok = col["duration_years"] <= 15                                   # [[eligible]]
    upper = np.where((text["invest_type"] == "产业") & (col["duration_years"] >= 10.5), 0.0,
                     upper)
    upper = np.minimum(upper, col["other_lp_max"] - 0.01)
    upper = np.minimum(upper, col["fund_size"] * 0.5 - col["other_govt"] - 0.01)
    market, special = text["fund_kind"] == "市场化", text["fund_kind"] == "专项"
    upper = np.where(market, np.minimum(upper, 0.25 * col["fund_size"]), upper)
    upper = np.where(special, np.minimum(upper, 0.3 * col["fund_size"]), upper)
    lower = np.where(special, np.maximum(lower, 0.1 * col["fund_size"]), lower)
    upper = np.minimum(upper, col["local_invest"])
    upper = np.maximum(upper, 0.0)
    ok &= (lower <= upper) & (upper > 0)
    cols, vals, starts, lo, hi = [], [], [0], [], []

    def add(c: np.ndarray, v: np.ndarray, low: float, high: float) -> None:
        cols.append(c.astype(np.int32))
        vals.append(v.astype(float))
        starts.append(starts[-1] + len(c))
        lo.append(low)
        hi.append(high)

    x = np.flatnonzero(ok)
    y = n + x
    ones = np.ones(len(x))
    add(x, ones, pol["min_deploy"] * budget, budget)
    counts = pol["district"]["*"]
    for d in pol["values"]["district"]:
        sel = text["district"][x] == d
        add(y[sel], ones[sel], counts["min_count"], counts["max_count"])
    leverage = pol["constraints"][0]["min"]
    add(np.concatenate([y, x]), np.concatenate([col["fund_size"][x], -leverage * ones]), 0, INF)
    add(np.concatenate([y, x]), np.concatenate([col["local_invest"][x], -2 * ones]), 0, INF)
    early = np.isin(text["stage"][x], ["种子", "天使", "VC"])
    add(x[early], ones[early], 0.6 * budget, INF)
    seed = np.isin(text["stage"][x], ["种子", "天使"])
    add(x[seed], ones[seed], 0.2 * budget, INF)
    add(x, col["call_2025"][x], -INF, pol["constraints"][4]["max"])
    add(x, (col["call_2025"] + col["call_2026"])[x], -INF, pol["constraints"][5]["max"])
    for stage, cap in (("种子", 0.8), ("天使", 0.6)):
        sel = text["stage"][x] == stage
        add(x[sel], col["risk"][x][sel] - cap, -INF, 0)
    for manager in dict.fromkeys(text["manager"]):
        sel = text["manager"][x] == manager
        add(x[sel], ones[sel], -INF, 0.25 * budget)
    for i in x:                                                        # l·y ≤ x ≤ u·y
        add(np.array([i, n + i]), np.array([1.0, -upper[i]]), -INF, 0)
        add(np.array([i, n + i]), np.array([1.0, -lower[i]]), 0, INF)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2 * n, len(lo)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([col["score"], np.zeros(n)])
    lp.col_lower_ = np.zeros(2 * n)
    lp.col_upper_ = np.concatenate([np.where(ok, upper, 0.0), ok.astype(float)])
    lp.row_lower_, lp.row_upper_ = np.array(lo, float), np.array(hi, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, np.int32)
    lp.a_matrix_.index_ = np.concatenate(cols)
    lp.a_matrix_.value_ = np.concatenate(vals)
    return lp, n


def solve_direct(frame: pd.DataFrame, pol: dict[str, Any]) -> tuple[float, float]:
    """(seconds to build and solve, objective)."""
    started = time.perf_counter()
    lp, n = direct_model(frame, pol)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.passModel(lp)
    idx = np.arange(n, 2 * n, dtype=np.int32)
    highs.changeColsIntegrality(n, idx, np.ones(n, np.uint8))
    highs.run()
    x = np.asarray(highs.getSolution().col_value)[:n]
    return time.perf_counter() - started, float(frame["score"].to_numpy(float) @ x)


def solve_fundopt(table_path: Path, policy_path: Path) -> tuple[float, Any]:
    """(seconds to build, solve and report, the result), the files already read."""
    from fundopt.models.reading.inputs import load_inputs
    from fundopt.optimizer.problem import Problem

    inputs = load_inputs(table_path, policy_path)
    started = time.perf_counter()
    result = Problem(inputs.table, inputs.policy, inputs.constraints).solve()
    return time.perf_counter() - started, result


def run(rows: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "rules.csv"
        rules_table(rows).to_csv(table, index=False)
        variants = {"feasible": scaled_policy(rows),
                    "no_candidate_and_leverage": scaled_policy(rows, 30, True),
                    "leverage": scaled_policy(rows, 30)}
        paths = {}
        for name, text in variants.items():
            paths[name] = folder / f"{name}.toml"
            paths[name].write_text(text, encoding="utf-8")
        frame = pd.read_csv(table)
        pol = tomllib.loads(variants["feasible"])
        best: dict[str, float] = {}
        outcome: dict[str, Any] = {}
        for _ in range(repeat):
            seconds, objective = solve_direct(frame, pol)
            best["direct"] = min(best.get("direct", INF), seconds)
            outcome["direct_objective"] = objective
            for name, path in paths.items():
                seconds, result = solve_fundopt(table, path)
                best[name] = min(best.get(name, INF), seconds)
                outcome[f"{name}_status"] = str(result.status)
                if name == "feasible":
                    outcome["fundopt_objective"] = result.objective
                else:
                    d = result.diagnosis
                    outcome[f"{name}_diagnosis"] = None if d is None else {
                        "relaxation": [f"{r.key} {r.from_value:g} -> {r.to_value:g}"
                                       for r in d.relaxation],
                        "conflict": list(d.conflict), "messages": list(d.messages)}
    return {
        "rows": rows, "seconds": {k: round(v, 4) for k, v in best.items()},
        "solve_ratio_vs_direct": round(best["feasible"] / best["direct"], 2),
        "diagnosis_ratio_no_candidate": round(best["no_candidate_and_leverage"]
                                              / best["feasible"], 2),
        "diagnosis_ratio_leverage": round(best["leverage"] / best["feasible"], 2),
        **outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.repeat), ensure_ascii=False))


if __name__ == "__main__":
    main()
