"""Benchmark of the batch engines (issue 12): one sweep serial, on the local pool and on a
Dask cluster of this machine, in one run, each as a ratio to serial.

    python benchmarks/batch_engines.py [--points 400] [--workers 2] [--rows 2000]
                                       [--draws 8] [--write]

1. The same ``--points``-point budget sweep of the 2024 sample (20 to 50; infeasible
   budgets are diagnosed like any infeasible point) is solved serially, on a local pool of
   ``--workers`` processes, and on a Dask cluster of a scheduler and ``--workers`` workers
   (``--nthreads 1``) started here on 127.0.0.1 as separate processes, as a real cluster
   runs. The pool's start-up and the Dask connection (client, version check, scatter) are
   part of the engines' times; starting the cluster is not (it is already running in use).
   The three results must be identical (same order, same numbers).
2. Dask's own overhead: the same engine maps a no-op over 10 000 points (400 chunks), and
   scatters a ``--rows``-row table to every worker.
3. The cost of one stability-like draw on a ``--rows``-row table (``benchmarks/generate.py``
   MILP variant: minimum tickets, district counts): ``--draws`` fresh solves with the
   scores perturbed by 10 %, median.

From these it estimates how many workers a 10 000-draw run on ``--rows`` rows needs to
finish in one minute. ``--write`` puts the report into ``docs/performance.md`` (between
its batch-engine markers; ``benchmarks/run.py`` keeps that block when it regenerates the
rest). Targets: local ≥ 1.7×, Dask ≥ 1.6× serial on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
from sections import replace_section

from fundopt.models.reading.inputs import load_inputs, policy_tree
from fundopt.models.reading.table import read_table
from fundopt.models.rules.sweep import sweep_policies
from fundopt.optimizer.batch import Job, solve_many
from fundopt.optimizer.engines import DaskEngine, LocalEngine, SerialEngine, Work, chunks
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import Result

ROOT = Path(__file__).resolve().parent.parent
SECTION = "batch-engines"   # its section of docs/performance.md (sections.py)
DRAWS, MINUTE = 10_000, 60.0
T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def noop_setup(shared: object) -> None:
    return None


def noop_solve(state: None, points: Iterable[int]) -> list[int]:
    return list(points)


NOOP: Work[object, None, int, int] = Work(noop_setup, noop_solve)


@contextmanager
def cluster(workers: int) -> Iterator[str]:
    """A Dask scheduler and ``workers`` one-thread workers on 127.0.0.1, stopped after."""
    dask = str(Path(sys.executable).parent / "dask")
    with tempfile.TemporaryDirectory(prefix="fundopt-dask-") as tmp:
        file = Path(tmp) / "scheduler.json"
        processes = [subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            deadline = time.monotonic() + 60
            while not (file.exists() and file.stat().st_size):
                if time.monotonic() > deadline:
                    raise RuntimeError("the Dask scheduler did not start")
                time.sleep(0.2)
            address = json.loads(file.read_text())["address"]
            for i in range(workers):
                processes.append(subprocess.Popen(
                    [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                     "--no-dashboard", "--local-directory", str(Path(tmp) / f"w{i}")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            from distributed import Client

            with Client(address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(workers, timeout=120)
            yield address
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def same(a: list[Result], b: list[Result]) -> bool:
    return all(x.status == y.status and x.objective == y.objective
               and np.array_equal(x.amounts, y.amounts) for x, y in zip(a, b, strict=True))


def draw_seconds(rows: int, draws: int, tmp: Path) -> tuple[float, int]:
    """Median seconds of one fresh solve of a ``rows``-row MILP with perturbed scores."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    inputs = load_inputs(generate(rows, "milp", 2024, tmp), None)
    table = inputs.table
    rng = np.random.default_rng(0)
    times = []
    for _ in range(draws):
        frame = table.frame.copy()
        frame["score"] = frame["score"] * (1 + 0.1 * rng.standard_normal(len(frame)))
        drawn = replace(table, frame=frame)
        started = time.perf_counter()
        Problem(drawn, inputs.policy, inputs.constraints).solve()
        times.append(time.perf_counter() - started)
    return statistics.median(times), len(table.frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    load = os.getloadavg()

    table = read_table(ROOT / "inputs" / "2024.csv")
    base = policy_tree(table, ROOT / "inputs" / "2024.toml")
    values = np.linspace(20.0, 50.0, args.points).tolist()
    jobs = [Job(table, p, c) for p, c in sweep_policies(table, base, "budget", values)]

    serial_s, serial = timed(lambda: solve_many(jobs, engine=SerialEngine()))
    print(f"serial {serial_s:.2f} s", flush=True)
    local_s, local = timed(lambda: solve_many(jobs, engine=LocalEngine(args.workers)))
    print(f"local  {local_s:.2f} s", flush=True)
    with cluster(args.workers) as address:
        connect_s, engine = timed(lambda: DaskEngine(address))
        with engine:
            map_s, dask = timed(lambda: solve_many(jobs, engine=engine))
            noop_s, _ = timed(lambda: engine.map(NOOP, None, list(range(DRAWS))))
            with tempfile.TemporaryDirectory() as tmp:
                sys.path.insert(0, str(ROOT / "benchmarks"))
                from generate import generate

                big = load_inputs(generate(args.rows, "milp", 2024, Path(tmp)), None).table
            scatter_s, data = timed(lambda: engine.client.scatter([big], broadcast=True,
                                                                  hash=False))
            engine.client.cancel(data)
    dask_s = connect_s + map_s
    print(f"dask   {dask_s:.2f} s (connect {connect_s:.2f} s)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        per_draw, rows = draw_seconds(args.rows, args.draws, Path(tmp))
    identical = same(serial, local) and same(serial, dask)
    infeasible = sum(not r.is_ok for r in serial)

    local_x, dask_x = serial_s / local_s, serial_s / dask_s
    # Dask's own cost for 10 000 points, counted whole (as if nothing of it overlapped the
    # solves): connecting, scattering the table, and a no-op batch of the same 400 chunks.
    fixed = connect_s + scatter_s + noop_s
    needed = math.ceil(DRAWS * per_draw / (MINUTE - fixed))
    end_load = os.getloadavg()[0]
    busy = max(load[0], end_load) > (os.cpu_count() or 1)
    lines = [
        "## Batch engines (issue 12)",
        "",
        f"Generated by `python benchmarks/batch_engines.py --points {args.points} "
        f"--workers {args.workers} --rows {args.rows} --draws {args.draws} --write` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at start "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}, at the end {end_load:.2f} (other "
        "processes share the cores: compare the ratios of one run, not times across runs)."
        + (" **The load exceeded the number of cores during this run: the engines did not "
           "get the cores to themselves, so these ratios do not measure the engines; run "
           "again on a quiet machine.**" if busy else ""),
        "",
        f"A {args.points}-point budget sweep of the 2024 sample (20 to 50, {infeasible} "
        f"points infeasible and diagnosed; {len(chunks(args.points))} chunks), the same "
        "jobs on each engine in one run. Dask: a scheduler and "
        f"{args.workers} one-thread workers on 127.0.0.1, separate processes; its time "
        "includes connecting (client, version check) and scattering the table.",
        "",
        "| engine | seconds | ratio to serial | target |",
        "|---|---|---|---|",
        f"| serial | {serial_s:.2f} | 1.00 | |",
        f"| local pool, {args.workers} workers | {local_s:.2f} | **{local_x:.2f}×** | ≥ 1.7× "
        f"{'PASS' if local_x >= 1.7 else 'MISS'} |",
        f"| Dask, {args.workers} workers | {dask_s:.2f} (connect {connect_s:.2f}) | "
        f"**{dask_x:.2f}×** | ≥ 1.6× {'PASS' if dask_x >= 1.6 else 'MISS'} |",
        "",
        f"Identical results on the three engines: {'yes' if identical else 'NO'}. "
        f"Dask over the local pool: {dask_s / local_s - 1:+.1%}.",
        "",
        "**How many workers for 10 000 draws on 2 000 rows in one minute.** Measured here:",
        "",
        f"- one draw on a {rows}-row MILP (`benchmarks/generate.py`, minimum tickets and "
        f"district counts; scores perturbed by 10 %; build + solve, one thread), median of "
        f"{args.draws}: **{per_draw:.3f} s**;",
        f"- Dask's fixed cost: connecting {connect_s:.2f} s, scattering the {rows}-row "
        f"table to every worker {scatter_s:.2f} s, a no-op batch of {DRAWS:,} points "
        f"({len(chunks(DRAWS))} chunks) {noop_s:.2f} s;",
        "",
        f"Workers needed ≈ 10 000 × {per_draw:.3f} s / (60 s − {fixed:.2f} s) = **{needed}** "
        f"one-thread workers (for example {math.ceil(needed / 8)} machines of 8 cores, each "
        "running `dask worker ADDRESS --nworkers 8 --nthreads 1`). The 400 chunks of 25 draws "
        "keep up to 400 workers busy; the estimate assumes workers as fast as this machine's "
        "cores were during the run, and Dask's overhead not overlapping the solves (it does, "
        f"in part: {args.workers} workers reached {dask_x:.2f}× on the sweep above).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        replace_section(ROOT / "docs" / "performance.md", SECTION, text)
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
