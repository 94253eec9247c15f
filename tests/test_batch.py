"""Batch solving: the process pool gives exactly the serial results, in order."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from fundopt.models.reading.inputs import policy_tree
from fundopt.models.reading.table import read_table
from fundopt.models.rules.scenarios import base_policy_path, load_scenarios, prepare_all
from fundopt.models.rules.sweep import sweep_policies
from fundopt.optimizer.batch import Job, solve_many
from fundopt.reports.terminal.progress import LazyProgress

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def jobs() -> list[Job]:
    """Sweep points sharing one table, and scenarios with edited tables."""
    table = read_table(ROOT / "inputs" / "2024.csv")
    base = policy_tree(table, ROOT / "inputs" / "2024.toml")
    points = sweep_policies(table, base, "budget", [38.0, 44.0])
    file = load_scenarios(ROOT / "inputs" / "2024-scenarios.toml")
    scenarios = prepare_all(file, table, policy_tree(table, base_policy_path(table, file, None)))
    return [Job(table, p, c) for p, c in points] + [
        Job(s.table, s.policy, s.constraints) for s in scenarios[2:3]
        if s.table is not None and s.policy is not None]


def test_parallel_equals_serial(jobs: list[Job]) -> None:
    calls: list[tuple[int, int]] = []
    serial = solve_many(jobs, workers=1)
    parallel = solve_many(jobs, workers=2, progress=lambda d, t: calls.append((d, t)))
    assert len(parallel) == len(jobs)
    for a, b in zip(serial, parallel, strict=True):
        assert a.status == b.status and a.objective == b.objective
        np.testing.assert_array_equal(a.amounts, b.amounts)
        assert [c.value for c in a.constraints] == [c.value for c in b.constraints]
    assert [str(s.status) for s in serial].count("infeasible") >= 1  # budget 44 is infeasible
    assert calls[-1] == (len(jobs), len(jobs))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_serial_progress_counts_every_job(jobs: list[Job]) -> None:
    calls: list[tuple[int, int]] = []
    solve_many(jobs[:2], workers=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]


def test_progress_bar_only_on_a_terminal_after_the_delay() -> None:
    piped = Console(file=io.StringIO(), force_terminal=False)
    with LazyProgress(piped, "solving", delay=0.0) as report:
        report(1, 2)
        assert report.bar is None
    terminal = Console(file=io.StringIO(), force_terminal=True)
    with LazyProgress(terminal, "solving", delay=60.0) as report:
        report(1, 2)
        assert report.bar is None  # a short run never shows a bar
    with LazyProgress(terminal, "solving", delay=0.0) as report:
        report(1, 2)
        assert report.bar is not None
