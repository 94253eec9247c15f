"""The library and the command line are one program (SPEC §14): for the same inputs
``fundopt.solve(...)`` and ``fundopt solve … -o x.json`` give the same JSON (the manifest's
timings aside), and the same for compare, sweep, stability and explain; an input error
carries the same words and place in both; ``Problem`` re-solves equal fresh solves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from plan_checker import check_plan
from typer.testing import CliRunner

import fundopt
from fundopt.cli import app
from fundopt.models.rules.expansion import expand
from fundopt.models.rules.policy import Locator, policy_from_tree

SAMPLES = [ROOT / "inputs" / "2024.csv", ROOT / "inputs" / "2025.csv"]
SCENARIOS = ROOT / "inputs" / "2024-scenarios.toml"
runner = CliRunner()
# Seconds and creation times differ from run to run; everything else must not.
VOLATILE = {"seconds", "created"}


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def stable(data: Any) -> Any:
    """``data`` without the volatile manifest keys, anywhere in the document."""
    if isinstance(data, dict):
        return {k: stable(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [stable(v) for v in data]
    return data


def cli_json(tmp_path: Path, *args: str | Path, codes: tuple[int, ...] = (0, 3)) -> Any:
    out = tmp_path / "cli.json"
    code, _, stderr = cli(*args, "-o", out)
    assert code in codes, stderr
    return stable(json.loads(out.read_text(encoding="utf-8")))


def written_json(run: Any, tmp_path: Path, lang: str = "en") -> Any:
    out = tmp_path / "lib.json"
    run.write(out, lang=lang)
    return stable(json.loads(out.read_text(encoding="utf-8")))


# --- random instances, written as files --------------------------------------------------

REGIONS, CATEGORIES = ("天津", "河北"), ("国家重大平台", "前沿技术", "高端人才团队")


def random_instance(seed: int, folder: Path) -> tuple[Path, dict[str, Any]]:
    """A random table (as a CSV file) and policy dict (also written as TOML beside it)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 25))
    frame = pd.DataFrame({
        "id": [f"F{i:02d}" for i in range(n)],
        "name": [f"fund {i}" for i in range(n)],
        "region": rng.choice(REGIONS, n),
        "category": rng.choice(CATEGORIES, n),
        "max_ticket": rng.uniform(1, 5, n).round(2),
        "fund_size": rng.uniform(5, 20, n).round(1),
        "score": rng.uniform(50, 100, n).round(1),
        "risk": rng.uniform(0.1, 0.9, n).round(2),
    })
    budget = float(rng.integers(8, 20))
    policy: dict[str, Any] = {
        "unit": "亿元", "budget": budget, "min_ticket": 0.5,
        "max_stake": 0.4, "max_funded": int(rng.integers(3, n)),
        "objective": {"maximize": "score"},
        "region": {"天津": {"min_share": round(float(rng.uniform(0.1, 0.4)), 2)}},
        "constraints": [{"name": "risk cap", "measure": "avg(risk)",
                         "max": round(float(rng.uniform(0.4, 0.7)), 2)}],
    }
    if rng.random() < 0.5:
        policy["amount_step"] = 0.1
    path = folder / f"random{seed}.csv"
    frame.to_csv(path, index=False)
    path.with_suffix(".toml").write_text(toml(policy), encoding="utf-8")
    return path, policy


def toml(policy: dict[str, Any]) -> str:
    """The few shapes of :func:`random_instance`'s policies as TOML text."""
    lines, tables = [], []
    for key, value in policy.items():
        if key == "constraints":
            for c in value:
                tables.append("[[constraints]]\n" + "".join(
                    f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in c.items()))
        elif key == "region":
            for name, rule in value.items():
                tables.append(f'[region."{name}"]\n' + "".join(
                    f"{k} = {v}\n" for k, v in rule.items()))
        elif isinstance(value, dict):
            tables.append(f"[{key}]\n" + "".join(
                f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in value.items()))
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n\n" + "\n".join(tables)


# --- the same JSON ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A book holding the 2024 sample's plan as round 2024 (2025's policy counts it)."""
    folder = tmp_path_factory.mktemp("book")
    plan = fundopt.solve(SAMPLES[0]).write(folder / "plan.json")[0]
    location = str(folder / "fund.book")
    added = fundopt.book_add(plan, location, "2024", note="test")
    assert [r.name for r in added.rounds] == ["2024"]
    return location


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_solve_gives_the_cli_json_on_the_samples(lang: str, book: str, tmp_path: Path
                                                 ) -> None:
    run = fundopt.solve(SAMPLES[0])
    expected = cli_json(tmp_path, "solve", SAMPLES[0], "--lang", lang)
    assert stable(run.to_dict(lang)) == expected
    assert written_json(run, tmp_path, lang) == expected
    run = fundopt.solve(SAMPLES[1], book=book)
    expected = cli_json(tmp_path, "solve", SAMPLES[1], "--book", book, "--lang", lang)
    assert written_json(run, tmp_path, lang) == expected


