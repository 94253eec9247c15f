"""The 55 OR-Library capital-budgeting problems (mknap1: 7, mknap2: 48) as test oracles.

Every problem is: maximize p·x subject to W·x ≤ b, x ∈ {0,1}ⁿ, with a published optimum.
``to_fundopt_input`` turns one into a fundopt table and policy: each project is a sub-fund
with ``min_ticket = max_ticket = 1`` (so it is taken whole or not at all) and each resource
a ``sum(rK) <= capacity`` constraint.

The data live outside the repository, in ``shared/external/orlib-mknap`` beside the
checkout; the environment variable ``FUNDOPT_EXTERNAL`` overrides the folder that holds
``orlib-mknap`` (tests/external.py). Without them the tests that need them are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from external import missing, require

NAME = "orlib-mknap"
FILES = ("mknap1.txt", "mknap2.txt")
PROBLEM_HEADER = re.compile(r"^\s*problem\s+(\S+?)(?:\.DAT)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One multidimensional 0/1 knapsack: maximize profits·x, weights·x ≤ capacities."""

    name: str
    profits: np.ndarray      # (n,)
    weights: np.ndarray      # (m, n)
    capacities: np.ndarray   # (m,)
    optimum: float

    @property
    def n(self) -> int:
        return len(self.profits)

    @property
    def m(self) -> int:
        return len(self.capacities)


def load_problems(directory: Path | None = None) -> list[Problem]:
    """All 55 problems: the 7 of mknap1.txt (MKNAP1-1…7) then the 48 of mknap2.txt.
    Without ``directory``, skips the calling test when the data are not there."""
    folder = directory if directory is not None else require(NAME, *FILES)
    mknap1 = parse_mknap1((folder / "mknap1.txt").read_text())
    mknap2 = parse_mknap2((folder / "mknap2.txt").read_text())
    return mknap1 + mknap2


def problem_params() -> list[object]:
    """``pytest.mark.parametrize`` values: one per problem, or a single skipped one (with
    the reason) when the data are not there, so collection never fails."""
    reason = missing(NAME, FILES)
    if reason is not None:
        return [pytest.param(None, id=NAME, marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(p, id=p.name) for p in load_problems()]


def parse_mknap1(text: str) -> list[Problem]:
    """mknap1 format: K; then per problem ``n m optimum``, n profits, m×n weights, m caps."""
    tokens = iter(text.split())
    count = int(next(tokens))
    problems = []
    for k in range(count):
        n, m, optimum = int(next(tokens)), int(next(tokens)), float(next(tokens))
        profits = _take(tokens, n)
        weights = _take(tokens, m * n).reshape(m, n)
        capacities = _take(tokens, m)
        problems.append(Problem(f"MKNAP1-{k + 1}", profits, weights, capacities, optimum))
    if next(tokens, None) is not None:
        raise ValueError("mknap1.txt: trailing numbers after the last problem")
    return problems


def parse_mknap2(text: str) -> list[Problem]:
    """mknap2 format per ``problem NAME.DAT`` block: ``m n``, n profits, m capacities,
    m×n weights (row by row), optimum. ``//`` starts a comment; lines of ``+`` separate."""
    return [_parse_block(name, body) for name, body in _blocks(text)]


def _blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """(name, lines) of each problem; the free text before the first problem is skipped."""
    name: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        header = PROBLEM_HEADER.match(line)
        if header:
            if name is not None:
                yield name, body
            name, body = header.group(1).upper(), []
        elif name is not None:
            body.append(line.split("//", 1)[0])
    if name is not None:
        yield name, body


def _parse_block(name: str, lines: list[str]) -> Problem:
    numbers = [t for line in lines if not set(line.strip()) <= {"+"} for t in line.split()]
    tokens = iter(numbers)
    m, n = int(next(tokens)), int(next(tokens))
    profits = _take(tokens, n)
    capacities = _take(tokens, m)
    weights = _take(tokens, m * n).reshape(m, n)
    optimum = float(next(tokens))
    if next(tokens, None) is not None:
        raise ValueError(f"mknap2.txt {name}: more numbers than m={m}, n={n} explain")
    return Problem(name, profits, weights, capacities, optimum)


def _take(tokens: Iterator[str], k: int) -> np.ndarray:
    values = [float(next(tokens)) for _ in range(k)]
    return np.array(values, dtype=float)


def to_fundopt_input(problem: Problem, directory: Path) -> Path:
    """Write ``<name>.csv`` and ``<name>.toml`` in ``directory``; return the CSV path.

    One row per project (ids P001…, region "R", category "C", a ticket of exactly 1,
    score = profit, columns r1…rm = resource use); budget = n so only the resources bind.
    """
    ids = [f"P{i + 1:03d}" for i in range(problem.n)]
    frame = pd.DataFrame({"id": ids, "name": [f"project {i}" for i in ids],
                          "region": "R", "category": "C", "max_ticket": 1, "min_ticket": 1,
                          "score": problem.profits})
    for k in range(problem.m):
        frame[f"r{k + 1}"] = problem.weights[k]
    csv_path = directory / f"{problem.name}.csv"
    frame.to_csv(csv_path, index=False)
    lines = [f"# OR-Library problem {problem.name}: n = {problem.n}, m = {problem.m}, "
             f"optimum {problem.optimum:g}", f"budget = {problem.n}", ""]
    for k in range(problem.m):
        lines += ["[[constraints]]", f'name = "resource {k + 1}"',
                  f'measure = "sum(r{k + 1})"', f"max = {float(problem.capacities[k])!r}", ""]
    csv_path.with_suffix(".toml").write_text("\n".join(lines), encoding="utf-8")
    return csv_path
