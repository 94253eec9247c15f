"""Typed, frozen domain values shared by every layer.

The candidate table itself stays a pandas DataFrame (see ``models.reading.table``); everything
else the planner states is turned into the values below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

# Canonical column names of the sub-fund table (SPEC §2).
ID, NAME, REGION, DISTRICT, CATEGORY = "id", "name", "region", "district", "category"
MAX_TICKET, MIN_TICKET, FUND_SIZE, SCORE, STATUS = (
    "max_ticket", "min_ticket", "fund_size", "score", "status",
)
KNOWN_COLUMNS = (ID, NAME, REGION, DISTRICT, CATEGORY, MAX_TICKET, MIN_TICKET, FUND_SIZE,
                 SCORE, STATUS)
REQUIRED_COLUMNS = (ID, NAME, REGION, CATEGORY, MAX_TICKET)
# Values of the normalised ``status`` column.
MUST, EXCLUDE = "must", "exclude"


class Measure(StrEnum):
    """What a policy constraint measures over the rows it selects (SPEC §3)."""

    AMOUNT = "amount"
    SHARE = "share"
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    FUNDED = "funded"     # Σ EXPR·y over the funded rows (SPEC §11)
    RATIO = "ratio"       # M1 / M2 of amount, count, sum(EXPR), funded(EXPR)
    GROUPS = "groups"     # distinct values of a column among the funded rows


@dataclass(frozen=True)
class Part:
    """One side of a ratio (SPEC §11): ``amount``, ``count``, ``sum(EXPR)`` or
    ``funded(EXPR)``; ``expression`` is None for amount and count."""

    kind: Measure
    expression: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}({self.expression})" if self.expression else str(self.kind)

    @property
    def on_funded(self) -> bool:
        """Whether it counts funded rows (y) rather than money (x)."""
        return self.kind in (Measure.COUNT, Measure.FUNDED)


class Scope(StrEnum):
    """Whose commitments a constraint measures (SPEC §9): this round's, or the fund's
    (the rounds in the book plus this one)."""

    ROUND = "round"
    FUND = "fund"


class Sense(StrEnum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


@dataclass(frozen=True)
class Table:
    """A validated sub-fund table.

    ``frame`` has the canonical columns (``id`` … ``status``) plus every other column
    under its own header. Numeric columns are float64 (blank → NaN); text columns are
    trimmed strings (blank → ""). ``status`` holds "must", "exclude" or "".
    ``source_rows[i]`` is the spreadsheet row number of frame row i (header = 1), used
    in error messages. ``headers`` maps canonical/extra column names back to the header
    text the planner wrote.
    """

    path: Path
    frame: pd.DataFrame
    source_rows: tuple[int, ...]
    headers: dict[str, str]
    numeric_columns: frozenset[str]
    sha256: str
    # For .xlsx tables: the raw ``policy`` and ``constraints`` sheets, if present
    # (list of rows, each a list of cell values, header row first).
    policy_sheet: tuple[tuple[object, ...], ...] | None = None
    constraints_sheet: tuple[tuple[object, ...], ...] | None = None
    # Unit written in a numeric column's header (最高出资（万元）→ {"max_ticket": "万元"}),
    # while its values are not yet in the policy's unit; empty once converted.
    units: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None        # the .xlsx sheet the table was read from
    # The status cells as the planner wrote them (必投, Must …): outputs show these, never
    # the canonical word, where they still mean the row's status (issue 20).
    written_status: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Objective:
    """Σ c_i·x_i with c = Σ_k weight_k · column_k / scale_k.

    For ``maximize = "score"`` weights is {"score": 1.0} and ``normalize`` is False; for
    ``weights = {...}`` each column is divided by its max |value| (``normalize`` True).
    """

    sense: Sense = Sense.MAXIMIZE
    weights: dict[str, float] = field(default_factory=lambda: {SCORE: 1.0})
    normalize: bool = False


@dataclass(frozen=True)
class Range:
    """A ``where`` condition ``{ min = A, max = B }`` on a numeric column (SPEC §11):
    rows whose value lies in [A, B]; either end may be open (None). A blank never does."""

    min: float | None = None
    max: float | None = None

    def contains(self, numbers: np.ndarray) -> np.ndarray:
        """Which of ``numbers`` (NaN = blank) lie in the range."""
        inside = ~np.isnan(numbers)
        if self.min is not None:
            inside &= numbers >= self.min
        if self.max is not None:
            inside &= numbers <= self.max
        return inside

    def __str__(self) -> str:
        lo = "" if self.min is None else f"{self.min:g}"
        hi = "" if self.max is None else f"{self.max:g}"
        return f"{lo}..{hi}"


@dataclass(frozen=True)
class Not:
    """A ``where`` condition ``{ not = [values] }``: every row except these values."""

    values: tuple[str, ...]

    def __str__(self) -> str:
        return "not " + "|".join(self.values)


# What a ``where`` column must hold: one of some values (``("*",)``: one constraint per
# value), a numeric range, or anything but some values.
Condition = tuple[str, ...] | Range | Not
Where = tuple[tuple[str, Condition], ...]


def describe_condition(condition: Condition) -> str:
    """``滨海新区|西青区``, ``..10`` (a range), ``not TJ-BH-01``."""
    if isinstance(condition, Range | Not):
        return str(condition)
    return "|".join(condition)


@dataclass(frozen=True)
class Rule:
    """One constraint as the planner wrote it, before ``"*"`` is expanded.

    ``where`` maps a column to the accepted values; the value ``("*",)`` means one
    constraint per distinct value of that column. ``origin`` says where it was written
    ("region.天津", "constraints[2]") and ``min_key``/``max_key`` the keys that held the
    bounds ("min_share", "min"), so reports can speak the planner's words.
    """

    name: str | None
    where: Where
    measure: Measure
    column: str | None          # for sum(COL) / avg(COL)
    min: float | None
    max: float | None
    origin: str
    min_key: str = "min"
    max_key: str = "max"
    scope: Scope = Scope.ROUND
    ratio: tuple[Part, Part] | None = None    # numerator, denominator of a RATIO
    # SPEC §11 targets (力争): may be missed at ``penalty`` objective per unit of shortfall
    target: bool = False
    penalty: float | None = None

    @property
    def measure_text(self) -> str:
        """The measure as written: ``avg(risk)``, ``funded(fund_size) / amount``."""
        if self.ratio is not None:
            return f"{self.ratio[0]} / {self.ratio[1]}"
        return f"{self.measure}({self.column})" if self.column else str(self.measure)

    @property
    def expressions(self) -> tuple[str, ...]:
        """Every column expression the measure reads."""
        if self.ratio is not None:
            return tuple(p.expression for p in self.ratio if p.expression)
        if self.measure is Measure.GROUPS:        # a column of values, not a number
            return ()
        return (self.column,) if self.column else ()


@dataclass(frozen=True)
class Eligibility:
    """One ``[[eligible]]`` entry (SPEC §11): a row that fails ``where`` gets 0, is
    listed as ineligible with ``name`` and the failing value, and counts nowhere."""

    name: str
    where: Where
    origin: str                  # "eligible[1]"


@dataclass(frozen=True)
class Limit:
    """One ``[[limits]]`` entry (SPEC §11): per-row bounds on the commitment of every row
    ``where`` selects. ``max`` / ``min`` are column expressions (x ≤ max; x ≥ min if
    funded), ``max_stake`` / ``min_stake`` fractions of ``fund_size``. They become the
    row's ticket bounds (the tightest wins), never rows of the model."""

    name: str | None
    where: Where
    max: str | None
    min: str | None
    max_stake: float | None
    min_stake: float | None
    origin: str                  # "limits[1]"

    @property
    def label(self) -> str:
        return self.name or self.origin


