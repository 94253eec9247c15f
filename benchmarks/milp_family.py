"""MILP option family (issue 13): HiGHS defaults, presolve off and the race, per instance.

    python benchmarks/milp_family.py [--only NAME,...] [--time-limit 300]
                                     [--out docs/performance.md]

28 seeded MILPs from two generators, 2 000–20 000 sub-funds (the harder ``ratio`` ones up
to 5 000), with and without district counts, budgets 0.15–0.5 of the total ``max_ticket``:

- ``mix``: ``generate.py``'s ``milp`` variant (minimum tickets on 20% of the rows, a few
  ``must`` rows, region / category shares, a risk cap, a capital-call cap);
- ``ratio``: scores are performance multiples with three decimals (equal scores are
  common), a minimum ticket on 40% of the rows and a cap on the funded count.

Each instance is solved three ways, each in a fresh process, timing the solve only (the
model is read and built first, untimed): HiGHS with its defaults and with presolve off,
each on one thread, as one plain run; and fundopt's race (``optimizer/race.py``: both at
once on two cores, the loser stopped, then the canonical pass). It writes the table, with
the race's ratio to the faster single configuration, between the ``milp-family`` markers
of ``docs/performance.md`` (``run.py`` keeps that section when it rewrites the file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from generate import (
    CATEGORIES,
    CATEGORY_P,
    DISTRICTS,
    HEBEI,
    TEXT,
    TIANJIN,
    _concat,
    _districts,
    generate,
    write_csv,
)
from sections import replace_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "milp-family"
TARGET = 1.2          # the race within 1.2× of the faster configuration on every instance
MODES = ("on", "off", "race")


@dataclass(frozen=True)
class Spec:
    """One instance of the family."""

    generator: str      # "mix" or "ratio"
    n: int
    districts: bool
    budget_share: float

    @property
    def name(self) -> str:
        counts = "d" if self.districts else "nod"
        return f"{self.generator}-{self.n}-{counts}-{round(100 * self.budget_share)}"


def family() -> list[Spec]:
    """The 28 instances."""
    specs = [Spec("mix", n, d, b) for n in (2_000, 5_000, 10_000)
             for d in (True, False) for b in (0.15, 0.5)]
    specs += [Spec("mix", 20_000, d, 0.35) for d in (True, False)]
    # the ratio instances are harder (equal scores, many minimum tickets): at 20 000 rows
    # with district counts neither configuration proves optimality within 120 s
    specs += [Spec("ratio", n, d, b) for n in (2_000, 3_500, 5_000)
              for d in (True, False) for b in (0.25, 0.4)]
    specs += [Spec("ratio", 3_000, d, 0.33) for d in (True, False)]
    return specs


def write_instance(spec: Spec, out_dir: Path, seed: int = 2024) -> Path:
    if spec.generator == "mix":
        return generate(spec.n, "milp", seed, out_dir, budget_share=spec.budget_share,
                        districts=spec.districts, name=spec.name)
    return _ratio(spec, out_dir, seed)


def _ratio(spec: Spec, out_dir: Path, seed: int) -> Path:
    """The ``ratio`` generator: appraisal multiples as scores, many minimum tickets."""
    n = spec.n
    rng = np.random.default_rng([seed, n, 7])
    region = np.where(rng.random(n) < 0.5, TIANJIN, HEBEI).astype(TEXT)
    district = _districts(rng, region)
    category = np.asarray(CATEGORIES, dtype=TEXT)[rng.choice(4, size=n, p=CATEGORY_P)]
    max_ticket = np.round(np.clip(rng.lognormal(0.2, 0.6, n), 0.3, 8.0), 1)
    min_ticket = np.where(rng.random(n) < 0.4,
                          np.round(rng.uniform(0.3, 0.7, n) * max_ticket, 1), np.nan)
    min_ticket = np.where(min_ticket < 0.1, np.nan, min_ticket)
    score = np.round(np.clip(rng.lognormal(0.4, 0.3, n), 0.8, 4.0), 3)
    risk = np.round(rng.uniform(0.05, 0.9, n), 2)
    number = np.strings.zfill(np.arange(1, n + 1).astype(TEXT), 6)
    columns = {
        "id": np.strings.add(np.where(region == TIANJIN, "TJ-", "HB-").astype(TEXT), number),
        "name": _concat([district, category, np.full(n, "基金", TEXT), number]),
        "region": region, "district": district, "category": category,
        "max_ticket": max_ticket, "min_ticket": min_ticket, "score": score, "risk": risk,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / f"{spec.name}.csv"
    write_csv(csv, columns)
    budget = round(spec.budget_share * float(max_ticket.sum()), 1)
    lines = ['unit = "亿元"', f"budget = {budget}", "min_deploy = 0.95", "max_single = 0.05",
             "min_ticket = 0.3", f"max_funded = {math.ceil(0.2 * n)}", "",
             "[objective]", 'maximize = "score"', "",
             f'[region."{TIANJIN}"]', "min_share = 0.45", "max_share = 0.55", "",
             '[category."前沿技术"]', "min_share = 0.2", "",
             '[category."高端人才团队"]', "max_share = 0.2", ""]
    if spec.districts:
        per_district = n / sum(len(d) for d in DISTRICTS.values())
        lines += ['[district."*"]', f"min_count = {max(1, round(0.03 * per_district))}",
                  f"max_count = {max(2, math.ceil(0.3 * per_district))}", ""]
    lines += ["[[constraints]]", 'name = "portfolio risk"', 'measure = "avg(risk)"',
              "max = 0.45", ""]
    csv.with_suffix(".toml").write_text("\n".join(lines), encoding="utf-8")
    return csv


# --- One measured solve, in this (fresh) process ---------------------------------------


def solve_once(csv: Path, mode: str, time_limit: float, race_rows: int | None = None
               ) -> dict[str, float | str | None]:
    """Read and build ``csv``, then time the solve of ``mode`` (on / off / race).
    ``race_rows`` overrides ``race.RACE_ROWS`` (to measure where racing starts to pay)."""
    from fundopt.models.reading.inputs import load_inputs
    from fundopt.optimizer import highs, race
    from fundopt.optimizer.build import build

    if race_rows is not None:
        race.RACE_ROWS = race_rows

    inputs = load_inputs(csv, None)
    model = build(inputs.table, inputs.policy, inputs.constraints).model
    if mode == "race":
        return _race_once(model, time_limit)
    result: dict[str, float | str | None] = {}

    def run() -> None:  # in a new thread: a fresh one-thread HiGHS scheduler, as a racer
        h = highs.new_highs()
        options: dict[str, str | float] = {"presolve": mode, "threads": 1,
                                           "mip_rel_gap": 0.0, "time_limit": time_limit}
        for key, value in options.items():
            h.setOptionValue(key, value)
        h.passModel(highs.to_highs_lp(model))
        started, cpu = time.perf_counter(), time.thread_time()
        h.run()
        result["seconds"] = time.perf_counter() - started
        result["cpu"] = time.thread_time() - cpu
        result["status"] = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        result["objective"] = (float(info.objective_function_value)
                               if info.primal_solution_status == 2 else None)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result


def _race_once(model: Any, time_limit: float) -> dict[str, float | str | None]:
    """The race as fundopt runs it on a ``Highs`` object that holds the model, with the CPU
    time of its critical path: the winner's thread (from its start to its proof) plus this
    thread (the racers' copies, the canonical pass)."""
    from fundopt.optimizer import highs, race

    racer_cpu: dict[int, float] = {}
    run_racer = race._run

    def timed(racer: Any, model: Any, k: int, finished: Any) -> None:
        cpu = time.thread_time()
        try:
            run_racer(racer, model, k, finished)
        finally:
            racer_cpu.setdefault(k, time.thread_time() - cpu)

    race._run = timed
    winners: list[int] = []
    pick = race._winner

    def noted(racers: Any, finished: Any) -> int:
        winners.append(pick(racers, finished))
        return winners[-1]

    race._winner = noted
    # prepared untimed, as the single runs pass their model before the clock starts
    prepared = highs.new_highs()
    highs.configure(prepared, model, time_limit, 0.0)
    prepared.passModel(highs.to_highs_lp(model))
    started, cpu = time.perf_counter(), time.thread_time()
    outcome = highs.solve_prepared(prepared, model, 0.0, plan=True, race=True)
    seconds, main_cpu = time.perf_counter() - started, time.thread_time() - cpu
    while winners and winners[0] not in racer_cpu:   # its thread records after `finished`
        time.sleep(0.001)
    winner_cpu = racer_cpu.get(winners[0], seconds) if winners else seconds
    return {"seconds": seconds, "cpu": winner_cpu + main_cpu, "status": str(outcome.status),
            "objective": None if outcome.values is None else float(model.cost @ outcome.values),
            "winner": race.CONFIGS[winners[0]] if winners else "single run"}


# --- The family, each solve in its own process -----------------------------------------


def measure(csv: Path, mode: str, time_limit: float, race_rows: int | None = None
            ) -> dict[str, Any]:
    extra = [] if race_rows is None else ["--race-rows", str(race_rows)]
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--solve", str(csv),
                           "--mode", mode, "--time-limit", str(time_limit), *extra],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{csv.name} {mode}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _geo(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values))


