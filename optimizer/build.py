"""Build the LP / MILP of SPEC §4 from the table's columns, vectorised.

The model is held as arrays (costs, bounds, a row-wise sparse matrix) in the order it is
built: sub-fund commitments x first, in input order, then one binary y per row that needs
one. Solvers receive it in bulk (``optimizer.solve``); PuLP gets the same model through
``optimizer.pulp_model``. Every row of the matrix is tagged with the policy line it comes
from, so reports, duals and diagnoses can point back at what the planner wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    EXCLUDE,
    FUND_SIZE,
    ID,
    MAX_TICKET,
    MIN_TICKET,
    MUST,
    STATUS,
    Constraint,
    Measure,
    Part,
    Policy,
    Table,
)
from fundopt.models.rules.eligibility import ineligible_rows
from fundopt.models.rules.expansion import Where, eligible_mask, selection_mask, with_builtins
from fundopt.models.rules.expression import column_values
from fundopt.models.rules.row_limits import RowBound, row_bounds
from fundopt.optimizer import fund
from fundopt.optimizer.amounts import Grid, grid
from fundopt.optimizer.appended import add_groups, add_shortfalls
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    RowKind,
    Rows,
    RowTag,
    policy_rows,
)
from fundopt.optimizer.result import Warning_

# The rows a constraint's where selects (bool per row).
Select = Callable[[Where], np.ndarray]


@dataclass(frozen=True)
class Bounds:
    """Per-row effective ticket bounds (SPEC §4): lower l, upper u, and what caps u; with
    ``amount_step`` l is rounded up and u down to whole steps (SPEC §7)."""

    lower: np.ndarray
    upper: np.ndarray
    cap: np.ndarray              # name of the binding cap per row
    fundable: np.ndarray         # bool: can receive money at all
    grid: Grid                   # the amounts' step and decimals


@dataclass(frozen=True)
class Built:
    """The model with what it was built from: the constraints behind its rows (the budget
    and funded-count lines first), the ticket bounds, warnings and reasons why it is
    infeasible before any solve (a ``must`` row that cannot be funded)."""

    model: LinearModel
    constraints: tuple[Constraint, ...]
    bounds: Bounds
    warnings: tuple[Warning_, ...]
    infeasible_reasons: tuple[Message, ...]


def ticket_bounds(table: Table, policy: Policy, follow_on: np.ndarray | None = None) -> Bounds:
    """u = min(max_ticket, max_stake·fund_size, max_single·budget, budget);
    l = min_ticket or the policy's default; both on the ``amount_step`` grid.

    ``follow_on`` (per row: what the fund's book holds for the same sub-fund) comes off
    the stake cap: ``max_stake`` holds for booked plus new (SPEC §9)."""
    frame = table.frame
    n = len(frame)
    caps = {MAX_TICKET: frame[MAX_TICKET].to_numpy(float)}
    if policy.max_stake is not None and FUND_SIZE in frame:
        stake_cap = policy.max_stake * frame[FUND_SIZE].to_numpy(float)
        stake_cap = np.maximum(fund.stake_room(follow_on, stake_cap), 0.0)
        caps["max_stake"] = np.where(np.isnan(stake_cap), INF, stake_cap)
    if policy.max_single is not None:
        caps["max_single"] = np.full(n, policy.max_single * policy.budget)
    # no commitment exceeds the capital at hand: keeps every column bounded
    caps["budget"] = np.full(n, policy.budget)
    limit_caps, limit_floors = row_bounds(table, policy, follow_on)
    for bound in limit_caps:                       # [[limits]] max / max_stake (SPEC §11)
        caps[_limit_name(bound)] = np.where(np.isnan(bound.values), INF,
                                            np.maximum(bound.values, 0.0))
    stacked = np.vstack(list(caps.values()))
    which = stacked.argmin(axis=0)
    upper = stacked[which, np.arange(n)]
    cap = np.array(list(caps))[which]
    if MIN_TICKET in frame:
        lower = frame[MIN_TICKET].fillna(policy.min_ticket).to_numpy(float)
    else:
        lower = np.full(n, policy.min_ticket)
    floor = np.full(n, "", dtype=object)
    for bound in limit_floors:                     # [[limits]] min / min_stake: if funded
        raised = ~np.isnan(bound.values) & (bound.values > lower)
        lower = np.where(raised, bound.values, lower)
        floor[raised] = _limit_name(bound)
    # A cap that is a product (0.3 × 3 = 0.8999999999999999) must not block a ticket equal
    # to it (0.9): within rounding, the ticket fits.
    upper = np.where(np.isclose(lower, upper, rtol=1e-9, atol=0.0), np.maximum(upper, lower),
                     upper)
    on = grid(policy.budget, policy.amount_step)
    if on.step is not None:
        lower = on.round(np.ceil(lower / on.step - 1e-9) * on.step)
        upper = on.round(np.floor(upper / on.step + 1e-9) * on.step)
    status = frame[STATUS].to_numpy() if STATUS in frame else np.full(n, "")
    fundable = (lower <= upper) & (upper > 0) & (status != EXCLUDE) \
        & eligible_mask(table, policy)
    # a blocked row is blamed on its cap when a limit set it, else on a limit's floor
    limit_cap = np.isin(cap, [_limit_name(bound) for bound in limit_caps])
    cap = np.where((lower > upper) & (floor != "") & ~limit_cap, floor, cap)
    return Bounds(lower=lower, upper=upper, cap=cap, fundable=fundable, grid=on)


def _limit_name(bound: RowBound) -> str:
    """How a limit's bound is named where it blocks a row: ``不是最大出资人 (limits[2].max)``."""
    return bound.key if bound.label == bound.key.rsplit(".", 1)[0] \
        else f"{bound.label} ({bound.key})"


def objective_costs(table: Table, policy: Policy) -> np.ndarray:
    """c_i of SPEC §3 ``[objective]``: one column, or weighted columns scaled by max |value|."""
    frame = table.frame
    cost = np.zeros(len(frame))
    for column, weight in policy.objective.weights.items():
        values = frame[column].to_numpy(float)
        if policy.objective.normalize:
            scale = np.abs(values).max()
            values = values / scale if scale > 0 else values
        cost += weight * values
    return cost


def build(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
          select: Select | None = None, follow_on: np.ndarray | None = None,
          follow_on_rounds: np.ndarray | None = None) -> Built:
    """Build the model of SPEC §4.

    Parameters
    ----------
    table, policy
        The validated inputs.
    constraints
        ``models.rules.policy.expand(policy, table)``: the policy constraints, ``"*"`` expanded.
        The budget and the funded-count rule are added in front as ordinary constraints
        (``models.rules.expansion.with_builtins``) unless they are there already. Fund-scope
        constraints carry what the book adds to them (``optimizer.fund``).
    select
        The rows a ``where`` selects (default ``selection_mask``); a ``Problem`` passes
        its cache, so a re-built point does not select again.
    follow_on
        Per row, what the fund's book holds for the same sub-fund (``solve --book``).
    follow_on_rounds
        Per row, the rounds that booked it (named where a follow-on's stake is full).

    Returns
    -------
    Built
        The model, the constraints behind its rows, the ticket bounds, warnings (rows
        that cannot be funded) and reasons why the model is infeasible before any solve.

    Raises
    ------
    InputError
        A ``must`` row with no positive minimum ticket, a count floor over rows that
        could be "funded" with zero money, ``scope = "fund"`` without a book.
    """
    constraints = with_builtins(policy, constraints)
    fund.check_fund_scope(constraints, policy)
    bounds = ticket_bounds(table, policy, follow_on)
    n = len(table.frame)
    status = table.frame[STATUS].to_numpy() if STATUS in table.frame else np.full(n, "")
    must = status == MUST
    _check_must(table, bounds, must)
    warnings, reasons = _unfundable(table, bounds, must, status == EXCLUDE,
                                    _Held(policy, follow_on, follow_on_rounds))
    warnings = _ineligible(table, policy) + warnings

    select = select or partial(selection_mask, table)
    masks = {c.id: fund.counted_rows(table, c, select(c.where) & bounds.fundable)
             for c in constraints}
    counted = [c for c in constraints if _on_funded(c)]
    needs_binary = bounds.fundable & (bounds.lower > 0)
    for c in counted:
        needs_binary |= masks[c.id]
    _check_count_floors(table, counted, masks, bounds)
    reasons = reasons + _no_candidate(table, policy, constraints, masks)

    binary_rows = np.flatnonzero(needs_binary)
    nb = len(binary_rows)
    fundable = bounds.fundable
    x_upper = np.where(fundable, bounds.upper, 0.0)
    x_lower = np.where(must & fundable, bounds.lower, 0.0)
    y_lower = must[binary_rows].astype(float)
    cost = np.concatenate([objective_costs(table, policy), np.zeros(nb)])

    rows = Rows()
    y_of = np.full(n, -1)
    y_of[binary_rows] = n + np.arange(nb)
    for c in constraints:
        _add_constraint(rows, table, policy, c, masks[c.id], y_of)
    _add_links(rows, binary_rows, bounds, n)
    stepped, k_upper = _add_steps(rows, bounds, n + nb)
    ns = len(stepped)
    cost = np.concatenate([cost, np.zeros(ns)])

    start, index, value, row_lower, row_upper, tags = rows.csr()
    model = LinearModel(
        sense=policy.objective.sense,
        cost=cost,
        col_lower=np.concatenate([x_lower, y_lower, np.zeros(ns)]),
        col_upper=np.concatenate([x_upper, np.ones(nb), k_upper]),
        integer=np.concatenate([np.zeros(n, bool), np.ones(nb + ns, bool)]),
        start=start, index=index, value=value,
        row_lower=row_lower, row_upper=row_upper, tags=tags,
        n=n, binary_rows=binary_rows,
    )
    model = add_shortfalls(add_groups(model, table, constraints, masks, y_of), constraints)
    return Built(model=model, constraints=constraints, bounds=bounds, warnings=warnings,
                 infeasible_reasons=reasons)


def rebound(built: Built, table: Table, old: Policy, policy: Policy,
            constraints: tuple[Constraint, ...], select: Select) -> Built | None:
    """``built`` moved from policy ``old`` to ``policy`` without building it again, when
    the two differ only in bounds that are row bounds: ``min_deploy``, ``max_funded`` /
    ``min_funded`` and the min / max of amount, share, count and sum constraints (a
    sweep point or a relaxation of one). The matrix, columns and costs stay; only the
    policy rows' bounds change, as :func:`build` would set them.

    Returns None when anything else differs — the budget and the other ticket keys, the
    objective, a constraint's selection, measure or scope, an ``avg``, ratio or ``groups``
    bound (it sits in the coefficients, or in rows built with the value binaries), a
    bound given or taken away where that adds or drops a row: the model must then be
    built again.

    Raises
    ------
    InputError
        A count floor the new bounds make unsatisfiable with money (as :func:`build`).
    """
    if _ticket_side(old) != _ticket_side(policy):
        return None
    new = with_builtins(policy, constraints)
    if len(new) != len(built.constraints) or any(
            _shape(a) != _shape(b)
            or (a.measure in _BOUND_IN_ROWS and (a.min, a.max) != (b.min, b.max))
            for a, b in zip(built.constraints, new, strict=True)):
        return None
    counted = [c for c in new if c.measure is Measure.COUNT]
    _check_count_floors(table, counted, {
        c.id: fund.counted_rows(table, c, select(c.where) & built.bounds.fundable)
        for c in counted}, built.bounds)
    by_id = {c.id: c for c in new}
    model = built.model
    lower, upper = model.row_lower.copy(), model.row_upper.copy()
    for r, tag in enumerate(model.tags[: policy_rows(model)]):
        c = by_id[tag.key]
        if c.measure is Measure.COUNT:
            booked = fund.row_offset(c)
            lower[r] = (-INF if c.min is None else c.min) - booked
            upper[r] = (INF if c.max is None else c.max) - booked
        elif c.measure not in _BOUND_IN_ROWS:
            lower[r], upper[r], _, _ = _row_bounds(c, policy)
    return replace(built, model=model.with_rows(lower, upper), constraints=new)


# Measures whose bound is not a row bound: an avg's and a ratio's sit in the coefficients,
# a groups line's row is built with its value binaries. A change of them is a rebuild.
_BOUND_IN_ROWS = (Measure.AVG, Measure.RATIO, Measure.GROUPS)


def _ticket_side(policy: Policy) -> Policy:
    """``policy`` without what :func:`rebound` may change (and what names it)."""
    return replace(policy, min_deploy=0.0, max_funded=None, min_funded=None, rules=(),
                   source="", sha256=None)


def _shape(c: Constraint) -> Constraint:
    """``c`` without its bounds: what must stay for :func:`rebound` to apply."""
    return replace(c, min=None, max=None, written=None,
                   rule=replace(c.rule, min=None, max=None))


def fixed_lp(built: Built, binaries: np.ndarray) -> LinearModel:
    """The LP left when every binary is fixed (``binaries``: 0/1 per binary column).

    Binaries become fixed continuous columns and the linking rows become bounds on x:
    l ≤ x ≤ u where y = 1, x = 0 where y = 0. The linking rows, built last, are dropped,
    so the LP has only the policy rows, numbered as in ``built.model``: at 10 000 rows the
    LP with the linking rows kept took 2.7 s to solve, longer than the rest of the run.
    """
    model = built.model
    y = np.round(binaries).astype(float)
    rows, on = model.binary_rows, y > 0.5
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    binary = slice(model.n, model.n + len(rows))
    lower[binary] = upper[binary] = y
    lower[rows[on]] = np.maximum(lower[rows[on]], built.bounds.lower[rows[on]])
    upper[rows[on]] = np.minimum(upper[rows[on]], built.bounds.upper[rows[on]])
    lower[rows[~on]] = upper[rows[~on]] = 0.0
    kept = policy_rows(model)
    end = int(model.start[kept])
    return replace(model, col_lower=lower, col_upper=upper,
                   integer=np.zeros_like(model.integer), start=model.start[: kept + 1],
                   index=model.index[:end], value=model.value[:end],
                   row_lower=model.row_lower[:kept], row_upper=model.row_upper[:kept],
                   tags=model.tags[:kept])


def _add_constraint(rows: Rows, table: Table, policy: Policy, c: Constraint,
                    mask: np.ndarray, y_of: np.ndarray) -> None:
    """The row(s) of one constraint: Σ coef·x over the rows it selects, within its bounds
    less what the fund's book already adds to it (``row_offset``, 0 for round scope)."""
    lower = -INF if c.min is None else c.min
    upper = INF if c.max is None else c.max
    selected = np.flatnonzero(mask)
    if c.measure is Measure.RATIO:
        _add_ratio(rows, table, c, selected, y_of)
        return
    if c.measure is Measure.GROUPS:      # Σ g_v; g_v linked to the y of value v later
        return
    if c.measure is Measure.FUNDED:
        # Σ EXPR·y over the funded rows (SPEC §11)
        assert c.column is not None
        booked = fund.row_offset(c)
        rows.add(y_of[selected], column_values(table.frame, c.column)[selected],
                 lower - booked, upper - booked, RowTag(RowKind.POLICY, c.id, offset=booked))
        return
    if c.measure is Measure.COUNT:
        cols = y_of[selected]
        booked = fund.row_offset(c)
        rows.add(cols, np.ones(len(cols)), lower - booked, upper - booked,
                 RowTag(RowKind.POLICY, c.id, offset=booked))
        return
    if c.measure is Measure.AVG:
        # Σ COL·x / Σ x ≥ min  ⇔  Σ (COL − min)·x ≥ 0 (vacuous when nothing in S is funded)
        assert c.column is not None
        column = column_values(table.frame, c.column)[selected]
        for side, bound in (("min", c.min), ("max", c.max)):
            if bound is not None:
                booked = fund.row_offset(c, bound)
                lo, hi = (-booked, INF) if side == "min" else (-INF, -booked)
                rows.add(selected, column - bound, lo, hi,
                         RowTag(RowKind.POLICY, c.id, side=side))
        return
    coefs = np.ones(len(selected))
    if c.measure is Measure.SUM:
        assert c.column is not None
        coefs = column_values(table.frame, c.column)[selected]
    lower, upper, per_unit, booked = _row_bounds(c, policy)
    rows.add(selected, coefs, lower, upper,
             RowTag(RowKind.POLICY, c.id, per_unit=per_unit, offset=booked))


def _row_bounds(c: Constraint, policy: Policy) -> tuple[float, float, float, float]:
    """(lower, upper, per_unit, booked) of the row of an amount, share or sum constraint:
    its bounds (a share's times what it divides by) less what the book adds to it."""
    lower = -INF if c.min is None else c.min
    upper = INF if c.max is None else c.max
    per_unit = fund.share_base(c, policy.budget) if c.measure is Measure.SHARE else 1.0
    booked = fund.row_offset(c)
    return lower * per_unit - booked, upper * per_unit - booked, per_unit, booked


def _add_ratio(rows: Rows, table: Table, c: Constraint, selected: np.ndarray,
               y_of: np.ndarray) -> None:
    """M1 / M2 ≥ b ⇔ M1 − b·M2 ≥ 0 (≤ for a max): vacuous when nothing in S is funded,
    like an average. The bound sits in the coefficients; ``side`` tags the row."""
    assert c.rule.ratio is not None
    fresh = fund.fresh_rows(table, c)[selected]   # scope fund: follow-ons count once
    top, bottom = (_part_terms(table, part, selected, y_of, fresh) for part in c.rule.ratio)
    for side, bound in (("min", c.min), ("max", c.max)):
        if bound is None:
            continue
        cols = np.concatenate([top[0], bottom[0]])
        coefs = np.concatenate([top[1], -bound * bottom[1]])
        merged, where = np.unique(cols, return_inverse=True)
        values = np.bincount(where, coefs, minlength=len(merged))
        booked = fund.row_offset(c, bound)        # 0 for round scope
        lo, hi = (-booked, INF) if side == "min" else (-INF, -booked)
        rows.add(merged, values, lo, hi, RowTag(RowKind.POLICY, c.id, side=side))


def _part_terms(table: Table, part: Part, selected: np.ndarray, y_of: np.ndarray,
                fresh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(columns, coefficients) of one side of a ratio: money on x, funded rows on y (a
    follow-on of the book, ``~fresh``, adds nothing to a count or funded side)."""
    cols = y_of[selected] if part.on_funded else selected
    coefs = np.ones(len(selected)) if part.expression is None \
        else column_values(table.frame, part.expression)[selected]
    return cols, np.where(fresh, coefs, 0.0) if part.on_funded else coefs


def _on_funded(c: Constraint) -> bool:
    """Whether the constraint counts funded rows (needs their binaries)."""
    if c.measure is Measure.RATIO:
        assert c.rule.ratio is not None
        return any(p.on_funded for p in c.rule.ratio)
    return c.measure in (Measure.COUNT, Measure.FUNDED, Measure.GROUPS)


def _funded_floor(c: Constraint) -> bool:
    """Whether the constraint could be met by rows counted funded with no money: a count
    or funded floor, a ratio floor over funded rows, or a ratio cap whose denominator
    counts them."""
    if c.measure in (Measure.COUNT, Measure.FUNDED, Measure.GROUPS):
        return c.min is not None and c.min > 0
    if c.measure is Measure.RATIO:
        assert c.rule.ratio is not None
        top, bottom = c.rule.ratio
        return (c.min is not None and top.on_funded) or (c.max is not None and bottom.on_funded)
    return False


def _add_links(rows: Rows, binary_rows: np.ndarray, bounds: Bounds, n: int) -> None:
    """x_i − u_i·y_i ≤ 0 and, where l_i > 0, x_i − l_i·y_i ≥ 0, for every binary at once."""
    nb = len(binary_rows)
    if nb == 0:
        return
    y = n + np.arange(nb)
    pairs = np.column_stack([binary_rows, y]).ravel()
    upper_coefs = np.column_stack([np.ones(nb), -bounds.upper[binary_rows]]).ravel()
    rows.add_block(pairs, upper_coefs, np.full(nb, 2), np.full(nb, -INF), np.zeros(nb),
                   [RowTag(RowKind.LINK, "upper")] * nb)
    with_floor = bounds.lower[binary_rows] > 0
    k = int(with_floor.sum())
    floor_rows = binary_rows[with_floor]
    pairs = np.column_stack([floor_rows, y[with_floor]]).ravel()
    lower_coefs = np.column_stack([np.ones(k), -bounds.lower[floor_rows]]).ravel()
    rows.add_block(pairs, lower_coefs, np.full(k, 2), np.zeros(k), np.full(k, INF),
                   [RowTag(RowKind.LINK, "lower")] * k)


def _add_steps(rows: Rows, bounds: Bounds, first: int) -> tuple[np.ndarray, np.ndarray]:
    """x_i − step·k_i = 0 with k_i integer, for every fundable row (``amount_step``).

    Returns the rows stepped and the upper bounds of their k columns (numbered from
    ``first``); nothing without a step.
    """
    step = bounds.grid.step
    if step is None:
        return np.zeros(0, int), np.zeros(0)
    stepped = np.flatnonzero(bounds.fundable)
    m = len(stepped)
    pairs = np.column_stack([stepped, first + np.arange(m)]).ravel()
    coefs = np.column_stack([np.ones(m), np.full(m, -step)]).ravel()
    rows.add_block(pairs, coefs, np.full(m, 2), np.zeros(m), np.zeros(m),
                   [RowTag(RowKind.LINK, "step")] * m)
    return stepped, np.round(bounds.upper[stepped] / step)


def _check_must(table: Table, bounds: Bounds, must: np.ndarray) -> None:
    bad = np.flatnonzero(must & (bounds.lower <= 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(code="input.build.must_zero_ticket", file=str(table.path),
                         row=table.source_rows[i], column=table.headers.get(STATUS),
                         value=table.frame[ID].iat[i])


@dataclass(frozen=True)
class _Held:
    """What the book holds per row, to tell a follow-on whose stake is full."""

    policy: Policy
    amounts: np.ndarray | None
    rounds: np.ndarray | None

    def stake_full(self, table: Table, bounds: Bounds, i: int) -> dict[str, float | str] | None:
        """The facts of a follow-on that a stake cap blocks (SPEC §9: ``max_stake`` holds
        for booked plus new), or None when row ``i`` is blocked for another reason."""
        if self.amounts is None or self.amounts[i] <= 0 or FUND_SIZE not in table.frame:
            return None
        stake, key, name = self._stake(str(bounds.cap[i]))
        size = float(table.frame[FUND_SIZE].to_numpy(float)[i])
        if stake is None or not np.isfinite(size) or size <= 0:
            return None
        return {"booked": float(self.amounts[i]),
                "rounds": "" if self.rounds is None else str(self.rounds[i]),
                "stake": stake, "fund_size": size,
                "room": float(bounds.upper[i]), "min_ticket": float(bounds.lower[i]),
                "unit": self.policy.unit, "blocked_by": key, "limit": name}

    def _stake(self, cap: str) -> tuple[float | None, str, str]:
        """The stake fraction of the cap named ``cap``, its key and its limit's name."""
        if cap == "max_stake":
            return self.policy.max_stake, cap, ""
        for limit in self.policy.limits:
            key = f"{limit.origin}.max_stake"
            if cap in (key, f"{limit.label} ({key})"):
                return limit.max_stake, key, limit.name or ""
        return None, cap, ""


def _unfundable(table: Table, bounds: Bounds, must: np.ndarray, excluded: np.ndarray,
                held: _Held) -> tuple[tuple[Warning_, ...], tuple[Message, ...]]:
    """Rows whose minimum ticket exceeds their cap (an excluded row needs no warning);
    a follow-on whose booked stake leaves no room for a ticket is told so."""
    blocked = np.flatnonzero(((bounds.lower > bounds.upper) | (bounds.upper <= 0)) & ~excluded)
    ids = table.frame[ID].to_numpy()
    warnings: list[Warning_] = []
    reasons: list[Message] = []
    for i in blocked:
        full = held.stake_full(table, bounds, int(i))
        if full is not None:
            warnings.append(Warning_("stake_full", str(ids[i]), full))
            if must[i]:
                reasons.append(Message("diagnosis.must_stake_full", {"id": str(ids[i]), **full}))
            continue
        warnings.append(Warning_("unfundable", str(ids[i]), {
            "min_ticket": float(bounds.lower[i]), "cap": float(bounds.upper[i]),
            "blocked_by": str(bounds.cap[i])}))
        if must[i]:
            reasons.append(Message("diagnosis.must_unfundable", {
                "id": str(ids[i]), "min_ticket": float(bounds.lower[i]),
                "cap": float(bounds.upper[i]), "key": str(bounds.cap[i])}))
    return tuple(warnings), tuple(reasons)


def _no_candidate(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
                  masks: dict[str, np.ndarray]) -> tuple[Message, ...]:
    """A floor over a declared value (SPEC §11 ``[values]``) with no row that can be
    funded: infeasible, said in one line (``district 邢台市 has no eligible candidate``)."""
    declared = {column for column, _ in policy.values}
    if not declared:
        return ()
    reasons = []
    for c in constraints:
        floor = c.min is not None and c.min > 0 and c.measure is not Measure.AVG \
            and c.measure is not Measure.RATIO
        if not floor or masks[c.id].any() or c.booked is not None:
            continue
        for column, values in c.where:
            if column in declared and isinstance(values, tuple) and len(values) == 1:
                reasons.append(Message("rules.no_candidate", {
                    "column": table.headers.get(column, column), "value": values[0],
                    "key": c.keys[0]}))
                break
    return tuple(reasons)


def _ineligible(table: Table, policy: Policy) -> tuple[Warning_, ...]:
    """One warning per row an ``[[eligible]]`` rule shuts out, naming the rule and the
    failing value (an excluded row needs none)."""
    ids = table.frame[ID].to_numpy()
    status = table.frame[STATUS].to_numpy() if STATUS in table.frame else None
    return tuple(
        Warning_("ineligible", str(ids[r.row]), {"rule": r.rule.name, "column": r.column,
                                                 "value": r.value, "key": r.rule.origin})
        for r in ineligible_rows(table, policy)
        if status is None or status[r.row] != EXCLUDE
    )


def _check_count_floors(table: Table, counted: list[Constraint],
                        masks: dict[str, np.ndarray], bounds: Bounds) -> None:
    """A count floor over a row whose l_i is 0 could be met with no money (SPEC §4)."""
    zero_floor = bounds.fundable & (bounds.lower <= 0)
    floors = [(c.keys[0] if c.min is not None else c.keys[1], masks[c.id])
              for c in counted if _funded_floor(c)]
    for key, mask in floors:
        hit = np.flatnonzero(mask & zero_floor)
        if len(hit):
            i = int(hit[0])
            raise InputError(code="input.build.count_zero_ticket",
                             values={"key": key, "id": table.frame[ID].iat[i]},
                             file=str(table.path), row=table.source_rows[i],
                             column=table.headers.get(MIN_TICKET, MIN_TICKET))