@dataclass(frozen=True)
class BookedPart:
    """What the book adds to one ``scope = "fund"`` constraint (SPEC §9).

    Over the booked commitments the constraint selects: ``amount`` = Σ amount,
    ``weighted`` = Σ COL·amount (``sum`` / ``avg``; 0 otherwise), ``ids`` = their distinct
    sub-fund ids. ``total`` is every booked commitment (a share's denominator is
    ``total`` + budget). For ``funded(EXPR)``, ``weighted`` is Σ EXPR over the distinct
    booked ids (each sub-fund once, its latest booked row); for a ratio, ``sides`` holds
    what the book adds to M1 and M2; for ``groups(COL)``, ``values`` are the values of
    COL the book already covers (SPEC §11).
    """

    amount: float
    weighted: float
    ids: frozenset[str]
    total: float
    sides: tuple[float, float] = (0.0, 0.0)
    values: frozenset[str] = frozenset()


class CaptionKind(StrEnum):
    """How a constraint was written, which decides how it is named for people."""

    BUILTIN = "builtin"        # the budget or the funded count (``subject``: budget, funded)
    SHORTHAND = "shorthand"    # a [region.X] / [category.X] / [district.X] line
    NAMED = "named"            # a [[constraints]] line with the planner's ``name``
    GENERAL = "general"        # an unnamed [[constraints]] line: named by measure and where


