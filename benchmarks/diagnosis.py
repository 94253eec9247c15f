"""Benchmark of issue 18: the whole diagnosis of an infeasible policy against a feasible
solve of the same model, in one run.

    python benchmarks/diagnosis.py [--sizes 1000,5000] [--repeat 3] [--write]

For each instance (the 2024 sample, generated MILPs of ``--sizes`` rows) a policy line is
tightened until the policy has no plan: the sample's 前沿技术 floor to 17.5 % (f175), a
generated MILP's 河北 floor to 65 % (天津 ≥ 40 %), or its avg(risk) cap from 0.5 to 0.1
(with the per-district counts of ``[district."*"]``). Each repeat builds a fresh ``Problem``
per side, in the same process, and times

- the feasible solve: ``Problem.solve()`` of the policy as written (plan, duals, report);
- the diagnosis: ``Problem.solve()`` of the tightened policy, whose infeasible solve runs
  the whole diagnosis (stage 1, the thresholds of stage 2, the conflict and its numbers).

The ratio is median diagnosis ÷ median feasible solve; the targets are ≤ 3 on the sample
and ≤ 5 on the generated MILPs. ``--write`` puts the table into docs/performance.md as
the section ``diagnosis`` (``run.py --also diagnosis`` runs it too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from sections import replace_section  # noqa: E402

from fundopt.models.reading.inputs import load_inputs  # noqa: E402
from fundopt.optimizer.held import HeldModel  # noqa: E402
from fundopt.optimizer.highs import Outcome  # noqa: E402
from fundopt.optimizer.problem import Problem  # noqa: E402
from fundopt.optimizer.result import Result, SolveStatus  # noqa: E402

TARGET = {"sample": 3.0, "milp": 5.0}


@dataclass(frozen=True)
class Timing:
    name: str
    target: float
    feasible_ms: float
    diagnosis_ms: float
    moved: str
    solves: int

    @property
    def ratio(self) -> float:
        return self.diagnosis_ms / self.feasible_ms


def _timed(table: Path, policy: Path) -> tuple[float, Problem, Result]:
    inputs = load_inputs(table, policy)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    started = time.perf_counter()
    result = problem.solve()
    return time.perf_counter() - started, problem, result


def measure(name: str, table: Path, feasible: Path, infeasible: Path, target: float,
            repeat: int) -> Timing:
    """Medians of ``repeat`` feasible solves and ``repeat`` diagnoses of one instance."""
    feasible_s, diagnosis_s = [], []
    moved, solves = "", 0
    for _ in range(repeat):
        seconds, _, result = _timed(table, feasible)
        assert result.status is not SolveStatus.INFEASIBLE
        feasible_s.append(seconds)
        runs = _count_solves()
        seconds, _, result = _timed(table, infeasible)
        solves = runs()
        diagnosis = result.diagnosis
        assert diagnosis is not None and diagnosis.relaxation, name
        moved = "; ".join(f"{r.key} {r.from_value:g} → {r.to_value:g}"
                          for r in diagnosis.relaxation)
        diagnosis_s.append(seconds)
    return Timing(name, target, statistics.median(feasible_s) * 1e3,
                  statistics.median(diagnosis_s) * 1e3, moved, solves)


def _count_solves() -> Callable[[], int]:
    """Count the HiGHS solves from now; the function returned stops and says how many."""
    original = HeldModel.solve
    count = [0]

    def counted(self: HeldModel, *args: Any, **kwargs: Any) -> Outcome:
        count[0] += 1
        return original(self, *args, **kwargs)

    HeldModel.solve = counted  # type: ignore[method-assign]

    def done() -> int:
        HeldModel.solve = original  # type: ignore[method-assign]
        return count[0]

    return done


def _tightened(policy: Path, old: str, new: str, out: Path) -> Path:
    text = policy.read_text(encoding="utf-8")
    assert old in text, old
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def section(sizes: list[int], repeat: int) -> list[str]:
    """The Markdown section of docs/performance.md."""
    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = ROOT / "inputs" / "2024.toml"
        f175 = _tightened(sample, '"前沿技术"]\nmin_share = 0.15', '"前沿技术"]\nmin_share = 0.175',
                          folder / "f175.toml")
        timings.append(measure("2024 sample, 前沿技术 ≥ 17.5 %", ROOT / "inputs" / "2024.csv",
                               sample, f175, TARGET["sample"], repeat))
        for n in sizes:
            csv = generate(n, "milp", 18, folder)
            policy = csv.with_suffix(".toml")
            tight = _tightened(policy, '"河北"]\nmin_share = 0.35', '"河北"]\nmin_share = 0.65',
                               folder / f"tight-{n}.toml")
            timings.append(measure(f"MILP {n:,} rows, 河北 ≥ 65 %", csv, policy, tight,
                                   TARGET["milp"], repeat))
            risky = _tightened(policy, "max = 0.5", "max = 0.1", folder / f"risk-{n}.toml")
            timings.append(measure(f"MILP {n:,} rows, portfolio risk ≤ 0.1", csv, policy,
                                   risky, TARGET["milp"], repeat))
    lines = ["## Diagnosis of an infeasible policy", "",
             "`python benchmarks/diagnosis.py`: the whole diagnosis (fewest lines, each line's "
             "threshold, the conflict and its numbers) of a policy tightened until it has no "
             "plan, against a feasible solve (plan, duals, report) of the same model as "
             f"written. A fresh `Problem` each time, medians of {repeat} runs in one process; "
             "`solves` counts the HiGHS runs of the infeasible solve and its diagnosis. "
             "The times of one run are only compared with each other (the ratio): the "
             "machine may be busy.", "",
             "| instance | feasible solve ms | diagnosis ms | ratio | target | solves | "
             "suggested change |", "|---|---|---|---|---|---|---|"]
    for t in timings:
        lines.append(f"| {t.name} | {t.feasible_ms:.1f} | {t.diagnosis_ms:.1f} | "
                     f"{t.ratio:.2f} | ≤ {t.target:g} | {t.solves} | {t.moved} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    text = "\n".join(section(sizes, args.repeat))
    print(text)
    if args.write:
        replace_section(ROOT / "docs" / "performance.md", "diagnosis", text)


if __name__ == "__main__":
    main()