def test_book_commands_give_the_cli_json(book: str, tmp_path: Path) -> None:
    shown = fundopt.book_show("2024", book)
    assert written_json(shown, tmp_path) == cli_json(tmp_path, "book", "show", "2024",
                                                     "--book", book)
    assert shown.rows is not None
    assert len(shown.rows) == int(fundopt.solve(SAMPLES[0]).allocations["funded"].sum())
    assert [r.name for r in fundopt.book_list(book).rounds] == ["2024"]


@pytest.mark.parametrize("seed", range(6))
def test_solve_gives_the_cli_json_on_random_instances(seed: int, tmp_path: Path) -> None:
    table, _ = random_instance(seed, tmp_path)
    run = fundopt.solve(table, relax=True)
    assert written_json(run, tmp_path) == cli_json(tmp_path, "solve", table, "--relax")
    if run.ok:   # the plan keeps every rule, checked without the model builder
        inputs = run.inputs
        assert check_plan(inputs.table.frame, inputs.policy, inputs.constraints,
                          run.allocations["amount"].to_numpy()) == []


@pytest.mark.parametrize("seed", range(4))
def test_a_dataframe_and_a_dict_solve_as_their_files(seed: int, tmp_path: Path) -> None:
    table, policy = random_instance(seed, tmp_path)
    from_files = fundopt.solve(table)
    from_values = fundopt.solve(pd.read_csv(table), policy=policy)
    assert from_values.status == from_files.status
    assert from_values.objective == from_files.objective
    pd.testing.assert_frame_equal(from_values.allocations, from_files.allocations)
    pd.testing.assert_frame_equal(from_values.constraints, from_files.constraints)


def test_compare_gives_the_cli_json(tmp_path: Path) -> None:
    run = fundopt.compare(SAMPLES[0], SCENARIOS, workers=1)
    expected = cli_json(tmp_path, "compare", SAMPLES[0], "--scenarios", SCENARIOS,
                        "--workers", "1")
    assert written_json(run, tmp_path) == expected
    assert list(run.frame().columns)[1] == "baseline"


def test_sweep_gives_the_cli_json(tmp_path: Path) -> None:
    run = fundopt.sweep(SAMPLES[0], "budget", 20, 40, 5, workers=1)
    expected = cli_json(tmp_path, "sweep", SAMPLES[0], "--param", "budget", "--from", "20",
                        "--to", "40", "--steps", "5", "--workers", "1")
    assert written_json(run, tmp_path) == expected
    assert len(run.points) == 5


def test_stability_gives_the_cli_json(tmp_path: Path) -> None:
    run = fundopt.stability(SAMPLES[0], draws=30, workers=1)
    expected = cli_json(tmp_path, "stability", SAMPLES[0], "--draws", "30", "--workers", "1")
    assert written_json(run, tmp_path) == expected
    assert len(run.rows) == len(run.inputs.table.frame)


def test_explain_gives_the_cli_json(tmp_path: Path) -> None:
    run = fundopt.explain(SAMPLES[0], ["TJ-BH-02", "HB-BD-03"], draws=0)
    expected = cli_json(tmp_path, "explain", SAMPLES[0], "TJ-BH-02", "HB-BD-03",
                        "--draws", "0")
    assert written_json(run, tmp_path) == expected
    assert list(run.explanations["id"]) == ["TJ-BH-02", "HB-BD-03"]


@pytest.mark.parametrize("seed", range(3))
def test_compare_sweep_and_explain_give_the_cli_json_on_random_instances(
        seed: int, tmp_path: Path) -> None:
    table, policy = random_instance(seed, tmp_path)
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text(
        f'[scenarios."smaller"]\nset = {{ budget = {policy["budget"] * 0.7:.2f} }}\n'
        '[scenarios."floor"]\nset = { "region.天津.min_share" = 0.55 }\n'
        '[scenarios."typo"]\nset = { "region.天津.min_shares" = 0.5 }\n', encoding="utf-8")
    compared = fundopt.compare(table, scenarios, workers=1)
    assert [str(e.column) for e in compared.errors] == ["region.天津.min_shares"]
    assert written_json(compared, tmp_path) == cli_json(
        tmp_path, "compare", table, "--scenarios", scenarios, "--workers", "1", codes=(2,))
    swept = fundopt.sweep(table, "region.天津.min_share", 0.0, 0.6, 4, workers=1)
    assert written_json(swept, tmp_path) == cli_json(
        tmp_path, "sweep", table, "--param", "region.天津.min_share", "--from", "0",
        "--to", "0.6", "--steps", "4", "--workers", "1")
    ids = ["F00", "F01"]
    explained = fundopt.explain(table, ids)
    assert written_json(explained, tmp_path) == cli_json(tmp_path, "explain", table, *ids)


