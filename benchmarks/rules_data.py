"""Seeded sub-fund tables with the columns published rules need (SPEC §11, issue 19).

``rules_table(n, seed)`` returns a table in fundopt's input format with fund_size,
other_lp_max, other_govt, local_invest, duration_years, stage, fund_kind, invest_type,
manager and yearly call rates, spread over the JJJ districts so that ``inputs/rules.toml``
(the worked example of a 管理办法) is feasible at any size. ``inputs/rules.csv`` is
``rules_table(40, 2026)``: ``python benchmarks/rules_data.py --example inputs/rules.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DISTRICTS = {"天津": ("滨海新区", "西青区", "东丽区", "津南区", "北辰区", "武清区"),
             "河北": ("石家庄市", "保定市", "廊坊市", "唐山市", "沧州市", "雄安新区")}
CATEGORIES = ("国家重大平台", "重大科技专项", "前沿技术", "高端人才团队")
STAGES = ("种子", "天使", "VC", "成长", "并购")
STAGE_P = (0.2, 0.25, 0.3, 0.15, 0.1)
MANAGERS = ("海河资本", "津创投", "冀科投", "雄安基金管理", "京津冀协同资本", "渤海创投",
            "燕赵产业资本", "滨城资本")


def rules_table(n: int, seed: int = 2026) -> pd.DataFrame:
    """``n`` candidate sub-funds, every district with several of them."""
    rng = np.random.default_rng(seed)
    places = [(region, d) for region, ds in DISTRICTS.items() for d in ds]
    where = [places[i % len(places)] for i in range(n)]
    rng.shuffle(where)
    size = np.round(rng.uniform(3.0, 18.0, n), 1)
    stage = rng.choice(STAGES, n, p=STAGE_P)
    early = np.isin(stage, ("种子", "天使"))
    kind = rng.choice(["市场化", "专项"], n, p=[0.6, 0.4])
    invest = np.where(np.isin(stage, ("成长", "并购")), "产业", "创投")
    category = rng.choice(CATEGORIES, n)
    frame = pd.DataFrame({
        "id": [f"RS-{i + 1:04d}" for i in range(n)],
        "name": [f"{d}{c}子基金{i + 1}" for i, ((_, d), c)
                 in enumerate(zip(where, category, strict=True))],
        "region": [r for r, _ in where],
        "district": [d for _, d in where],
        "category": category,
        "max_ticket": np.round(np.minimum(size * 0.35, rng.uniform(1.0, 6.0, n)), 2),
        "min_ticket": "",
        "fund_size": size,
        "score": rng.integers(55, 96, n),
        "status": "",
        "other_lp_max": np.round(size * rng.uniform(0.15, 0.45, n), 2),
        "other_govt": np.round(size * rng.uniform(0.0, 0.25, n), 2),
        "local_invest": np.round(size * rng.uniform(0.5, 1.4, n), 2),
        "duration_years": rng.choice([7, 8, 10, 12, 15, 18], n,
                                     p=[0.25, 0.3, 0.27, 0.1, 0.04, 0.04]),
        "stage": stage,
        "fund_kind": kind,
        "invest_type": invest,
        "manager": rng.choice(MANAGERS, n),
        "risk": np.round(np.where(early, rng.uniform(0.4, 0.8, n), rng.uniform(0.1, 0.5, n)),
                         2),
        "call_2025": np.round(rng.uniform(0.2, 0.4, n), 2),
        "call_2026": np.round(rng.uniform(0.2, 0.4, n), 2),
    })
    # a few 产业 funds run longer than the rules allow
    long = (frame["invest_type"] == "产业").to_numpy() & (np.arange(n) % 5 == 0)
    frame.loc[long, "duration_years"] = 12
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rules_table(args.rows, args.seed).to_csv(args.example, index=False, encoding="utf-8-sig")


if __name__ == "__main__":
    main()
