"""Uncertain scores (SPEC §8): the policy's ``[uncertainty]`` table and the scenarios.

A score is a panel's judgement. The policy names the panel (``reviewers``: one score column
per reviewer) or a per-row standard deviation (``spread``). From it come

- the *reviewer scenarios* (one cost vector per reviewer), the scenarios of
  ``--robust worst`` and, with reviewers, of ``--robust cvar``;
- the *draws*: ``draws`` sampled score vectors from ``seed``, for ``fundopt stability``
  and, with a spread, for ``--robust cvar``. They are made here, in one place, from the
  seed alone, so every engine and worker count sees the same numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    EXCLUDE,
    SCORE,
    STATUS,
    Objective,
    Policy,
    Sense,
    Table,
    Uncertainty,
)
from fundopt.models.limits import MAX_SEED
from fundopt.models.reading.table import check_magnitude
from fundopt.models.rules.policy import Locator, check_keys, read_number, read_text

UNCERTAINTY_KEYS = ("reviewers", "spread", "draws", "seed")
MAX_DRAWS = 1_000_000


def parse_uncertainty(value: Any, loc: Locator) -> Uncertainty:
    """Validate the ``[uncertainty]`` table of a policy document.

    Parameters
    ----------
    value
        The table as read (TOML or policy sheet).
    loc
        Where the policy came from, for messages.

    Raises
    ------
    InputError
        Unknown keys (with a "did you mean"), neither or both of reviewers and spread, a
        reviewer list that is empty or repeats a column, draws < 1 or a negative seed.
    """
    if not isinstance(value, Mapping):
        raise loc.error("uncertainty", "input.uncertainty.not_table", value=value)
    check_keys(value, UNCERTAINTY_KEYS, "uncertainty", loc)
    given = [key for key in ("reviewers", "spread") if key in value]
    if len(given) != 1:
        raise loc.error("uncertainty", "input.uncertainty.kind",
                        value=given or None)
    reviewers = _reviewers(value["reviewers"], loc) if "reviewers" in value else ()
    spread = read_text(value["spread"], "uncertainty.spread", loc) if "spread" in value else None
    draws = int(read_number(value["draws"], "uncertainty.draws", loc, lo=1.0, hi=MAX_DRAWS,
                       integer=True)) if "draws" in value else Uncertainty.draws
    seed = parse_seed(value["seed"], loc) if "seed" in value else Uncertainty.seed
    return Uncertainty(reviewers=reviewers, spread=spread, draws=draws, seed=seed)


def parse_seed(value: Any, loc: Locator) -> int:
    """``seed``: a whole number in [0, ``MAX_SEED``], the same range as ``--seed`` (a seed
    is no amount: the solver's magnitude limit does not apply, nor float rounding).

    Raises
    ------
    InputError
        Not a whole number, negative or above ``MAX_SEED``.
    """
    if isinstance(value, str) and loc.lenient:            # a policy sheet's cell
        value = value.strip()
        value = int(value) if value.isdigit() else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise InputError(code="uncertainty.seed", values={"limit": MAX_SEED}, file=loc.file,
                         column="uncertainty.seed", value=value)
    return value


def require_uncertainty(policy: Policy, command: str) -> Uncertainty:
    """The policy's ``[uncertainty]``; ``command`` (``stability``, ``--robust``) needs it,
    and an objective the scores are about: one maximized column, or the reviewers' mean.

    Raises
    ------
    InputError
        The policy has no ``[uncertainty]`` table, or weights or minimizes its objective
        (a scenario may do that for ``solve``; the draws would have no meaning).
    """
    if policy.uncertainty is None:
        raise InputError(code="input.uncertainty.no_table",
                         values={"command": command}, file=policy.source, column="uncertainty")
    objective = policy.objective
    if objective.sense is not Sense.MAXIMIZE or objective.normalize:
        raise InputError(code="input.uncertainty.objective",
                         values={"command": command}, file=policy.source, column="objective")
    return policy.uncertainty


def with_panel_score(table: Table, policy: Policy) -> Table:
    """SPEC §8: the objective column (``score``) is the reviewers' mean unless given. A
    table without a ``score`` column whose policy maximizes ``score`` and names
    ``reviewers`` gets it as their mean (0 where a reviewer's cell is blank: such a row
    must be excluded, which :func:`check_uncertainty` checks). Any other table is
    returned as it is."""
    u = policy.uncertainty
    if u is None or not u.reviewers or SCORE in table.frame.columns \
            or SCORE not in policy.objective.weights \
            or not all(c in table.numeric_columns for c in u.reviewers):
        return table
    frame = table.frame.copy()
    frame[SCORE] = np.nan_to_num(frame.loc[:, list(u.reviewers)].to_numpy(float)).mean(axis=1)
    return replace(table, frame=frame, numeric_columns=table.numeric_columns | {SCORE})


def panel_objective(uncertainty: Uncertainty) -> Objective:
    """The objective when the policy gives none: the mean of the reviewers' scores."""
    k = len(uncertainty.reviewers)
    return Objective(Sense.MAXIMIZE, {column: 1.0 / k for column in uncertainty.reviewers},
                     normalize=False)


def _reviewers(value: Any, loc: Locator) -> tuple[str, ...]:
    path = "uncertainty.reviewers"
    if isinstance(value, str) and loc.lenient:      # a policy sheet cell: "评审A, 评审B"
        value = [part for part in value.replace("，", ",").split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise loc.error(path, "input.uncertainty.reviewers_not_list", value=value)
    columns = tuple(read_text(item, path, loc) for item in value)
    repeated = [c for i, c in enumerate(columns) if c in columns[:i]]
    if repeated:
        raise loc.error(path, "input.uncertainty.reviewer_twice",
                        {"column": repeated[0]}, value=list(columns))
    return columns


def check_uncertainty(policy: Policy, table: Table) -> None:
    """Check the ``[uncertainty]`` columns against the table (nothing to do without one).

    Raises
    ------
    InputError
        A reviewer or spread column that is missing or not numeric (naming the closest
        column), a blank in a row that can be funded, or a negative spread (naming the row).
    """
    uncertainty = policy.uncertainty
    if uncertainty is None:
        return
    if uncertainty.reviewers:
        for column in uncertainty.reviewers:
            _column(policy, table, column, "uncertainty.reviewers")
    else:
        assert uncertainty.spread is not None
        values = _column(policy, table, uncertainty.spread, "uncertainty.spread")
        negative = np.flatnonzero(values < 0)
        if len(negative):
            i = int(negative[0])
            raise InputError(code="input.uncertainty.negative_spread",
                             file=str(table.path), row=table.source_rows[i],
                             column=table.headers.get(uncertainty.spread, uncertainty.spread),
                             value=float(values[i]))


def _column(policy: Policy, table: Table, column: str, key: str) -> np.ndarray:
    """A numeric column with a value in every row that is not excluded."""
    numeric = [c for c in table.frame.columns if c in table.numeric_columns]
    if column not in table.numeric_columns:
        missing = column not in table.frame.columns
        close = difflib.get_close_matches(column, [str(c) for c in table.frame.columns], n=1)
        raise InputError(
            code="input.uncertainty.no_column" if missing else "input.uncertainty.not_numeric",
            values={"column": column, "table": str(table.path),
                    "numeric": ", ".join(map(str, numeric))},
            file=policy.source, column=key, value=column,
            hint=Message("input.did_you_mean", {"close": close[0]})
            if close and close[0] != column else None)
    check_magnitude(table, column)      # the draws and --robust put them in the model
    values = table.frame[column].to_numpy(float)
    live = (table.frame[STATUS].to_numpy() != EXCLUDE if STATUS in table.frame.columns
            else np.ones(len(values), dtype=bool))
    blank = np.flatnonzero(live & np.isnan(values))
    if len(blank):
        i = int(blank[0])
        raise InputError(code="input.uncertainty.blank",
                         values={"column": column}, file=str(table.path),
                         row=table.source_rows[i], column=table.headers.get(column, column))
    return np.nan_to_num(values)


def nominal_scores(table: Table, policy: Policy) -> np.ndarray:
    """The objective column the uncertainty is about: the score the draws vary around."""
    weights = policy.objective.weights
    return sum((w * np.nan_to_num(table.frame[c].to_numpy(float)) for c, w in weights.items()),
               np.zeros(len(table.frame)))


def reviewer_scores(table: Table, policy: Policy) -> np.ndarray:
    """One row per reviewer: that reviewer's scores (blank in an excluded row → 0)."""
    assert policy.uncertainty is not None
    return np.vstack([np.nan_to_num(table.frame[c].to_numpy(float))
                      for c in policy.uncertainty.reviewers])


def score_draws(table: Table, policy: Policy, draws: int | None = None,
                seed: int | None = None) -> np.ndarray:
    """The sampled score vectors, one row per draw, from the seed alone (SPEC §8).

    With reviewers, each draw takes every row's score from a reviewer chosen at random for
    that row (a bootstrap over the panel); with a spread, each draw is
    ``score + spread·N(0, 1)``, truncated at 0.

    Parameters
    ----------
    table, policy
        Validated inputs; the policy has an ``[uncertainty]`` table.
    draws, seed
        Override the policy's ``draws`` and ``seed`` (the command line's ``--draws``,
        ``--seed``).

    Returns
    -------
    np.ndarray
        Shape (draws, rows).
    """
    uncertainty = policy.uncertainty
    assert uncertainty is not None
    count = uncertainty.draws if draws is None else draws
    rng = np.random.default_rng(uncertainty.seed if seed is None else seed)
    n = len(table.frame)
    if uncertainty.reviewers:
        panel = reviewer_scores(table, policy)
        chosen = rng.integers(0, len(panel), size=(count, n))
        return panel[chosen, np.arange(n)]
    assert uncertainty.spread is not None
    spread = np.nan_to_num(table.frame[uncertainty.spread].to_numpy(float))
    noise = rng.standard_normal((count, n))
    return np.maximum(nominal_scores(table, policy) + spread * noise, 0.0)
