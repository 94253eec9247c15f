"""Benchmark runner of issue 5: fundopt against a direct highspy build of the same model.

    python benchmarks/run.py [--sizes 100,1000,10000,100000] [--variants lp,milp]
                             [--repeat 3] [--time-limit 300] [--out docs/performance.md]
                             [--read-sizes 100000,1000000] [--no-cold]

For each size × variant it generates an instance (``generate.py``), then measures in the
same run, each in a fresh process (wall time, peak RSS from ``os.wait4``): ``fundopt solve
X.csv -o out.json --profile`` with its phases, and ``direct_highs.py`` (for LPs with both
simplex and IPM; the faster is the limit). It checks that the objectives agree, measures
start-up side by side (``fundopt solve inputs/2024.csv`` against a naive PuLP + HiGHS
script and against bare ``import pandas, numpy, highspy``) and reading at ``--read-sizes``
rows (``startup.py``), and writes the medians, the ratios and the targets of issues 5 and 13
to a Markdown file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from generate import generate
from sections import kept_sections
from startup import (
    TARGET_VS_BARE,
    TARGET_VS_PULP,
    Reading,
    Startup,
    measure_reading,
    measure_startup,
    reading_lines,
    startup_lines,
    verdict,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
TIME = Path("/usr/bin/time").is_file()
LABELS = {"read inputs": "read", "build model": "build", "solve": "solve",
          "constraint report": "duals", "diagnose": "diagnose", "write outputs": "write",
          "total": "total"}
PHASE_LINE = re.compile(rf"(?:^|[\s│┃|])({'|'.join(LABELS)})[\s│┃|]+(\d+\.\d+)[\s│┃|]*$")
LIMITED = ("feasible", "Time limit reached", "time_limit")
TARGET_RATIO = {"lp": 1.5, "milp": 1.3}
# The benchmarks that own a section of the report: script and arguments.
ALSO = {"sweeps": ("sweep_points.py", "--write"), "engines": ("batch_engines.py", "--write"),
        "stability": ("stability.py", "--write"), "family": ("milp_family.py",),
        "diagnosis": ("diagnosis.py", "--write")}
READ_SIZES = "100000,1000000"


@dataclass(frozen=True)
class Proc:
    """One measured process: wall seconds, peak RSS in MiB, exit code, stdout text."""
    wall: float
    rss: float
    code: int
    out: str


@dataclass
class Row:  # medians of one size × variant
    variant: str
    n: int
    fundopt: dict[str, float] = field(default_factory=dict)
    direct: dict[str, float] = field(default_factory=dict)
    solver: str = ""
    size: str = ""
    agree: str = ""
    notes: list[str] = field(default_factory=list)


def measure(cmd: list[str], cwd: Path) -> Proc:
    """Run ``cmd`` in a fresh process; wall time and its own peak RSS (via /usr/bin/time:
    Linux keeps ru_maxrss across fork+exec, so a child of this large runner inherits it)."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        timed = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd] if TIME else cmd
        with open(Path(tmp) / "out", "w+", encoding="utf-8") as out:
            started = time.perf_counter()
            proc = subprocess.Popen(timed, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            kib = int(rss_file.read_text().split()[-1]) if TIME else usage.ru_maxrss
            return Proc(wall, kib / 1024, proc.returncode, out.read())


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def fundopt_once(csv: Path, time_limit: float) -> tuple[dict[str, float], dict[str, Any]]:
    """``fundopt solve`` as a whole process: wall, RSS, parsed --profile phases, out.json."""
    out = csv.with_name(csv.stem + "-out.json")
    proc = measure([str(BIN / "fundopt"), "solve", str(csv), "-o", str(out), "--profile",
                    "--time-limit", str(time_limit)], csv.parent)
    if proc.code != 0:
        raise RuntimeError(f"fundopt failed on {csv.name} ({proc.code}):\n{proc.out[-2000:]}")
    phases = {LABELS[m[1]]: float(m[2]) for line in proc.out.splitlines()
              if (m := PHASE_LINE.search(line.rstrip()))}
    if "build" not in phases:  # --profile output not parseable: time the phases in-process
        inner = measure([sys.executable, str(HERE / "phases.py"), str(csv), "-o", str(out),
                         "--time-limit", str(time_limit)], csv.parent)
        phases = json.loads(inner.out.strip().splitlines()[-1])["phases"]
    result = json.loads(out.read_text(encoding="utf-8"))
    return {"wall": proc.wall, "rss": proc.rss, **phases}, result


def direct_once(csv: Path, time_limit: float, config: str) -> tuple[dict[str, float], dict]:
    """``direct_highs.py`` in a fresh process; ``config`` is ``solver[:presolve]``."""
    solver, _, presolve = config.partition(":")
    proc = measure([sys.executable, str(HERE / "direct_highs.py"), str(csv), "--solver", solver,
                    "--presolve", presolve or "choose", "--time-limit", str(time_limit)],
                   csv.parent)
    if proc.code != 0:
        raise RuntimeError(f"direct_highs failed on {csv.name}:\n{proc.out[-2000:]}")
    result = json.loads(proc.out.strip().splitlines()[-1])
    return {"wall": proc.wall, "rss": proc.rss, **result["phases"]}, result


def agreement(variant: str, f: dict[str, Any], d: dict[str, Any]) -> tuple[str, bool]:
    """Objectives agree: rel 1e-6 for an LP, within the larger MIP gap (+1e-6) for a MILP."""
    if f.get("objective") is None or d.get("objective") is None:
        return "no objective", False
    a, b = float(f["objective"]), float(d["objective"])
    rel = abs(a - b) / max(abs(a), abs(b), 1.0)
    tol = 1e-6 + (max(f.get("gap") or 0.0, d.get("gap") or 0.0) if variant == "milp" else 0.0)
    return f"{rel:.1e}", rel <= tol


def bench_one(variant: str, n: int, args: argparse.Namespace, tmp: Path) -> Row:
    csv = generate(n, "lp" if variant == "lp" else "milp", args.seed, tmp)
    row = Row(variant, n)
    f_runs, f_res = zip(*(fundopt_once(csv, args.time_limit) for _ in range(args.repeat)),
                        strict=True)
    row.fundopt = median_of(list(f_runs))
    solvers = args.lp_configs.split(",") if variant == "lp" else args.mip_configs.split(",")
    best: tuple[float, str, dict[str, float], dict] | None = None
    for solver in solvers:
        runs, res = zip(*(direct_once(csv, args.time_limit, solver)
                          for _ in range(args.repeat)), strict=True)
        med = median_of(list(runs))
        inner = med["pass"] + med["solve"]
        row.notes.append(f"direct {res[-1]['solver']}: solve {inner:.3f} s, "
                         f"wall {med['wall']:.2f} s")
        if best is None or inner < best[0]:
            best = (inner, solver, med, res[-1])
    assert best is not None
    _, _, row.direct, d_res = best
    row.solver = "MIP" if variant == "milp" else d_res["solver"]
    row.size = f"{d_res['num_row']}×{d_res['num_col']} ({d_res['num_int']} int)"
    text, ok = agreement(variant, f_res[-1], d_res)
    row.agree = text + ("" if ok else " MISMATCH")
    statuses = (("fundopt", f_res[-1]["status"]), ("direct", d_res["status"]))
    row.notes += [f"{who} hit the {args.time_limit:g} s time limit"
                  for who, status in statuses if status in LIMITED]
    print(f"{variant:>4} {n:>7}: fundopt {row.fundopt['wall']:.2f} s, direct "
          f"{row.direct['wall']:.2f} s ({row.solver}), agree {row.agree}", flush=True)
    return row


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return [f"- CPU: {cpu}, {os.cpu_count()} logical cores; RAM {mem / 2**20:.1f} GiB",
            f"- Python {platform.python_version()}, highspy {version('highspy')}, "
            f"pandas {version('pandas')}, numpy {version('numpy')}, PuLP {version('pulp')}, "
            f"fundopt {version('fundopt')}",
            f"- {platform.platform()}; load average at start "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}",
            f"- run on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"]


