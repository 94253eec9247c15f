"""Benchmark of issue 3: a budget sweep of the 2024 sample, serial against parallel.

    python benchmarks/sweep_parallel.py [--points 200] [--from 20] [--to 50] [--workers N]

Both runs happen in the same process, one after the other, on the same jobs: first every
point solved in this process (``workers=1``), then on a process pool of ``--workers``
(default: every core) through ``optimizer.batch.solve_many``, which sends the table to each
worker once (pool initializer) and the points in chunks. The pool's start-up is part of
the parallel time. It checks that both runs give identical results and prints both times
and their ratio (goal of issue 3: at least 1.7× on 2 cores for 200 points). The range
20–50 includes infeasible budgets (the sample cannot place more than about 41亿), which
are diagnosed like any infeasible point of ``fundopt sweep``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from fundopt.models.scenarios import policy_tree, sweep_policies
from fundopt.models.table import read_table
from fundopt.optimizer.batch import Job, solve_many

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--from", dest="start", type=float, default=20.0)
    parser.add_argument("--to", dest="stop", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    table = read_table(ROOT / "inputs" / "2024.csv")
    base = policy_tree(table, ROOT / "inputs" / "2024.toml")
    values = np.linspace(args.start, args.stop, args.points).tolist()
    jobs = [Job(table, p, c) for p, c in sweep_policies(table, base, "budget", values)]

    started = time.perf_counter()
    serial = solve_many(jobs, workers=1)
    serial_time = time.perf_counter() - started
    started = time.perf_counter()
    parallel = solve_many(jobs, workers=args.workers)
    parallel_time = time.perf_counter() - started

    same = all(a.status == b.status and a.objective == b.objective
               and np.array_equal(a.amounts, b.amounts) for a, b in zip(serial, parallel,
                                                                          strict=True))
    infeasible = sum(not r.is_ok for r in serial)
    print(f"budget sweep of the 2024 sample: {args.points} points from {args.start:g} to "
          f"{args.stop:g} ({infeasible} infeasible), {os.cpu_count()} cores")
    print(f"serial:   {serial_time:8.2f} s  ({serial_time / args.points * 1000:.0f} ms/point)")
    print(f"parallel: {parallel_time:8.2f} s  ({args.workers} workers)")
    print(f"ratio:    {serial_time / parallel_time:8.2f}x  (goal >= 1.7x on 2 cores)")
    print(f"identical results: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
