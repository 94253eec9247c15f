"""Start-up and reading, measured side by side in one run (issue 13, "Fast where it counts").

    python benchmarks/startup.py [--repeat 7] [--read-sizes 100000,1000000] [--read-repeat 3]

*Start-up*: whole processes, run in turns so that load on the machine hits each alike,
each the median of ``--repeat`` runs, with compiled bytecode cached as it is after the first
run of an installed program (:func:`bytecode_env`):

- ``bare``: ``python -c "import pandas, numpy, highspy"`` — the libraries fundopt needs;
- ``pulp``: ``benchmarks/naive_pulp.py inputs/2024.csv`` — what a planner would write
  instead: the sample as a PuLP model solved by HiGHS;
- ``fundopt``: ``fundopt solve inputs/2024.csv`` (summary to a file, not a terminal);
- the last two again on a copy of the sample without ``amount_step``: with whole steps the
  sample's MILP alone takes ≈ 0.2 s, about 60 % of the bare imports, so the copy shows
  the start-up itself.

*Reading*: ``models.reading.table.read_table`` on a generated table (``generate.py``, milp variant)
of each size, timed inside a fresh process (interpreter start excluded), median of
``--read-repeat``; the growth from the smallest size shows whether reading stays linear.

``run.py`` calls :func:`measure_startup` and :func:`measure_reading` and puts their tables in
docs/performance.md; run alone, this script prints the same tables.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from generate import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "inputs" / "2024.csv"
TARGET_VS_PULP, TARGET_VS_BARE = 1.0, 1.3

READ_ONE = """
import sys, time
from pathlib import Path
started = time.perf_counter()
from fundopt.models.reading.table import read_table
imported = time.perf_counter()
table = read_table(Path(sys.argv[1]))
print(imported - started, time.perf_counter() - imported, len(table.frame))
"""


@dataclass(frozen=True)
class Startup:
    """Median wall and CPU (user + system) seconds of each whole process."""

    wall: dict[str, float]
    cpu: dict[str, float]
    repeat: int


@dataclass(frozen=True)
class Reading:
    """Median seconds of ``read_table`` at each size (rows → seconds)."""

    seconds: dict[int, float]
    repeat: int


def bytecode_env(cache: Path) -> dict[str, str]:
    """The environment for the measured processes: compiled bytecode cached (in ``cache``,
    outside the repository), as after the first run of an installed program. Without it
    (``PYTHONDONTWRITEBYTECODE=1``, as on some CI machines) every run of an editable install
    recompiles fundopt's own modules, which no user of an installed fundopt pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of ``cmd`` as a whole process (output to a temporary file)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n"
                               f"{out.read().decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def commands(sample: Path, unstepped: Path) -> dict[str, list[str]]:
    """The processes measured: fundopt and the PuLP script on the sample as shipped and on
    its copy without ``amount_step`` (``unstepped``), and the bare imports."""
    fundopt, pulp = [str(BIN / "fundopt"), "solve"], [sys.executable, str(HERE / "naive_pulp.py")]
    return {"fundopt": [*fundopt, str(sample)], "pulp": [*pulp, str(sample)],
            "bare": [sys.executable, "-c", "import pandas, numpy, highspy"],
            "fundopt unstepped": [*fundopt, str(unstepped)],
            "pulp unstepped": [*pulp, str(unstepped)]}


TITLES = {
    "fundopt": "`fundopt solve inputs/2024.csv`",
    "pulp": "`python benchmarks/naive_pulp.py inputs/2024.csv` (PuLP + HiGHS script)",
    "bare": "`python -c \"import pandas, numpy, highspy\"` (bare imports)",
}


