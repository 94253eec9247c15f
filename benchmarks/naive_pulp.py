"""What a planner would write instead of fundopt: the 2024 sample solved by a short PuLP
script with HiGHS (``pulp.HiGHS``, in process through highspy).

    python benchmarks/naive_pulp.py inputs/2024.csv

The start-up benchmark (``startup.py``) times it as a whole process beside ``fundopt solve``.
It reads the policy numbers from the TOML file (``amount_step`` included: commitments in
whole steps) but is written for the sample's shape (its rule kinds), as such a script
would be; it prints the objective and the funded rows so
its answer can be checked against fundopt's.
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pulp


def main(csv: Path) -> None:
    df = pd.read_csv(csv, encoding="utf-8-sig", dtype={"id": str, "status": str})
    policy = tomllib.loads(csv.with_suffix(".toml").read_text(encoding="utf-8"))
    budget = policy["budget"]
    df["min_ticket"] = df["min_ticket"].fillna(policy.get("min_ticket", 0.0))
    cap = df["max_ticket"].clip(upper=policy["max_single"] * budget)
    cap = cap.where(df["fund_size"].isna(), cap.clip(upper=policy["max_stake"] * df["fund_size"]))
    status = df["status"].fillna("")
    step = policy.get("amount_step")   # commitments in whole steps: x = step · k, k integer
    if step:
        cap = (cap / step + 1e-9).apply(math.floor) * step
        df["min_ticket"] = (df["min_ticket"] / step - 1e-9).apply(math.ceil) * step

    prob = pulp.LpProblem("sample", pulp.LpMaximize)
    if step:
        x = [step * prob.add_variable(f"k_{i}", 0, round(cap[i] / step), cat=pulp.LpInteger)
             for i in df.index]
    else:
        x = [prob.add_variable(f"x_{i}", 0, float(cap[i])) for i in df.index]
    y = [prob.add_variable(f"y_{i}", cat=pulp.LpBinary) for i in df.index]
    prob += pulp.lpSum(float(s) * xi for s, xi in zip(df["score"], x, strict=True))
    for i in df.index:
        prob += x[i] <= float(cap[i]) * y[i]
        prob += x[i] >= float(df["min_ticket"][i]) * y[i]
        if status[i] == "must":
            prob += y[i] == 1
        if status[i] == "exclude" or df["min_ticket"][i] > cap[i]:
            prob += y[i] == 0
    prob += pulp.lpSum(x) <= budget
    prob += pulp.lpSum(x) >= policy.get("min_deploy", 0.0) * budget
    prob += pulp.lpSum(y) <= policy["max_funded"]

    def rows(column: str, value: str) -> list[int]:
        return [i for i in df.index if value == "*" or df[column][i] == value]

    for group in ("region", "category", "district"):
        for name, bounds in policy.get(group, {}).items():
            values = df[group].dropna().unique() if name == "*" else [name]
            for value in values:
                sel = rows(group, value)
                if "min_share" in bounds:
                    prob += pulp.lpSum(x[i] for i in sel) >= bounds["min_share"] * budget
                if "max_share" in bounds:
                    prob += pulp.lpSum(x[i] for i in sel) <= bounds["max_share"] * budget
                if "min_count" in bounds:
                    prob += pulp.lpSum(y[i] for i in sel) >= bounds["min_count"]
                if "max_count" in bounds:
                    prob += pulp.lpSum(y[i] for i in sel) <= bounds["max_count"]
    for rule in policy.get("constraints", []):
        sel = list(df.index)
        for column, wanted in rule.get("where", {}).items():
            wanted = wanted if isinstance(wanted, list) else [wanted]
            sel = [i for i in sel if df[column][i] in wanted]
        column = rule["measure"][4:-1]
        if rule["measure"].startswith("avg("):   # Σ (col - bound)·x  ≤ / ≥ 0
            if "max" in rule:
                prob += pulp.lpSum((df[column][i] - rule["max"]) * x[i] for i in sel) <= 0
            if "min" in rule:
                prob += pulp.lpSum((df[column][i] - rule["min"]) * x[i] for i in sel) >= 0
        else:                                     # sum(col)
            expr = pulp.lpSum(float(df[column][i]) * x[i] for i in sel)
            if "max" in rule:
                prob += expr <= rule["max"]
            if "min" in rule:
                prob += expr >= rule["min"]

    prob.solve(pulp.HiGHS(msg=False))
    print(pulp.LpStatus[prob.status], round(pulp.value(prob.objective), 4))
    for i in df.index:
        if (pulp.value(x[i]) or 0) > 1e-9:
            print(df["id"][i], df["name"][i], round(pulp.value(x[i]), 4))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
