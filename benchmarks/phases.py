"""fundopt's ``solve`` pipeline run in-process, timed phase by phase (optionally under cProfile).

The same calls as ``fundopt solve TABLE -o OUT`` minus the terminal summary: read
(``load_inputs``), build / solve / duals (``optimizer.solve.solve``, which times its own
phases), write (``write_outputs``). Used by ``run.py`` when ``--profile`` output cannot be
parsed, and to see where the time goes at 100 000 rows:

    python benchmarks/phases.py lp-100000.csv -o /tmp/out.json --cprofile 30

prints one JSON line (phases in seconds, status, objective); with ``--cprofile K`` the K
most expensive functions by cumulative time go to stderr.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are timed as a phase of their own)
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from fundopt.models.reading.inputs import load_inputs  # noqa: E402
from fundopt.optimizer.problem import SolveOptions  # noqa: E402
from fundopt.optimizer.problem import solve as run_solve  # noqa: E402
from fundopt.reports.files.export import write_outputs  # noqa: E402

IMPORTED = time.perf_counter()


def run_phases(csv: Path, outputs: list[Path], time_limit: float | None) -> dict[str, Any]:
    """Read, solve and write once; return the phase times and the outcome.

    Parameters
    ----------
    csv
        The table (its policy is the ``.toml`` beside it).
    outputs
        Files to write, as ``-o`` would.
    time_limit
        Seconds for the solver, or ``None``.
    """
    t0 = time.perf_counter()
    inputs = load_inputs(csv)
    t1 = time.perf_counter()
    result = run_solve(inputs.table, inputs.policy, inputs.constraints,
                       SolveOptions(time_limit=time_limit))
    t2 = time.perf_counter()
    write_outputs(outputs, inputs.table, inputs.policy, result, "en", list(inputs.files))
    t3 = time.perf_counter()
    phases = {"read": t1 - t0, **result.phases, "write": t3 - t2}
    phases["other"] = (t2 - t1) - sum(result.phases.values())
    return {"status": str(result.status), "objective": result.objective, "gap": result.gap,
            "phases": phases, "seconds": t3 - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("-o", "--output", type=Path, action="append", default=[])
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--cprofile", type=int, default=0, metavar="K",
                        help="profile and print the K top functions by cumulative time")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    outcome = run_phases(args.csv, args.output, args.time_limit)
    if profiler:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.cprofile)
        print(text.getvalue(), file=sys.stderr)
    outcome["phases"] = {"import": IMPORTED - STARTED, **outcome["phases"]}
    json.dump(outcome, sys.stdout)
    print()


if __name__ == "__main__":
    main()