def unstepped_copy(directory: Path) -> Path:
    """A copy of the sample without ``amount_step`` (continuous amounts) in ``directory``:
    its MILP solves in ≈ 40 ms instead of ≈ 0.2 s, so start-up is most of the run."""
    lines = SAMPLE.with_suffix(".toml").read_text(encoding="utf-8").splitlines()
    (directory / SAMPLE.with_suffix(".toml").name).write_text(
        "\n".join(line for line in lines if not line.startswith("amount_step")) + "\n",
        encoding="utf-8")
    (directory / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    return directory / SAMPLE.name


def measure_startup(repeat: int = 7) -> Startup:
    with tempfile.TemporaryDirectory(prefix="fundopt-startup-") as tmp:
        env = bytecode_env(Path(tmp) / "pyc")
        cmds = commands(SAMPLE, unstepped_copy(Path(tmp)))
        walls: dict[str, list[float]] = {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in cmds}
        for cmd in cmds.values():   # warm the file cache, write the bytecode; not counted
            run_once(cmd, env)
        for _ in range(repeat):
            for name, cmd in cmds.items():
                w, c = run_once(cmd, env)
                walls[name].append(w)
                cpus[name].append(c)
    return Startup({k: statistics.median(v) for k, v in walls.items()},
                   {k: statistics.median(v) for k, v in cpus.items()}, repeat)


def measure_reading(sizes: list[int], repeat: int = 3, seed: int = 2024) -> Reading:
    seconds: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="fundopt-read-") as tmp:
        for n in sizes:
            csv = generate(n, "milp", seed, Path(tmp))
            runs = []
            for _ in range(repeat):
                out = subprocess.run([sys.executable, "-c", READ_ONE, str(csv)], cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout
                _, read, rows = out.split()
                assert int(rows) == n, f"read {rows} rows of {n}"
                runs.append(float(read))
            seconds[n] = statistics.median(runs)
            print(f"read {n:,} rows: {seconds[n]:.2f} s", flush=True)
            csv.unlink()
    return Reading(seconds, repeat)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def startup_lines(s: Startup) -> list[str]:
    targets = {"pulp": TARGET_VS_PULP, "bare": TARGET_VS_BARE}
    lines = [f"Whole processes, medians of {s.repeat} runs taken in turns, bytecode cached as "
             "after a first run (CPU = user + system time of the process, less sensitive to "
             "other load than wall time). On the sample as shipped (targets of issue 13):", "",
             "| process | wall s | CPU s | fundopt ÷ it, wall | fundopt ÷ it, CPU | target |",
             "|---|---|---|---|---|---|"]
    for name, title in TITLES.items():
        wall, cpu = s.wall["fundopt"] / s.wall[name], s.cpu["fundopt"] / s.cpu[name]
        target = ("" if name not in targets else
                  f"≤ {targets[name]:g}: {verdict(wall <= targets[name])}")
        lines.append(f"| {title} | {s.wall[name]:.2f} | {s.cpu[name]:.2f} | **{wall:.2f}** | "
                     f"{cpu:.2f} | {target} |")
    lines += ["", "The same without the sample's `amount_step` (a copy of the sample with "
              "continuous amounts, no target): the MILP without whole steps solves in "
              "≈ 40 ms, so what remains is mostly start-up:", "",
              "| process | wall s | CPU s | fundopt ÷ it, wall | fundopt ÷ it, CPU |",
              "|---|---|---|---|---|"]
    for name, title in TITLES.items():
        other = name if name == "bare" else f"{name} unstepped"
        wall = s.wall["fundopt unstepped"] / s.wall[other]
        cpu = s.cpu["fundopt unstepped"] / s.cpu[other]
        lines.append(f"| {title.replace('inputs/2024.csv', 'the copy')} | {s.wall[other]:.2f} "
                     f"| {s.cpu[other]:.2f} | **{wall:.2f}** | {cpu:.2f} |")
    return lines


def reading_lines(r: Reading) -> list[str]:
    sizes = sorted(r.seconds)
    base = sizes[0]
    lines = [f"`read_table` on a generated table (milp variant), inside a fresh process "
             f"(interpreter start and imports excluded), median of {r.repeat}:", "",
             "| rows | read s | µs per row | × rows | × time |", "|---|---|---|---|---|"]
    for n in sizes:
        t = r.seconds[n]
        lines.append(f"| {n:,} | {t:.2f} | {t / n * 1e6:.1f} | {n / base:g} | "
                     f"{t / r.seconds[base]:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--read-sizes", default="100000,1000000",
                        help="table sizes for the reading test; empty to skip it")
    parser.add_argument("--read-repeat", type=int, default=3)
    args = parser.parse_args()
    lines = startup_lines(measure_startup(args.repeat))
    if args.read_sizes:
        sizes = [int(s) for s in args.read_sizes.split(",")]
        lines += ["", *reading_lines(measure_reading(sizes, args.read_repeat))]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