def report(rows: list[tuple[Spec, dict[str, dict[str, Any]]]], time_limit: float,
           load: tuple[float, float]) -> str:
    lines = [
        "## MILP options: defaults, presolve off, race (issue 13)", "",
        f"Generated by `python benchmarks/milp_family.py --time-limit {time_limit:g}` "
        f"({len(rows)} instances; load average {load[0]:.2f} at start, {load[1]:.2f} at "
        "the end, on 2 cores). Solve time only (model read and built first, untimed), each "
        "solve in a fresh process. *defaults* and *off*: HiGHS with its defaults or with "
        "presolve off, one thread, alone. *race*: both at once, one thread each, the first "
        "to prove optimality wins, the other is stopped, then the canonical pass "
        "(`optimizer/race.py`); *won* says which. Each cell: wall seconds / CPU seconds. "
        "The CPU time of a single run is its thread's; the race's is its critical path, "
        "the winner's thread plus the calling thread (copies, canonical pass): an "
        "estimate of its wall time on two idle cores, not a measurement. When other "
        "processes load the machine, wall times of the race suffer twice (it needs both "
        "cores), so the CPU ratio is the one to judge it by there. Ratios are race / the "
        "faster of defaults and off; "
        f"target: ≤ {TARGET} on every instance.", "",
        "| instance | rows | districts | budget share | defaults s | off s | race s | won "
        "| race / best, wall | race / best, CPU | off / defaults, CPU | objectives agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    wall, cpu, off_on = [], [], []
    for spec, r in rows:
        on, off, rc = (r[m] for m in MODES)
        wall.append(rc["seconds"] / min(on["seconds"], off["seconds"]))
        cpu.append(rc["cpu"] / min(on["cpu"], off["cpu"]))
        off_on.append(off["cpu"] / on["cpu"])
        objs = [r[m]["objective"] for m in MODES]
        agree = (all(o is not None for o in objs)
                 and max(objs) - min(objs) <= 1e-6 * max(1.0, abs(max(objs))))
        limited = [m for m in MODES if r[m]["status"].lower() != "optimal"]
        note = f" (not optimal: {', '.join(limited)})" if limited else ""
        lines.append(
            f"| {spec.name} | {spec.n:,} | {'yes' if spec.districts else 'no'} "
            f"| {spec.budget_share:.2f} | {on['seconds']:.2f} / {on['cpu']:.2f} "
            f"| {off['seconds']:.2f} / {off['cpu']:.2f} | {rc['seconds']:.2f} / {rc['cpu']:.2f} "
            f"| {rc.get('winner', '')} | {wall[-1]:.2f} | **{cpu[-1]:.2f}** | {off_on[-1]:.2f} "
            f"| {'yes' if agree else 'NO'}{note} |")
    lines += [
        "", f"Race / best by CPU: geometric mean {_geo(cpu):.2f}, worst {max(cpu):.2f}, "
        f"{sum(x > TARGET for x in cpu)} of {len(rows)} above {TARGET}. By wall time: "
        f"geometric mean {_geo(wall):.2f}, worst {max(wall):.2f}, "
        f"{sum(x > TARGET for x in wall)} above {TARGET}. Presolve off / defaults (CPU): "
        f"geometric mean {_geo(off_on):.2f}, slower on {sum(x > 1 for x in off_on)} of "
        f"{len(rows)}, worst {max(off_on):.2f}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--list", action="store_true", help="print the instance names")
    parser.add_argument("--solve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--race-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solve:
        print(json.dumps(solve_once(args.solve, args.mode, args.time_limit, args.race_rows)))
        return
    specs = family()
    if args.list:
        print("\n".join(s.name for s in specs))
        return
    if args.only:
        wanted = set(args.only.split(","))
        specs = [s for s in specs if s.name in wanted]
    started_load = os.getloadavg()[0]
    rows: list[tuple[Spec, dict[str, dict[str, Any]]]] = []
    text = ""
    with tempfile.TemporaryDirectory(prefix="fundopt-family-") as tmp:
        for spec in sorted(specs, key=lambda s: s.n):   # smallest first
            csv = write_instance(spec, Path(tmp))
            row = {mode: measure(csv, mode, args.time_limit) for mode in MODES}
            print(spec.name, {m: (round(row[m]["seconds"], 2), round(row[m]["cpu"], 2))
                              for m in MODES}, row["race"].get("winner"),
                  file=sys.stderr, flush=True)
            rows.append((spec, row))
            text = report(rows, args.time_limit, (started_load, os.getloadavg()[0]))
            if not args.only:   # after every instance: a stopped run keeps what it measured
                done = "" if len(rows) == len(specs) else (
                    f"\n\n*Partial run: {len(rows)} of {len(specs)} instances measured.*")
                replace_section(args.out, SECTION, text + done)
    print(text)


if __name__ == "__main__":
    main()
