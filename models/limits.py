"""What fundopt accepts at most, in one place (docs/reliability.md lists the same figures).

Each limit stops a run with an input error (exit 2) before memory or time grows with a
hostile or broken file; none is anywhere near what a real fund table or policy needs.
"""

from __future__ import annotations

MAX_TABLE_BYTES = 2 * 1024**3
"""Size of a table file (.csv or .xlsx) on disk."""

MAX_TOML_BYTES = 16 * 1024**2
"""Size of a policy or scenario file (TOML) on disk."""

MAX_TOML_DEPTH = 32
"""Nesting of tables and arrays in a policy or scenario file (a real policy uses 4)."""

MAX_XLSX_UNPACKED = 1024**3
"""What the parts of one .xlsx workbook may unpack to in total, as their headers declare
it (the unzipping stops there). A 100 000-row table unpacks to about 60 MB; Excel's
largest sheet, 1 048 576 rows of such a table, to about 600 MB."""

MAX_CELL_CHARS = 32_767
"""Characters in one cell: Excel's own limit. Checked on the workbook's XML before it is
parsed (a text node longer than 6 bytes a character is refused), then exactly."""

MAX_SWEEP_POINTS = 10_000
"""Points of one ``fundopt sweep``."""

MAX_MAGNITUDE = 1e12
"""Largest absolute value of an amount, score or other number the model uses. HiGHS takes
matrix entries below 1e15 and treats costs and bounds from 1e20 as infinite; 1e12 leaves
room for sums of many rows and is 10 000亿 in 亿元 (or 1万亿元 in 元)."""

MAX_PLAN_BYTES = 256 * 1024**2
"""Size of a plan file (``book add``, ``verify``): the plan of a 100 000-row table is
about 10 MB as JSON."""

MAX_JSON_DEPTH = 32
"""Nesting of objects and arrays in a plan JSON (a solve result uses 4); checked on the
text before it is parsed."""

MAX_SEED = 2**63 - 1
"""Largest seed of the score draws, in the policy (``[uncertainty] seed``) and on the
command line (``--seed``) alike: what numpy's generator takes as one 64-bit word."""

MIN_STEP_FRACTION = 1e-6
"""Smallest ``amount_step`` as a fraction of the budget. A step of 1e-6 × budget already
gives each amount up to a million integer steps, at the edge of what HiGHS' integer
feasibility tolerance (1e-6) resolves exactly; finer steps gave false "infeasible"
verdicts or ran for minutes (1e-8, 5e-9, 1e-12 with a budget of 40). In 亿元 it allows
steps down to 0.00004 亿元 (4 000 元) for a budget of 40 亿元."""