def test_every_run_renders_in_jupyter(tmp_path: Path) -> None:
    assert "<table" in fundopt.solve(SAMPLES[0])._repr_html_()
    assert "constraints" in fundopt.check(SAMPLES[0])._repr_html_()
    assert "<table" in fundopt.sweep(SAMPLES[0], "budget", 30, 40, 2, workers=1)._repr_html_()
    plan = fundopt.solve(SAMPLES[0]).write(tmp_path / "plan.json")[0]
    book = str(tmp_path / "fund.book")
    assert "2024" in fundopt.book_add(plan, book, "2024")._repr_html_()


# --- the same error -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_input_error_says_what_the_cli_says(lang: str, tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    text = SAMPLES[0].read_text(encoding="utf-8-sig").splitlines()
    cells = text[3].split(",")
    cells[5] = "lots"                          # a max_ticket that is not a number, row 4
    text[3] = ",".join(cells)
    table.write_text("\n".join(text), encoding="utf-8")
    (tmp_path / "bad.toml").write_text(SAMPLES[0].with_suffix(".toml").read_text("utf-8"),
                                       encoding="utf-8")
    with pytest.raises(fundopt.InputError) as raised:
        fundopt.solve(table)
    error = raised.value
    assert (error.file, error.row) == (str(table), 4)
    code, _, stderr = cli("solve", table, "--lang", lang)
    assert code == 2
    prefix = "错误：" if lang == "zh" else "Error: "
    assert " ".join(stderr.split()) == " ".join((prefix + error.render(lang)).split())


def test_a_bad_policy_change_names_its_key() -> None:
    problem = fundopt.Problem(SAMPLES[0])
    with pytest.raises(fundopt.InputError) as raised:
        problem.solve({"region.天津.min_share": 7})
    assert "region.天津.min_share" in raised.value.render("en")


def test_an_infeasible_policy_is_a_result() -> None:
    run = fundopt.solve(SAMPLES[0], policy={**_sample_policy(), "budget": 1})
    assert run.status == "infeasible" and run.diagnosis is not None
    assert "infeasible" in run._repr_html_()


# --- re-solves ----------------------------------------------------------------------------

def _sample_policy() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(SAMPLES[0].with_suffix(".toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed", range(5))
def test_problem_re_solves_equal_fresh_solves(seed: int, tmp_path: Path) -> None:
    """Random changes of bounds (budget, a share floor, a constraint's max) and of costs
    (the objective's column): each re-solve of the one problem equals a fresh solve of the
    changed policy dict, and keeps every rule of the changed policy."""
    rng = np.random.default_rng(100 + seed)
    table, policy = random_instance(seed, tmp_path)
    problem = fundopt.Problem(table, policy)
    for _ in range(4):
        changes: dict[str, float] = {}
        if rng.random() < 0.7:
            changes["budget"] = float(rng.integers(6, 20))
        if rng.random() < 0.5:
            changes["region.天津.min_share"] = round(float(rng.uniform(0, 0.5)), 2)
        if rng.random() < 0.5:
            changes["constraints[0].max"] = round(float(rng.uniform(0.3, 0.8)), 2)
        if rng.random() < 0.5:   # other costs: a weighted objective
            changes["objective.weights.score"] = round(float(rng.uniform(0.2, 1)), 2)
            changes["objective.weights.risk"] = round(float(rng.uniform(0, 1)), 2)
        changed = _changed(policy, changes)
        again, fresh = problem.solve(changes), fundopt.solve(pd.read_csv(table), changed)
        assert again.status == fresh.status
        assert again.objective == pytest.approx(fresh.objective, rel=1e-9, abs=1e-9)
        if fresh.ok:
            np.testing.assert_allclose(again.allocations["amount"],
                                       fresh.allocations["amount"], atol=1e-9)
            inputs = again.inputs
            rules = expand(policy_from_tree(changed, Locator("x"), None), inputs.table)
            assert check_plan(inputs.table.frame, inputs.policy, rules,
                              again.allocations["amount"].to_numpy()) == []
    assert problem.builds >= 1
    first = problem.solve()
    assert first.objective == pytest.approx(fundopt.solve(table).objective)


def _changed(policy: dict[str, Any], changes: dict[str, float]) -> dict[str, Any]:
    """The policy dict with ``changes`` applied by hand (not by fundopt's key paths)."""
    out = json.loads(json.dumps(policy))
    for key, value in changes.items():
        if key == "budget":
            out["budget"] = value
        elif key == "region.天津.min_share":
            out["region"]["天津"]["min_share"] = value
        elif key == "constraints[0].max":
            out["constraints"][0]["max"] = value
        elif key.startswith("objective.weights."):
            weights = out["objective"].setdefault("weights", {})
            out["objective"].pop("maximize", None)
            weights[key.rsplit(".", 1)[1]] = value
    return out


def test_public_names_are_documented() -> None:
    for name in fundopt.__all__:
        value = getattr(fundopt, name)
        if name != "__version__":
            assert value.__doc__, name
