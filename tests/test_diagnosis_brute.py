"""Stage 1 of the diagnosis against brute force on tiny instances (issue 18).

``test_diagnosis`` compares the number of moved lines with a reference MILP that has a
binary per line. Here nothing is modelled as a choice: on tables of at most 7 rows with
3–5 policy lines, every subset of the lines is dropped in turn (those lines free, the
rest as written, the budget and the tickets always hard) and the plan model of SPEC §4 —
scipy ``milp``, written in ``test_diagnosis`` without fundopt's builder — says whether a
plan exists. The smallest subset that lets one exist is the fewest lines any
relaxation must move; the diagnosis must move exactly that many, and the lines it moves
must be such a subset.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_diagnosis import REGIONS, Instance, Line, diagnosed, feasible, write

SEEDS_WANTED = 40


def tiny_instance(seed: int) -> Instance:
    """4–7 rows, 3–5 lines drawn from amount, share, count, sum, avg, min_deploy and
    max_funded; half of them with ``amount_step``."""
    rng = np.random.default_rng(10_000 + seed)
    n = int(rng.integers(4, 8))
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rows.append({
            "id": f"T{i}", "name": f"fund {i}", "region": REGIONS[i % 2],
            "category": "AB"[int(rng.integers(2))] if i > 1 else "AB"[i],
            "max_ticket": round(float(rng.uniform(0.5, 3)), 2),
            "min_ticket": "" if rng.random() < 0.6 else round(float(rng.uniform(0.2, 0.8)), 2),
            "score": round(float(rng.uniform(1, 10)), 1),
            "risk": round(float(rng.uniform(0, 1)), 2),
            "call": round(float(rng.uniform(0, 1)), 2),
            "status": "",
        })
    total = sum(float(r["max_ticket"]) for r in rows)
    inst = Instance(rows, budget=round(total * float(rng.uniform(0.3, 0.7)), 1),
                    min_deploy=0.0, min_ticket=0.3,
                    step=None if rng.random() < 0.5 else 0.05, max_funded=None)
    region = np.array([r["region"] for r in rows])
    category = np.array([r["category"] for r in rows])
    everything = np.ones(n, bool)
    pool = ["min_deploy", "max_funded", "share", "amount", "count", "sum", "avg"]
    chosen = set(rng.choice(pool, size=int(rng.integers(3, 6)), replace=False).tolist())
    toml = [f"budget = {inst.budget}", f"min_ticket = {inst.min_ticket}"]
    if inst.step:
        toml.append(f"amount_step = {inst.step}")
    if "min_deploy" in chosen:
        inst.min_deploy = float(rng.choice([0.8, 0.9, 1.0]))
        toml.append(f"min_deploy = {inst.min_deploy}")
        inst.lines.append(Line("min_deploy", "min", "amount", inst.min_deploy * inst.budget,
                               everything))
    if "max_funded" in chosen:
        inst.max_funded = int(rng.integers(1, 4))
        toml.append(f"max_funded = {inst.max_funded}")
        inst.lines.append(Line("max_funded", "max", "count", inst.max_funded, everything))
    toml.append('[objective]\nmaximize = "score"')
    if "share" in chosen:
        share = round(float(rng.uniform(0.4, 0.8)), 2)
        toml.append(f'[region."天津"]\nmin_share = {share}')
        inst.lines.append(Line("region.天津.min_share", "min", "share", share,
                               region == "天津"))
    if "amount" in chosen:
        amount = round(float(rng.uniform(0.3, 0.8)) * inst.budget, 2)
        toml.append(f'[category."A"]\nmin_amount = {amount}')
        inst.lines.append(Line("category.A.min_amount", "min", "amount", amount,
                               category == "A"))
    if "count" in chosen:
        count = int(rng.integers(2, 4))
        toml.append(f'[category."B"]\nmin_count = {count}')
        inst.lines.append(Line("category.B.min_count", "min", "count", count,
                               category == "B"))
    number = 0
    if "sum" in chosen:
        number += 1
        calls = round(float(rng.uniform(0.1, 0.4)) * inst.budget, 2)
        toml.append(f'[[constraints]]\nmeasure = "sum(call)"\nmax = {calls}')
        inst.lines.append(Line(f"constraints[{number}].max", "max", "sum", calls, everything,
                               inst.column("call")))
    if "avg" in chosen:
        number += 1
        cap = round(float(rng.uniform(0.2, 0.45)), 3)
        toml.append(f'[[constraints]]\nmeasure = "avg(risk)"\nmax = {cap}')
        inst.lines.append(Line(f"constraints[{number}].max", "max", "avg", cap, everything,
                               inst.column("risk")))
    inst.toml = "\n".join(toml) + "\n"
    return inst


def fewest_by_enumeration(inst: Instance) -> tuple[int, list[set[str]]]:
    """The size of the smallest subsets of lines whose dropping lets a plan exist, and
    every subset of that size that does."""
    keys = [line.key for line in inst.lines]
    for size in range(len(keys) + 1):
        found = [set(drop) for drop in combinations(keys, size)
                 if feasible(inst, {}, set(keys) - set(drop))]
        if found:
            return size, found
    raise AssertionError("the budget and tickets alone have no plan")


def tiny_cases(count: int) -> list[tuple[int, Instance]]:
    found: list[tuple[int, Instance]] = []
    seed = 0
    while len(found) < count:
        inst = tiny_instance(seed)
        # infeasible, and the budget with the tickets alone has a plan (else nothing helps)
        if not feasible(inst, {}) and feasible(inst, {}, set()):
            found.append((seed, inst))
        seed += 1
    return found


CASES = tiny_cases(SEEDS_WANTED)


@pytest.mark.parametrize(("seed", "inst"), CASES, ids=[str(s) for s, _ in CASES])
def test_fewest_lines_equal_brute_force(seed: int, inst: Instance, tmp_path: Path) -> None:
    fewest, subsets = fewest_by_enumeration(inst)
    _, diagnosis = diagnosed(write(inst, tmp_path))
    moved = {r.key for r in diagnosis.relaxation}
    assert len(diagnosis.relaxation) == len(moved) == fewest, (diagnosis.relaxation, subsets)
    assert moved in subsets, (moved, subsets)


def test_the_tiny_cases_cover_every_kind_of_line() -> None:
    assert all(3 <= len(inst.lines) <= 5 and inst.n <= 7 for _, inst in CASES)
    kinds = {line.measure for _, inst in CASES for line in inst.lines}
    keys = {line.key for _, inst in CASES for line in inst.lines}
    assert kinds == {"amount", "share", "count", "sum", "avg"}
    assert {"min_deploy", "max_funded"} <= keys
    assert any(inst.step for _, inst in CASES) and any(not inst.step for _, inst in CASES)
    sizes = {fewest_by_enumeration(inst)[0] for _, inst in CASES}
    assert len(sizes) > 1, sizes     # some need more than one line moved