@dataclass(frozen=True)
class Caption:
    """What a constraint is, as data: the reports turn it into words from the catalogs
    (``reports.captions``), in the language asked for. Made where the constraint is made
    (``models.rules.expansion``), never parsed back from a label.

    ``subject`` is the built-in line's name (``budget``), the shorthand's column
    (``region``) or the planner's name (``risk cap``); ``value`` the shorthand's values;
    ``measure`` the measure as (kind, expression) parts, two for a ratio; ``where`` the
    fixed conditions of a general line; ``rows`` the (column, value) pairs ``"*"`` took
    for this line; ``number`` the k of a label made unique with `` #k``.
    """

    kind: CaptionKind
    subject: str = ""
    value: Condition = ()
    measure: tuple[tuple[str, str | None], ...] = ()
    where: Where = ()
    rows: tuple[tuple[str, str], ...] = ()
    number: int = 1

    @property
    def family(self) -> Caption:
        """The caption of the rule this line is one of: a ``"*"`` line with its values
        as ``*``, a shorthand line with any value (``district * count``)."""
        if self.kind is CaptionKind.SHORTHAND:
            return replace(self, value=("*",), number=1)
        return replace(self, rows=tuple((c, "*") for c, _ in self.rows), number=1)

    @property
    def in_family(self) -> bool:
        """Whether the line is one of a family (a shorthand line or a ``"*"`` line)."""
        return self.kind is CaptionKind.SHORTHAND or bool(self.rows)


@dataclass(frozen=True)
class Constraint:
    """One policy constraint after ``"*"`` expansion: the unit the model, the reports and
    the diagnosis all speak of.

    ``id`` is a stable, solver-safe name (``c7``); ``label`` is what humans read
    ("region 天津 share"); ``where`` has no ``"*"`` left.
    """

    id: str
    label: str
    rule: Rule
    where: Where
    measure: Measure
    column: str | None
    min: float | None
    max: float | None
    # The bounds as the planner wrote them, where they differ from min/max: the budget
    # line's min is min_deploy·budget, written as the fraction min_deploy.
    written: tuple[float | None, float | None] | None = None
    # Sides ("min"/"max") a diagnosis never moves: the budget is the capital at hand.
    hard: tuple[str, ...] = ()
    # For scope = "fund" with a book: what the earlier rounds add (optimizer.fund).
    booked: BookedPart | None = None
    # What it is, for people (None: a constraint made outside ``models.rules.expansion``, shown
    # by its label)
    caption: Caption | None = None

    @property
    def keys(self) -> tuple[str, str]:
        """The policy keys of the min and the max, as written (``region.天津.min_share``)."""
        prefix = f"{self.rule.origin}." if self.rule.origin else ""
        return prefix + self.rule.min_key, prefix + self.rule.max_key

    def as_written(self, side: str, value: float | None = None) -> float | None:
        """The ``side`` bound (or ``value`` in its units) in the units the planner wrote."""
        bound = self.min if side == "min" else self.max
        if self.written is None or bound is None:
            return bound if value is None else value
        literal = self.written[0 if side == "min" else 1]
        if value is None or literal is None:
            return literal
        return value * literal / bound if bound else value


    def with_written(self, side: str, value: float) -> Constraint:
        """This constraint with its ``side`` bound set to ``value``, in written units."""
        i = 0 if side == "min" else 1
        bound, literal = (self.min, self.max)[i], None if self.written is None \
            else self.written[i]
        scaled = value * bound / literal if bound is not None and literal else value
        written = None
        if self.written is not None:
            written = (value, self.written[1]) if i == 0 else (self.written[0], value)
        if i == 0:
            return replace(self, min=scaled, written=written)
        return replace(self, max=scaled, written=written)


@dataclass(frozen=True)
class Uncertainty:
    """The policy's ``[uncertainty]`` table (SPEC §8): how uncertain the scores are.

    Exactly one of ``reviewers`` (one score column per reviewer of the panel) and
    ``spread`` (a column of per-row standard deviations of the objective column) is given.
    ``draws`` scenarios are sampled from ``seed`` for ``stability`` and, with a spread,
    for ``--robust cvar``.
    """

    reviewers: tuple[str, ...] = ()
    spread: str | None = None
    draws: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class ReportInfo:
    """The policy's ``[report]`` table (SPEC §12): what the decision memo's cover says.

    None means not given: the memo says so rather than invent a fund or a round.
    """

    title: str | None = None
    fund: str | None = None
    round: str | None = None
    prepared_by: str | None = None


@dataclass(frozen=True)
class Policy:
    """The planner's policy (SPEC §3), validated but not yet expanded against a table."""

    budget: float
    source: str = "<policy>"   # file the policy came from, for messages and the manifest
    unit: str = "亿元"
    min_deploy: float = 0.0
    max_stake: float | None = None
    max_single: float | None = None
    min_ticket: float = 0.0
    # Commitments are whole multiples of this (SPEC §7: 0.01 亿元 = 100万元); None: any.
    amount_step: float | None = None
    max_funded: int | None = None
    min_funded: int | None = None
    objective: Objective = field(default_factory=Objective)
    rules: tuple[Rule, ...] = ()
    sha256: str | None = None
    uncertainty: Uncertainty | None = None
    report: ReportInfo = field(default_factory=ReportInfo)
    eligible: tuple[Eligibility, ...] = ()      # SPEC §11 [[eligible]]
    limits: tuple[Limit, ...] = ()              # SPEC §11 [[limits]]
    # SPEC §11 [values]: (column, the values it may take), in the order declared
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
