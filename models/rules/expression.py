"""Column expressions (SPEC §11): arithmetic over numeric columns, evaluated per row.

``sum(call_2025 + call_2026)``, ``funded(fund_size - other_govt)``, ``max = "other_lp_max -
0.01"``: wherever a measure or a limit takes a column, an expression may stand. The text
is parsed with Python's :mod:`ast` and only a whitelist of node types is accepted —
numbers, column names, ``+ - * /``, unary ``-``/``+``, parentheses and the per-row
``min(a, b, …)`` / ``max(a, b, …)`` — then evaluated over numpy arrays by walking the tree.
Nothing is ever handed to ``eval``, ``DataFrame.eval`` or ``DataFrame.query``.

A text that is a column of the table is that column, even if it does not parse as an
expression (a header such as ``call 2025``); everything else must parse.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

_BINARY: dict[type[ast.operator], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
}
_FUNCTIONS = {"min": np.fmin, "max": np.fmax}


class ExpressionError(ValueError):
    """The text is not an expression fundopt evaluates; ``reason`` is a message code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Expression:
    """A parsed, whitelisted column expression.

    ``text`` is the canonical spelling (``call_2025 + call_2026``), ``columns`` the column
    names it reads, in order of first use. A bare column name is an expression too.
    """

    text: str
    columns: tuple[str, ...]
    tree: ast.expr = field(compare=False, repr=False)

    @property
    def is_column(self) -> bool:
        return isinstance(self.tree, ast.Name)


@dataclass(frozen=True)
class Evaluated:
    """An expression's value per row; ``zero_division`` marks rows that divide by 0
    (their value is NaN, as is a row with a blank cell the expression reads)."""

    values: np.ndarray
    zero_division: np.ndarray


@lru_cache(maxsize=512)
def parse_expression(text: str) -> Expression:
    """Parse and check ``text``.

    Raises
    ------
    ExpressionError
        ``expr_syntax`` (not arithmetic at all), ``expr_node`` (a construct other than
        numbers, columns, + - * /, parentheses, min, max — the detail names it).
    """
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError("expr_syntax", text) from exc
    columns: list[str] = []
    _check(tree, columns)
    return Expression(ast.unparse(tree), tuple(dict.fromkeys(columns)), tree)


def evaluate(expression: Expression, column: Callable[[str], np.ndarray], n: int) -> Evaluated:
    """The expression's value in each of ``n`` rows, ``column(name)`` giving a float array.

    Blank cells (NaN) propagate to NaN; a division by zero gives NaN in that row and is
    marked in ``zero_division``, so the caller can name the row.
    """
    zero = np.zeros(n, dtype=bool)

    def walk(node: ast.expr) -> np.ndarray:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, int | float)
            return np.full(n, float(node.value))
        if isinstance(node, ast.Name):
            return np.asarray(column(node.id), dtype=float)
        if isinstance(node, ast.UnaryOp):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div):
                hit = right == 0
                zero[hit] = True
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(hit, np.nan, left / np.where(hit, 1.0, right))
            return _BINARY[type(node.op)](left, right)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [walk(a) for a in node.args]
        out = args[0]
        for arg in args[1:]:
            # blank stays blank: fmin/fmax would silently skip a NaN
            out = np.where(np.isnan(out) | np.isnan(arg), np.nan,
                           _FUNCTIONS[node.func.id](out, arg))
        return out

    values = walk(expression.tree)
    return Evaluated(values, zero)


def _check(node: ast.AST, columns: list[str]) -> None:
    """Accept only the whitelisted nodes; collect the column names."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError("expr_node", repr(node.value))
        return
    if isinstance(node, ast.Name):
        if node.id in _FUNCTIONS:
            raise ExpressionError("expr_node", node.id)
        columns.append(node.id)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, columns)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult
                                                  | ast.Div):
        _check(node.left, columns)
        _check(node.right, columns)
        return
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS and len(node.args) >= 2 and not node.keywords
            and not any(isinstance(a, ast.Starred) for a in node.args)):
        for arg in node.args:
            _check(arg, columns)
        return
    raise ExpressionError("expr_node", _describe(node))


def _describe(node: ast.AST) -> str:
    """What the planner wrote that is not allowed, in a few words."""
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return f"{name}(…)"
    if isinstance(node, ast.Attribute):
        return ast.unparse(node)
    try:
        return ast.unparse(node)
    except (ValueError, TypeError):
        return type(node).__name__


def frame_values(frame: pd.DataFrame, text: str) -> Evaluated:
    """The value of ``text`` (a column of ``frame``, or an expression over its columns)
    in every row of ``frame``; a column ``frame`` lacks reads as blank (NaN)."""
    n = len(frame)
    if text in frame.columns:
        return Evaluated(pd.to_numeric(frame[text], errors="coerce").to_numpy(float),
                         np.zeros(n, dtype=bool))

    def column(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(float)

    return evaluate(parse_expression(text), column, n)


def column_values(frame: pd.DataFrame, text: str) -> np.ndarray:
    """``frame_values(frame, text).values``: what the model and the reports read."""
    return frame_values(frame, text).values