def _f(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def table(rows: list[Row]) -> list[str]:
    head = ("| variant | n | model rows×cols | fundopt wall s | read | build | solve | duals | "
            "write | start-up | peak MiB | direct wall s | direct solve s | direct start-up | "
            "direct MiB | direct solver | "
            "wall ratio | solve ratio | objective rel. diff |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        f, d = r.fundopt, r.direct
        lines.append(
            f"| {r.variant} | {r.n:,} | {r.size} | {_f(f['wall'])} | {_f(f.get('read'), 3)} | "
            f"{_f(f.get('build'), 3)} | {_f(f.get('solve'), 3)} | {_f(f.get('duals'), 3)} | "
            f"{_f(f.get('write'), 3)} | {_f(f['wall'] - f.get('total', 0.0))} | "
            f"{f['rss']:.0f} | {_f(d['wall'])} | {_f(d['pass'] + d['solve'], 3)} | "
            f"{_f(d['wall'] - d['total'])} | {d['rss']:.0f} | {r.solver} | "
            f"**{f['wall'] / d['wall']:.2f}** | "
            f"{f.get('solve', 0.0) / (d['pass'] + d['solve']):.2f} | {r.agree} |")
    return lines


def targets(rows: list[Row], cold: Startup | None) -> list[str]:
    out = ["| target | measured | verdict |", "|---|---|---|"]
    by = {(r.variant, r.n): r for r in rows}
    for variant, limit in TARGET_RATIO.items():
        for n in (10_000, 100_000):
            r = by.get((variant, n))
            value = None if r is None else r.fundopt["wall"] / r.direct["wall"]
            out.append(f"| {variant.upper()} {n:,}: fundopt / direct ≤ {limit} | "
                       f"{_f(value)} | {'not run' if value is None else verdict(value <= limit)} |")
    for variant in TARGET_RATIO:
        r = by.get((variant, 100_000))
        share = None if r is None else r.fundopt.get("build", 0) / r.fundopt.get("solve", 1)
        out.append(f"| {variant.upper()} 100,000: build ≤ 15% of solve | "
                   f"{'–' if share is None else f'{share:.1%}'} | "
                   f"{'not run' if share is None else verdict(share <= 0.15)} |")
        mib = None if r is None else r.fundopt["rss"]
        out.append(f"| {variant.upper()} 100,000: peak memory < 1.5 GiB | "
                   f"{'–' if mib is None else f'{mib:.0f} MiB'} | "
                   f"{'not run' if mib is None else verdict(mib < 1536)} |")
    for other, limit, title in (("pulp", TARGET_VS_PULP, "the naive PuLP + HiGHS script"),
                                ("bare", TARGET_VS_BARE, "bare `import pandas, numpy, highspy`")):
        measured, ok = "–", "not run"
        if cold is not None:
            ratio = cold.wall["fundopt"] / cold.wall[other]
            measured = f"{ratio:.2f} ({cold.wall['fundopt']:.2f} s / {cold.wall[other]:.2f} s)"
            ok = verdict(ratio <= limit)
        out.append(f"| start-up: `fundopt solve inputs/2024.csv` ≤ {limit:g} × {title} | "
                   f"{measured} | {ok} |")
    return out


def report(rows: list[Row], cold: Startup | None, reading: Reading | None,
           args: argparse.Namespace, failed: list[str]) -> str:
    notes = [f"- {r.variant} {r.n:,}: " + "; ".join(r.notes) for r in rows if r.notes] + failed
    extra = args.notes.read_text(encoding="utf-8") if args.notes.is_file() else ""
    kept = kept_sections(args.out)   # sections the other benchmarks write (--also)
    return "\n".join([
        "# Performance", "",
        "Generated by `python benchmarks/run.py "
        f"--sizes {args.sizes} --variants {args.variants} --repeat {args.repeat} "
        f"--time-limit {args.time_limit:g}" + (f" --skip {args.skip}" if args.skip else "")
        + (f" --read-sizes {args.read_sizes}" if args.read_sizes != READ_SIZES else "")
        + (" --no-cold" if args.no_cold else "")
        + f"` (medians of {args.repeat} runs, each in a fresh "
        "process). *direct* is `benchmarks/direct_highs.py`: the same model built from numpy "
        "arrays and passed to HiGHS in one call, with the fastest of the configurations tried "
        "(the limit; each is listed in the run notes). "
        "Wall ratio = fundopt process / direct process (both include interpreter start and "
        "imports; start-up = wall − the process's own timed phases); solve ratio = "
        "fundopt's solve phase / direct passModel+run.", "",
        "## Machine", "", *machine(), "", "## Times (seconds) and ratios", "", *table(rows), "",
        "## Targets (issues 5 and 13)", "", *targets(rows, cold), "",
        "## Start-up against what a user would write instead", "",
        *(startup_lines(cold) if cold is not None else ["not run (`--no-cold`)"]), "",
        "## Reading the table", "",
        *(reading_lines(reading) if reading is not None else ["not run (`--read-sizes ''`)"]),
        "", "## Run notes", "", *notes, "",
        kept, extra,
    ]).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--variants", default="lp,milp")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--notes", type=Path, default=HERE / "notes.md",
                        help="hand-written analysis appended to the report, if present")
    parser.add_argument("--lp-configs", default="simplex,ipm,ipm:off",
                        help="direct HiGHS configurations tried on LPs (solver[:presolve])")
    parser.add_argument("--mip-configs", default="auto,auto:off",
                        help="direct HiGHS configurations tried on MILPs")
    parser.add_argument("--skip", default="", help="cases to leave out, e.g. milp-100000")
    parser.add_argument("--no-cold", action="store_true", help="skip the start-up test")
    parser.add_argument("--read-sizes", default=READ_SIZES,
                        help="table sizes of the reading test; '' to skip it")
    parser.add_argument("--also", default=",".join(ALSO),
                        help="section benchmarks to run after this one, each updating its "
                             f"own section of the report: {', '.join(ALSO)} ('' for none)")
    args = parser.parse_args()
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fundopt-bench-") as tmp:
        for variant in args.variants.split(","):
            for n in (int(s) for s in args.sizes.split(",")):
                if f"{variant}-{n}" in args.skip.split(","):
                    continue
                try:
                    rows.append(bench_one(variant, n, args, Path(tmp)))
                except RuntimeError as error:  # one broken case must not lose the others
                    print(error, file=sys.stderr)
                    failed.append(f"- {variant} {n:,}: FAILED: {str(error).splitlines()[0]}")
    cold = None if args.no_cold else measure_startup(max(args.repeat, 11))
    reading = None if not args.read_sizes else measure_reading(
        [int(n) for n in args.read_sizes.split(",")], args.repeat)
    text = report(rows, cold, reading, args, failed)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    for name in filter(None, args.also.split(",")):
        # each writes its own marked section of docs/performance.md (sections.py)
        subprocess.run([sys.executable, str(HERE / ALSO[name][0]), *ALSO[name][1:]],
                       cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
