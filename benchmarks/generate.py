"""Seeded generator of realistic fundopt instances for the benchmark suite (issue 5).

``generate(n, variant, seed, out_dir)`` writes ``<variant>-<n>.csv`` and ``.toml`` in
fundopt's input format: two regions (天津 16 districts, 河北 12 cities), four categories,
a budget of about 35% of the total ``max_ticket``, region min/max shares, category floors,
a commitment-weighted risk cap over two categories and a 2025 capital-call cap. The
``milp`` variant adds a policy ``min_ticket`` (plus explicit ones on 20% of rows), a few
``must`` rows and ``[district."*"]`` counts scaled to n; the ``lp`` variant has none of
these, so it is a pure LP.

Usage: ``python benchmarks/generate.py --sizes 100,1000 --variants lp,milp --out DIR --check``
(``--check`` proves each instance feasible: HiGHS stops at its first feasible point).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Literal

import numpy as np

Variant = Literal["lp", "milp"]
TEXT = np.dtypes.StringDType()

TIANJIN, HEBEI = "天津", "河北"
DISTRICTS: dict[str, tuple[str, ...]] = {
    TIANJIN: ("和平区", "河东区", "河西区", "南开区", "河北区", "红桥区", "东丽区", "西青区",
              "津南区", "北辰区", "武清区", "宝坻区", "宁河区", "静海区", "蓟州区", "滨海新区"),
    HEBEI: ("石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州",
            "廊坊", "衡水", "雄安新区"),
}
CATEGORIES = ("国家重大平台", "重大科技专项", "前沿技术", "高端人才团队")
CATEGORY_P = (0.3, 0.3, 0.25, 0.15)
RISKY = ("前沿技术", "高端人才团队")    # the avg(risk) cap covers these two categories
COLUMNS = ("id", "name", "region", "district", "category", "max_ticket", "min_ticket",
           "fund_size", "score", "status", "risk", "call_2025")
MAX_STAKE, MAX_SINGLE, MIN_TICKET = 0.3, 0.15, 0.3
BUDGET_SHARE, MIN_DEPLOY, RISK_CAP, CALL_CAP = 0.35, 0.9, 0.5, 0.28


def _districts(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Spread each region's rows evenly over its districts (every district present)."""
    district = np.empty(len(region), dtype=TEXT)
    for name, names in DISTRICTS.items():
        rows = np.flatnonzero(region == name)
        codes = rng.permutation(np.arange(len(rows)) % len(names))
        district[rows] = np.asarray(names, dtype=TEXT)[codes]
    return district


