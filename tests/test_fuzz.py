"""Fuzzing the readers (issue 9): random bytes, random CSV dialects and random TOML trees
reach the command line, which answers exit 2 with a message, or a valid plan — never exit
1, never a traceback."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_checker import check_plan
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.rules.policy import CONSTRAINT_KEYS, OBJECTIVE_KEYS, SHORTHAND_KEYS, TOP_KEYS

SAMPLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"
SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8-sig")
SAMPLE_TREE = tomllib.loads(POLICY.read_text(encoding="utf-8"))
runner = CliRunner()
# 30 fixed examples a test in the suite; FUNDOPT_FUZZ_EXAMPLES=N runs N fresh random ones
CAMPAIGN = int(os.environ.get("FUNDOPT_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=CAMPAIGN or 30, deadline=None, derandomize=not CAMPAIGN,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def assert_handled(code: int, text: str) -> None:
    """Exit 0, 2 or 3 with no traceback or internal error."""
    assert code in (0, 2, 3), (code, text)
    assert "Traceback" not in text and "Internal error" not in text, text


def assert_valid_plan(table: Path, policy: Path, folder: Path) -> None:
    """Solve, and check the plan against every rule with the independent checker."""
    out = folder / "plan.json"
    code, text = run("solve", table, "--policy", policy, "-o", out)
    assert_handled(code, text)
    if code != 0:
        return
    inputs = load_inputs(table, policy)
    amounts = np.array([a["amount"] for a in
                        json.loads(out.read_text(encoding="utf-8"))["allocations"]])
    assert check_plan(inputs.table.frame, inputs.policy, inputs.constraints, amounts) == []


# --- random bytes --------------------------------------------------------------------------

def _mutated(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(data)
    for at, chunk in edits:
        at %= max(len(out), 1)
        out[at:at + len(chunk)] = chunk
    return bytes(out)


@functools.cache
def _sample_workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in csv.reader(io.StringIO(SAMPLE_TEXT)):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=4)),
                 max_size=6)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".toml"]))
def test_random_bytes(tmp_path_factory: Any, data: bytes, suffix: str) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / f"t{suffix}"
    path.write_bytes(data)
    if suffix == ".toml":
        code, text = run("check", SAMPLE, "--policy", path)
    else:
        code, text = run("check", path, "--policy", POLICY)
    assert_handled(code, text)
    assert code == 2 or suffix == ".toml"


@FUZZ
@given(edits=EDITS, workbook=st.booleans())
def test_mutated_tables(tmp_path_factory: Any, edits: list[tuple[int, bytes]],
                        workbook: bool) -> None:
    folder = tmp_path_factory.mktemp("mutated")
    if workbook:
        path, data = folder / "t.xlsx", _sample_workbook()
    else:
        path, data = folder / "t.csv", SAMPLE.read_bytes()
    path.write_bytes(_mutated(data, edits))
    code, text = run("check", path, "--policy", POLICY)
    assert_handled(code, text)
    if code == 0:
        assert_valid_plan(path, POLICY, folder)


# --- random CSV dialects ---------------------------------------------------------------------

@FUZZ
@given(delimiter=st.sampled_from([",", ",", ";", "\t", "|"]),
       quotechar=st.sampled_from(['"', '"', "'"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       ending=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       pad=st.sampled_from(["", " ", "\u3000"]),
       blank_lines=st.integers(0, 2))
def test_csv_dialects(tmp_path_factory: Any, delimiter: str, quotechar: str, quoting: Any,
                      ending: str, encoding: str, pad: str, blank_lines: int) -> None:
    folder = tmp_path_factory.mktemp("dialect")
    rows = list(csv.reader(io.StringIO(SAMPLE_TEXT)))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quotechar=quotechar, quoting=quoting,
                        lineterminator=ending)
    for number, row in enumerate(rows):
        writer.writerow([pad + cell + pad for cell in row])
        if number == 3:
            buffer.write(ending * blank_lines)
    path = folder / "t.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    code, text = run("check", path, "--policy", POLICY)
    assert_handled(code, text)
    plain = delimiter == "," and (quotechar == '"' or quoting == csv.QUOTE_MINIMAL)
    if plain and quoting != csv.QUOTE_NONNUMERIC:
        assert code == 0, text      # every comma dialect Excel writes is read
    if code == 0:
        assert_valid_plan(path, POLICY, folder)


# --- random TOML trees -----------------------------------------------------------------------

KEYS = st.one_of(
    st.sampled_from([*TOP_KEYS, *OBJECTIVE_KEYS, *SHORTHAND_KEYS, *CONSTRAINT_KEYS, "天津",
                     "河北", "score", "risk", "*", "amount", "sum(risk)"]),
    st.text(max_size=6))
SCALARS = st.one_of(
    st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 50),
    st.text(max_size=8), st.sampled_from(["score", "amount", "share", "count", "avg(risk)",
                                          "亿元", "*", "must"]))
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(KEYS, inner, max_size=4), max_leaves=16)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 2**63 else json.dumps(str(value))
    if isinstance(value, float):
        return ("nan" if math.isnan(value) else "inf" if value > 0 else "-inf") \
            if not math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}"
                           for k, v in value.items()) + "}"


def toml_text(tree: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n"
                   for k, v in tree.items())


@FUZZ
@given(tree=st.dictionaries(KEYS, TREES, max_size=6))
def test_random_policy_trees(tmp_path_factory: Any, tree: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("tree")
    path = folder / "p.toml"
    path.write_text(toml_text(tree), encoding="utf-8")
    code, text = run("check", SAMPLE, "--policy", path)
    assert_handled(code, text)
    if code == 0:
        assert_valid_plan(SAMPLE, path, folder)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) \
        if isinstance(tree, list) else ()
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


@FUZZ
@given(data=st.data())
def test_sample_policy_with_one_value_replaced(tmp_path_factory: Any, data: Any) -> None:
    """Trees near a valid policy reach the deeper checks: one value replaced at random."""
    tree = json.loads(json.dumps(SAMPLE_TREE))
    path = data.draw(st.sampled_from(_paths(tree)))
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(TREES)
    folder = tmp_path_factory.mktemp("near")
    file = folder / "p.toml"
    file.write_text(toml_text(tree), encoding="utf-8")
    code, text = run("check", SAMPLE, "--policy", file)
    assert_handled(code, text)
    if code == 0:
        assert_valid_plan(SAMPLE, file, folder)


SCENARIO_KEYS = st.one_of(st.sampled_from(["base", "scenarios", "policy", "description", "set",
                                           "add_constraints", "remove_constraints", "edit",
                                           "where", "ids", "scale", "status", "budget",
                                           "max_ticket", "region.河北.min_share", "x"]), KEYS)
SCENARIO_TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(SCENARIO_KEYS, inner, max_size=4),
                              max_leaves=16)


@FUZZ
@given(tree=st.dictionaries(SCENARIO_KEYS, SCENARIO_TREES, max_size=3))
def test_random_scenario_trees(tmp_path_factory: Any, tree: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("scenarios")
    path = folder / "s.toml"
    path.write_text(toml_text(tree), encoding="utf-8")
    code, text = run("compare", SAMPLE, "--scenarios", path, "--workers", "1")
    assert_handled(code, text)
