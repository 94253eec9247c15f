"""Scenario files: parsing, policy overrides through the policy builder, data edits, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fundopt.errors import InputError
from fundopt.models.domain import MUST, Measure
from fundopt.models.reading.inputs import policy_tree
from fundopt.models.reading.table import read_table
from fundopt.models.rules.keypaths import with_value
from fundopt.models.rules.policy import load_policy
from fundopt.models.rules.scenarios import Prepared, base_policy_path, load_scenarios, prepare_all
from fundopt.models.rules.sweep import sweep_policies

ROOT = Path(__file__).parent.parent
TABLE = ROOT / "inputs" / "2024.csv"
SAMPLE = ROOT / "inputs" / "2024-scenarios.toml"


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return read_table(TABLE)


def _prepare(table, path: Path) -> dict[str, Prepared]:  # type: ignore[no-untyped-def]
    file = load_scenarios(path)
    base = policy_tree(table, base_policy_path(table, file, None))
    return {p.name: p for p in prepare_all(file, table, base)}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rule(prepared: Prepared, origin: str, measure: Measure = Measure.SHARE):  # type: ignore[no-untyped-def]
    assert prepared.policy is not None
    return next(r for r in prepared.policy.rules if r.origin == origin and r.measure is measure)


def test_sample_scenarios_apply(table) -> None:  # type: ignore[no-untyped-def]
    prepared = _prepare(table, SAMPLE)
    assert list(prepared)[0] == "baseline"
    assert 4 <= len(prepared) - 1 <= 6
    assert all(p.error is None for p in prepared.values())
    base = prepared["baseline"]
    assert base.policy == load_policy(ROOT / "inputs" / "2024.toml")
    hebei = _rule(prepared["河北55"], "region.河北")
    assert (hebei.min, hebei.max) == (0.55, 0.55)
    cut = prepared["预算30亿"]
    assert cut.policy is not None and cut.policy.budget == 30
    assert next(r for r in cut.policy.rules if r.name == "2025 capital call").max == 10
    assert _rule(prepared["人才20"], "category.高端人才团队").min == 0.20
    names = {r.name for r in prepared["人才20"].policy.rules}  # type: ignore[union-attr]
    assert "risk cap" not in names and "risk cap (talent 20%)" in names
    weights = prepared["返投优先"].policy.objective  # type: ignore[union-attr]
    assert weights.weights == {"score": 0.7, "reinvest": 0.3} and weights.normalize


def test_data_edit_scales_a_copy(table) -> None:  # type: ignore[no-untyped-def]
    edited = _prepare(table, SAMPLE)["前沿降分"].table
    assert edited is not None
    frontier = (table.frame["category"] == "前沿技术").to_numpy()
    before, after = table.frame["score"].to_numpy(float), edited.frame["score"].to_numpy(float)
    np.testing.assert_allclose(after[frontier], before[frontier] * 0.8)
    np.testing.assert_array_equal(after[~frontier], before[~frontier])
    assert table.frame["score"].to_numpy(float)[frontier][0] == before[frontier][0]


def test_edit_by_ids_sets_status_and_value(table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, '''
[scenarios.s]
[[scenarios.s.edit]]
ids = ["TJ-BH-02", "HB-SJ-01"]
set = { max_ticket = 2.5 }
status = "must"
''')
    edited = _prepare(table, path)["s"].table
    assert edited is not None
    rows = edited.frame.set_index("id").loc[["TJ-BH-02", "HB-SJ-01"]]
    assert (rows["max_ticket"] == 2.5).all() and (rows["status"] == MUST).all()
    assert (edited.frame["status"] == MUST).sum() == (table.frame["status"] == MUST).sum() + 2


def test_nested_set_and_constraint_path(table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, '''
[scenarios.s]
set = { region = { "天津" = { max_share = 0.55 } }, "constraints.risk cap.max" = 0.7 }
remove_constraints = ["region.河北", "reinvest"]
''')
    prepared = _prepare(table, path)["s"]
    assert prepared.error is None and prepared.policy is not None
    assert _rule(prepared, "region.天津").max == 0.55
    assert next(r for r in prepared.policy.rules if r.name == "risk cap").max == 0.7
    origins = {r.origin for r in prepared.policy.rules}
    assert "region.河北" not in origins
    assert "reinvest" not in {r.name for r in prepared.policy.rules}


BAD = [
    ('set = { "region.河北.min_shar" = 0.5 }', "region.河北.min_shar"),
    ('set = { budget = -1 }', "budget"),
    ('set = { "region.北京.min_share" = 0.1 }', "北京"),
    ('set = { "constraints.no such.max" = 1 }', "constraints.no such.max"),
    ('remove_constraints = ["nope"]', "remove_constraints"),
    ('[[scenarios.s.edit]]\nwhere = { category = "太空" }\nscale = { score = 0.8 }', "edit[1]"),
    ('[[scenarios.s.edit]]\nids = ["XX-1"]\nscale = { score = 0.8 }', "edit[1].ids"),
    ('[[scenarios.s.edit]]\nwhere = { category = "前沿技术" }\nscale = { name = 0.8 }',
     "edit[1].scale.name"),
    ('[[scenarios.s.edit]]\nwhere = { nocol = "x" }\nscale = { score = 0.8 }', "nocol"),
]


@pytest.mark.parametrize(("body", "key"), BAD)
def test_bad_scenario_is_kept_as_an_error(table, tmp_path: Path, body: str, key: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, f"[scenarios.ok]\nset = {{ budget = 35 }}\n\n[scenarios.s]\n{body}\n")
    prepared = _prepare(table, path)
    assert prepared["ok"].error is None  # one bad scenario never hides the others
    error = prepared["s"].error
    assert error is not None
    text = error.render("en")
    assert str(path) in text and "scenario 's'" in text and key in text


@pytest.mark.parametrize(("text", "key"), [
    ("[scenarios.s]\nsett = { budget = 30 }", "scenarios.s.sett"),
    ("[scenarioz.s]\nset = {}", "scenarioz"),
    ("[scenarios.baseline]\nset = { budget = 30 }", "scenarios.baseline"),
    ('[scenarios.s]\n[[scenarios.s.edit]]\nwhere = { category = "x" }\nfactor = 2', "factor"),
    ('[scenarios.s]\n[[scenarios.s.edit]]\nwhere = { category = "x" }\nscale = { score = "a" }',
     "scale.score"),
    ('[scenarios.s]\n[[scenarios.s.edit]]\nwhere = { category = "x" }\nstatus = "maybe"',
     "status"),
    ('[base]\npolicy = "missing.toml"\n[scenarios.s]\nset = {}', "base.policy"),
])
def test_structural_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_scenarios(path)
    assert caught.value.file == str(path) and key in (caught.value.column or "")


def test_base_policy_relative_to_scenario_file(table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    policy = (ROOT / "inputs" / "2024.toml").read_text(encoding="utf-8")
    (tmp_path / "p.toml").write_text(policy.replace("budget = 40", "budget = 38"), "utf-8")
    path = _write(tmp_path, '[base]\npolicy = "p.toml"\n[scenarios.s]\nset = { min_deploy = 0.8 }')
    prepared = _prepare(table, path)
    assert prepared["baseline"].policy.budget == 38  # type: ignore[union-attr]
    assert prepared["s"].policy.min_deploy == 0.8  # type: ignore[union-attr]


def test_objective_switch_keeps_sense() -> None:
    tree = {"budget": 1, "objective": {"minimize": "risk"}}
    out = with_value(tree, "objective.weights.risk", 1.0, "f")
    assert out["objective"] == {"weights": {"risk": 1.0}, "sense": "minimize"}
    assert tree["objective"] == {"minimize": "risk"}  # the base is not touched


def test_sweep_policies(table) -> None:  # type: ignore[no-untyped-def]
    base = policy_tree(table, ROOT / "inputs" / "2024.toml")
    points = sweep_policies(table, base, "region.河北.min_share", [0.4, 0.5])
    assert [_min(p) for p, _ in points] == [0.4, 0.5]
    with pytest.raises(InputError, match="sweep point region.河北.min_share = 1.5"):
        sweep_policies(table, base, "region.河北.min_share", [1.5])
    with pytest.raises(InputError, match="unknown key 'budgte'"):
        sweep_policies(table, base, "budgte", [30.0])


def _min(policy) -> float:  # type: ignore[no-untyped-def]
    return next(r.min for r in policy.rules if r.origin == "region.河北")