def _columns(n: int, variant: Variant, rng: np.random.Generator,
             budget_share: float = BUDGET_SHARE) -> tuple[dict[str, np.ndarray], float]:
    """The candidate table (column → values, in ``COLUMNS`` order) and the budget."""
    region = np.where(rng.random(n) < 0.45, TIANJIN, HEBEI).astype(TEXT)
    district = _districts(rng, region)
    category = np.asarray(CATEGORIES, dtype=TEXT)[rng.choice(4, size=n, p=CATEGORY_P)]
    max_ticket = np.round(np.clip(rng.lognormal(0.4, 0.5, n), 0.5, 10.0), 2)
    # stake = max_ticket / fund_size; where it exceeds max_stake the stake cap binds
    fund_size = np.round(max_ticket / rng.uniform(0.1, 0.35, n), 2)
    fund_size[rng.random(n) < 0.05] = np.nan
    budget = round(budget_share * float(max_ticket.sum()), 1)
    upper = np.minimum(max_ticket, MAX_SINGLE * budget)
    upper = np.fmin(upper, MAX_STAKE * fund_size)
    risky = np.isin(category, RISKY)
    risk = np.round(np.where(risky, rng.uniform(0.1, 0.9, n), rng.uniform(0.05, 0.6, n)), 2)
    call = np.round(rng.uniform(0.1, 0.6, n), 2)
    score = np.round(60 + 30 * risk + 10 * call + rng.normal(0, 8, n), 1)
    status = np.where(rng.random(n) < 0.01, "exclude", "").astype(TEXT)
    min_ticket = np.full(n, np.nan)
    if variant == "milp":
        explicit = rng.random(n) < 0.2
        floor = np.floor(rng.uniform(0.2, 0.6, n) * upper * 100) / 100
        min_ticket[explicit] = np.maximum(floor[explicit], 0.1)
        must = rng.choice(n, size=max(1, n // 1000), replace=False)
        status[must] = "must"
        risk[must] = np.minimum(risk[must], 0.4)
    number = np.strings.zfill(np.arange(1, n + 1).astype(TEXT), 6)
    ids = np.strings.add(np.where(region == TIANJIN, "TJ-", "HB-").astype(TEXT), number)
    names = _concat([district, category, np.full(n, "子基金", TEXT), number])
    columns = {
        "id": ids, "name": names, "region": region, "district": district,
        "category": category, "max_ticket": max_ticket, "min_ticket": min_ticket,
        "fund_size": fund_size, "score": score, "status": status, "risk": risk,
        "call_2025": call,
    }
    return columns, budget


def _concat(parts: list[np.ndarray], sep: str = "") -> np.ndarray:
    """Element-wise string concatenation of equal-length arrays, in C (numpy.strings)."""
    out = parts[0].astype(TEXT)
    for part in parts[1:]:
        out = np.strings.add(np.strings.add(out, sep) if sep else out, part.astype(TEXT))
    return out


def _cells(values: np.ndarray) -> np.ndarray:
    """Text cells of one column; floats in their shortest exact form, NaN as blank."""
    if values.dtype.kind == "f":
        return np.where(np.isnan(values), "", values.astype(TEXT))
    return values.astype(TEXT)


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write the table as UTF-8 CSV (no cell holds a comma or a quote)."""
    lines = _concat([_cells(v) for v in columns.values()], sep=",")
    text = "\n".join([",".join(columns), *lines.tolist()]) + "\n"
    path.write_text(text, encoding="utf-8")


def policy_toml(n: int, variant: Variant, budget: float, districts: bool = True) -> str:
    """The policy of an instance of ``n`` rows, as TOML text (``districts``: the
    ``[district."*"]`` counts of a MILP)."""
    lines = [
        'unit = "亿元"', f"budget = {budget}", f"min_deploy = {MIN_DEPLOY}",
        f"max_stake = {MAX_STAKE}", f"max_single = {MAX_SINGLE}",
    ]
    if variant == "milp":
        lines.append(f"min_ticket = {MIN_TICKET}")
    lines += ["", "[objective]", 'maximize = "score"', "",
              f'[region."{TIANJIN}"]', "min_share = 0.4", "max_share = 0.6", "",
              f'[region."{HEBEI}"]', "min_share = 0.35", "",
              '[category."国家重大平台"]', "min_share = 0.2", "",
              '[category."前沿技术"]', "min_share = 0.15", "",
              '[category."高端人才团队"]', "min_share = 0.1", "max_share = 0.25", ""]
    if variant == "milp" and districts:
        per_district = n / sum(len(d) for d in DISTRICTS.values())
        lines += ['[district."*"]', f"min_count = {max(1, round(0.05 * per_district))}",
                  f"max_count = {max(2, math.ceil(0.45 * per_district))}", ""]
    lines += ["[[constraints]]", 'name = "portfolio risk"',
              'where = { category = ["前沿技术", "高端人才团队"] }',
              'measure = "avg(risk)"', f"max = {RISK_CAP}", "",
              "[[constraints]]", 'name = "capital calls 2025"', 'measure = "sum(call_2025)"',
              f"max = {round(CALL_CAP * budget, 1)}", ""]
    return "\n".join(lines)


def generate(n: int, variant: Variant, seed: int, out_dir: Path, *,
             budget_share: float = BUDGET_SHARE, districts: bool = True,
             name: str | None = None) -> Path:
    """Write ``<out_dir>/<variant>-<n>.csv`` and ``.toml``; return the CSV path.

    Parameters
    ----------
    n
        Number of candidate sub-funds (rows).
    variant
        ``"lp"`` (no minimum tickets, no counts: a pure LP) or ``"milp"``.
    seed
        Seed of the random generator; the same arguments give the same files.
    out_dir
        Directory to write into (created if missing).
    budget_share
        The budget as a share of the total ``max_ticket``.
    districts
        Whether a MILP's policy has the ``[district."*"]`` counts.
    name
        File stem instead of ``<variant>-<n>``.
    """
    if variant not in ("lp", "milp"):
        raise ValueError(f"variant must be 'lp' or 'milp', not {variant!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, n, variant == "milp"])
    columns, budget = _columns(n, variant, rng, budget_share)
    csv = out_dir / f"{name or f'{variant}-{n}'}.csv"
    write_csv(csv, columns)
    csv.with_suffix(".toml").write_text(policy_toml(n, variant, budget, districts),
                                        encoding="utf-8")
    return csv


def check_feasible(csv: Path, time_limit: float = 300.0) -> str:
    """Solve the instance until HiGHS finds its first feasible point.

    Returns ``"feasible"``, or the HiGHS model status when no feasible point was found.
    """
    from direct_highs import solve_direct  # sibling script, imported only when checking

    result = solve_direct(csv, time_limit=time_limit, feasibility=True)
    return "feasible" if result.objective is not None else f"NOT FEASIBLE ({result.status})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--variants", default="lp,milp")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/instances"))
    parser.add_argument("--check", action="store_true", help="prove each instance feasible")
    args = parser.parse_args()
    for variant in args.variants.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            csv = generate(n, variant, args.seed, args.out)
            line = f"{csv}: {time.perf_counter() - started:.2f} s"
            if args.check:
                line += f", feasibility: {check_feasible(csv)}"
            print(line)


if __name__ == "__main__":
    main()
