"""The option race of large MILPs: one canonical optimum whichever configuration wins,
losers stopped, and stopping on request (``optimizer/race.py``, ``optimizer/interrupt.py``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import highspy
import numpy as np
import pytest
from plan_checker import check_plan
from tables import make_table, policy, rule_constraint

from fundopt.models.domain import Measure
from fundopt.optimizer import highs, interrupt, race
from fundopt.optimizer.build import build
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.problem import SolveOptions, solve
from fundopt.optimizer.result import SolveStatus

DISTINCT = 30


def tied_instance() -> tuple:
    """Rows i and i + 30 are identical but for id and name: every optimum has a twin with
    the two swapped. Minimum tickets, a funded count and district counts make it a MILP
    where only some of each pair can be funded. With this seed, HiGHS 1.16 with presolve
    on and off returns two different optimal plans (3.6 apart on one row) before the
    canonical pass."""
    rng = np.random.default_rng(30)
    max_ticket = np.round(rng.uniform(1, 5, DISTINCT), 1)
    score = np.round(rng.uniform(50, 60, DISTINCT), 0)   # integer scores: more ties still
    region = rng.choice(["T", "H"], DISTINCT)
    district = rng.choice(["d1", "d2", "d3", "d4"], DISTINCT)
    twice = np.concatenate
    table = make_table(max_ticket=twice([max_ticket] * 2), score=twice([score] * 2),
                       region=twice([region] * 2).tolist(),
                       district=twice([district] * 2).tolist(),
                       min_ticket=twice([np.round(max_ticket / 2, 1)] * 2))
    constraints = (
        rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, lo=0.3, hi=0.6),
        *(rule_constraint(f"d{k}", Measure.COUNT, {"district": [f"d{k}"]}, hi=3)
          for k in range(1, 5)),
    )
    return table, policy(budget=25.0, max_funded=10), constraints


@pytest.fixture
def small_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """Race models of any size (the real threshold keeps small ones to a single run)."""
    monkeypatch.setattr(race, "RACE_ROWS", 1)
    monkeypatch.setattr(race, "cores", lambda: 2)


def single(model: LinearModel, presolve: str) -> np.ndarray:
    """One configuration alone, one thread (as in the race), then the canonical pass."""
    out: list[np.ndarray] = []

    def solve_once() -> None:
        h = highs.new_highs()
        options: dict[str, str | float] = {"presolve": presolve, "mip_rel_gap": 0.0,
                                           "threads": 1}
        for key, value in options.items():
            h.setOptionValue(key, value)
        h.passModel(highs.to_highs_lp(model))
        highs.run(h)
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        out.append(np.asarray(h.getSolution().col_value))

    thread = threading.Thread(target=solve_once)   # a fresh one-thread HiGHS scheduler
    thread.start()
    thread.join()
    return race.canonical(model, out[0])


def test_both_configurations_and_the_race_return_the_same_plan(small_race: None) -> None:
    table, pol, cons = tied_instance()
    model = build(table, pol, cons).model
    raced = highs.solve_highs(model, None, 0.0, plan=True, race=True)
    assert raced.status is SolveStatus.OPTIMAL and raced.values is not None
    x = raced.values[: model.n]
    for presolve in race.CONFIGS:
        assert np.array_equal(single(model, presolve)[: model.n], x), presolve
    # the canonical plan funds the first of two identical rows first
    first, second = x[:DISTINCT], x[DISTINCT:]
    assert np.all(first >= second)
    assert second.sum() < first.sum()


def test_the_canonical_plan_is_optimal_and_feasible(small_race: None) -> None:
    table, pol, cons = tied_instance()
    raced = solve(table, pol, cons)
    plain = solve(table, pol, cons, SolveOptions(race=False))
    assert raced.objective == pytest.approx(plain.objective, rel=1e-9)
    assert np.array_equal(raced.amounts, plain.amounts)
    assert check_plan(table.frame, pol, cons, raced.amounts) == []


def test_sorting_twins_swaps_a_later_twin_forward() -> None:
    table, pol, cons = tied_instance()
    model = build(table, pol, cons).model
    values = single(model, "on")
    funded = np.flatnonzero(values[:DISTINCT] > values[DISTINCT: 2 * DISTINCT])
    assert len(funded)
    i = int(funded[0])
    swapped = values.copy()
    y = model.n + np.searchsorted(model.binary_rows, [i, i + DISTINCT])
    swapped[[i, i + DISTINCT]] = values[[i + DISTINCT, i]]
    swapped[y] = values[y[::-1]]
    assert np.array_equal(race.sort_interchangeable(model, swapped), values)


def test_a_row_that_differs_is_not_swapped() -> None:
    table, pol, cons = tied_instance()
    frame = table.frame.copy()
    frame.loc[DISTINCT, "score"] += 0.5       # row 31 no longer a twin of row 1
    model = build(replace(table, frame=frame), pol, cons).model
    values = np.zeros(len(model.cost))
    values[DISTINCT] = 1.0
    assert np.array_equal(race.sort_interchangeable(model, values), values)


def test_a_stop_request_ends_a_race_with_both_racers_stopped(small_race: None) -> None:
    table, pol, cons = tied_instance()
    model = build(table, pol, cons).model
    prepared = highs.new_highs()
    prepared.passModel(highs.to_highs_lp(model))
    interrupt.request_stop()
    try:
        with pytest.raises(KeyboardInterrupt):
            race.race(prepared)
    finally:
        interrupt.clear_stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("fundopt-race")]


def test_the_loser_stops_soon_after_the_winner(small_race: None) -> None:
    table, pol, cons = tied_instance()
    highs.solve_highs(build(table, pol, cons).model, None, 0.0, plan=True, race=True)
    deadline = time.monotonic() + 10
    while any(t.name.startswith("fundopt-race") for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_run_asked_to_stop_raises_and_the_next_one_runs() -> None:
    table, pol, cons = tied_instance()
    model = build(table, pol, cons).model
    h = highs.new_highs()
    h.passModel(highs.to_highs_lp(model))
    interrupt.request_stop()
    try:
        with pytest.raises(KeyboardInterrupt):
            highs.run(h)
    finally:
        interrupt.clear_stop()
    highs.run(h)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def test_gap_and_small_models_are_not_raced() -> None:
    table, pol, cons = tied_instance()
    model = build(table, pol, cons).model
    assert not race.eligible(model, 0.0)                      # 60 rows < RACE_ROWS
    big = replace(model, n=race.RACE_ROWS)
    assert race.eligible(big, 0.0) and not race.eligible(big, 0.01)


# --- The real command line, stopped by a signal (issue 9) ------------------------------

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:     # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize(("sig", "extra"), [(signal.SIGINT, []),
                                            (signal.SIGTERM, ["--time-limit", "60"])],
                         ids=["SIGINT", "SIGTERM-time-limit"])
def test_a_signal_stops_a_long_solve_at_once(tmp_path: Path, sig: int,
                                             extra: list[str]) -> None:
    """A 10 000-row MILP (about 10 s of HiGHS) is stopped once the process has used 4 s
    of CPU (start-up, reading and building take about 2: so HiGHS is solving, however
    loaded the machine): exit 130 within a few seconds, the message, no traceback, no
    output file or temp file, no child process."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    table = generate(10_000, "milp", 2024, tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fundopt.cli", "solve", str(table), "-o", str(out / "p.json"),
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and cpu_seconds(proc.pid) < 4.0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert children(proc.pid) == []
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 5.0   # the watchdog's second, plus a loaded machine
    assert "Interrupted" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_a_raced_solve_in_a_real_process_gives_the_plan_of_a_single_run(
        tmp_path: Path) -> None:
    """2 000 rows: raced in the CLI process (two cores), one run in-process without the
    race; the canonical pass makes the plans equal, and the process exits 0 with its
    output although the race's loser may still be stopping."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    from fundopt.models.reading.inputs import load_inputs

    table = generate(race.RACE_ROWS, "milp", 2024, tmp_path)
    out = tmp_path / "p.json"
    done = subprocess.run([sys.executable, "-m", "fundopt.cli", "solve", str(table), "-o",
                           str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    inputs = load_inputs(table)
    single_run = solve(inputs.table, inputs.policy, inputs.constraints,
                       SolveOptions(race=False))
    amounts = [a["amount"] for a in json.loads(out.read_text(encoding="utf-8"))["allocations"]]
    assert amounts == pytest.approx(single_run.amounts.tolist(), abs=1e-9)
