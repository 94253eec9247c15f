"""Run values: what each command returns, with DataFrame views, ``write``, ``show`` and
``_repr_html_`` (Jupyter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundopt.app.steps import new_console

if TYPE_CHECKING:   # imported on use: start-up time
    import pandas as pd
    from rich.console import Console

    from fundopt.app.steps import PathLike
    from fundopt.errors import InputError
    from fundopt.models.checks import DataWarning
    from fundopt.models.domain import Policy, Table
    from fundopt.models.reading.inputs import Inputs
    from fundopt.models.rules.scenarios import Prepared
    from fundopt.optimizer.build import Built
    from fundopt.optimizer.result import Diagnosis, Result, Warning_
    from fundopt.optimizer.stability import Stability


@dataclass(frozen=True)
class SolveRun:
    """The outcome of :func:`solve`: the inputs, the plan and what was noticed on the way.

    Attributes
    ----------
    inputs
        The table (in the policy's unit), the policy and its expanded constraints.
    result
        The optimizer's result (plan, constraint report, diagnosis, analyses).
    notes
        Warnings about the data (similar spellings of one value).
    phases
        Seconds per phase: ``read``, ``build``, ``solve``, …, ``write``, ``total``.
    within
        The gap alternatives were asked within (``--within``), when they were asked.
    """

    inputs: Inputs
    result: Result
    notes: tuple[DataWarning, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)
    within: str | None = None

    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (time limit), ``infeasible``, ``unbounded``, …"""
        return str(self.result.status)

    @property
    def ok(self) -> bool:
        """True when there is a plan (optimal or feasible)."""
        return self.result.is_ok

    @property
    def objective(self) -> float | None:
        return self.result.objective

    @property
    def committed(self) -> float:
        """The total committed, in the policy's unit."""
        return self.result.committed

    @property
    def warnings(self) -> tuple[DataWarning | Warning_, ...]:
        """The data warnings, then the solver's (rows that cannot be funded)."""
        return (*self.notes, *self.result.warnings)

    @property
    def diagnosis(self) -> Diagnosis | None:
        """Why the policy is infeasible, and the smallest relaxation (else None)."""
        return self.result.diagnosis

    @property
    def allocations(self) -> pd.DataFrame:
        """Every input row in input order: the input columns plus ``amount``, ``funded``,
        ``share_of_budget`` and ``stake``."""
        from fundopt.reports.frames import plan_frame

        return plan_frame(self.inputs.table, self.inputs.policy, self.result)

    @property
    def constraints(self) -> pd.DataFrame:
        """One row per constraint: ``name``, ``id``, ``measure``, ``value``, ``min``,
        ``max``, ``slack``, ``binding``, ``shadow_price``, ``scope``."""
        import pandas as pd

        return pd.DataFrame(
            [{"name": c.label, "id": c.id, "measure": c.measure, "value": c.value,
              "min": c.min, "max": c.max, "slack": c.slack, "binding": c.binding,
              "shadow_price": c.shadow_price, "scope": c.scope}
             for c in self.result.constraints],
            columns=["name", "id", "measure", "value", "min", "max", "slack", "binding",
                     "shadow_price", "scope"])

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``solve -o plan.json`` writes (keys English in every language)."""
        from fundopt.reports.files.export import result_dict

        return result_dict(self.inputs.table, self.inputs.policy, self.result, lang,
                           self.notes)

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` (the plan) or ``.xlsx`` (the review workbook) files,
        atomically and never over an input file. Returns the paths written."""
        from fundopt.reports.files.export import write_outputs

        written = [Path(p) for p in paths]
        write_outputs(written, self.inputs.table, self.inputs.policy, self.result, lang,
                      list(self.inputs.files), self.notes)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print the summary ``fundopt solve`` prints."""
        from fundopt.reports.terminal.summary import render_summary

        console = console or new_console()
        table, policy = self.inputs.table, self.inputs.policy
        render_summary(console, table, policy, self.result, lang, notes=self.notes)
        if self.result.robust is not None:
            from fundopt.reports.terminal.uncertainty import render_robust

            render_robust(console, table, policy, self.result, lang)
        if self.within is not None and self.result.is_ok and not self.result.alternatives:
            from fundopt.reports.terminal.findings import render_no_alternatives

            render_no_alternatives(console, self.within, lang)

    def show_phases(self, console: Console | None = None, lang: str = "en") -> None:
        """Print the seconds of each phase (``fundopt solve --profile``)."""
        from fundopt.reports.terminal.summary import render_phases

        render_phases(console or new_console(), self.phases, lang)

    def _repr_html_(self) -> str:
        from html import escape

        from fundopt.reports.text import say

        line = f"<p><b>{self.status}</b>"
        if self.objective is not None:
            line += " · " + escape(say("html.solve_line", "en", objective=self.objective,
                                       committed=self.committed,
                                       unit=self.inputs.policy.unit))
        return line + "</p>" + self.allocations.to_html(max_rows=60)


@dataclass(frozen=True)
class CheckRun:
    """The outcome of :func:`check`: the inputs, the model built from them (its size, the
    rows that cannot be funded) and the data warnings."""

    inputs: Inputs
    built: Built
    notes: tuple[DataWarning, ...] = ()

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt check`` prints."""
        from fundopt.reports.terminal.summary import render_check

        render_check(console or new_console(), self.inputs, self.built, lang, notes=self.notes)

    def _repr_html_(self) -> str:
        from fundopt.reports.text import say

        model = self.built.model
        line = say("html.check_line", "en", rows=len(self.inputs.table.frame),
                   constraints=len(self.inputs.constraints), columns=model.num_cols,
                   model_rows=model.num_rows,
                   warnings=len(self.notes) + len(self.built.warnings))
        return f"<p><b>{say('html.checked', 'en')}</b> · {line}</p>"


@dataclass(frozen=True)
class ExplainRun(SolveRun):
    """The outcome of :func:`explain`: the optimal plan with the explanations of ``ids``
    (``result.explanations``) and, with ``[uncertainty]``, their funded share over score
    draws (``shares``)."""

    ids: tuple[str, ...] = ()
    shares: Stability | None = None

    @property
    def explanations(self) -> pd.DataFrame:
        """One row per explained sub-fund (the fields of ``optimizer.result.Explanation``)."""
        import dataclasses

        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(e) for e in self.result.explanations or ()])

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt explain`` prints."""
        from fundopt.reports.terminal.findings import render_explanations

        console = console or new_console()
        if not self.ok:
            super().show(console, lang)
            return
        render_explanations(console, self.result, self.inputs.policy.unit, lang)
        if self.shares is not None:
            from fundopt.reports.terminal.uncertainty import render_funded_shares

            render_funded_shares(console, self.inputs.table, list(self.ids), self.shares,
                                 lang)


@dataclass(frozen=True)
class StabilityRun:
    """The outcome of :func:`stability`: per sub-fund the share of score draws in which
    it is funded, its mean amount, and the drawn objective's percentiles."""

    inputs: Inputs
    stability: Stability

    @property
    def nominal(self) -> Result:
        """The plan for the policy's own objective."""
        return self.stability.nominal

    @property
    def ok(self) -> bool:
        return self.nominal.is_ok

    @property
    def status(self) -> str:
        return str(self.nominal.status)

    @property
    def rows(self) -> pd.DataFrame:
        """One row per input row: ``id``, ``funded_share``, ``mean_amount``, ``group``,
        ``in_nominal_plan``."""
        from fundopt.reports.stability import stability_frame

        return stability_frame(self.inputs.table, self.stability)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``stability -o x.json`` writes."""
        from fundopt.reports.stability import stability_dict

        return stability_dict(self.inputs.table, self.inputs.policy, self.stability)

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` or ``.xlsx`` files; returns the paths written."""
        from fundopt.reports.files.export import check_output_paths
        from fundopt.reports.stability import write_stability

        written = [Path(p) for p in paths]
        check_output_paths(written, list(self.inputs.files))
        write_stability(written, self.inputs.table, self.inputs.policy, self.stability, lang)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt stability`` prints."""
        console = console or new_console()
        if not self.ok:
            from fundopt.reports.terminal.summary import render_summary

            render_summary(console, self.inputs.table, self.inputs.policy, self.nominal, lang)
            return
        from fundopt.reports.terminal.uncertainty import render_stability

        render_stability(console, self.inputs.table, self.inputs.policy, self.stability, lang)

    def _repr_html_(self) -> str:
        from fundopt.reports.text import say

        draws = say("html.draws", "en", draws=self.stability.draws)
        return f"<p><b>{self.status}</b> · {draws}</p>" + self.rows.to_html(max_rows=60)


@dataclass(frozen=True)
class CompareRun:
    """Every scenario (baseline first) and its result (None when its input was bad)."""

    scenarios: tuple[Prepared, ...]
    results: tuple[Result | None, ...]
    scenario_file: Path
    scenario_sha256: str
    notes: tuple[DataWarning, ...] = ()   # data that looks wrong in the base table
    engine: dict[str, Any] | None = None   # where it ran: {"kind", "workers"} (SPEC §10)

    @property
    def baseline(self) -> tuple[Prepared, Result | None]:
        return self.scenarios[0], self.results[0]

    @property
    def errors(self) -> list[InputError]:
        """The input errors of scenarios that could not be solved (in file order)."""
        return [p.error for p in self.scenarios if p.error is not None]

    def frame(self, lang: str = "en") -> pd.DataFrame:
        """The side-by-side table (``reports.compare.compare_frame``)."""
        from fundopt.reports.compare import compare_frame

        return compare_frame(self, lang)

    def changes(self, scenario: int) -> pd.DataFrame:
        """Sub-funds added, dropped or changed in scenario ``scenario`` (1 = the first
        after the baseline) against the baseline (``reports.compare.plan_changes``)."""
        from fundopt.reports.compare import plan_changes

        return plan_changes(self, scenario)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``compare -o x.json`` writes."""
        from fundopt.reports.compare import compare_dict

        return compare_dict(self, lang)

    def write(self, *paths: str | Path, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` or ``.xlsx`` files, never over an input file."""
        from fundopt.reports.compare import write_compare
        from fundopt.reports.files.export import check_output_paths, input_files

        written = [Path(p) for p in paths]
        check_output_paths(written, [self.scenario_file, *input_files(self.scenarios[0])])
        write_compare(written, self, lang)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt compare`` prints."""

        from fundopt.reports.terminal.batch import render_compare
        from fundopt.reports.terminal.summary import render_notes

        console = console or new_console()
        render_compare(console, self, lang)
        render_notes(console, self.notes, lang)

    def _repr_html_(self) -> str:
        return self.frame().to_html()


@dataclass(frozen=True)
class SweepRun:
    """The swept key path, its values and one result per value, on one table."""

    param: str
    values: tuple[float, ...]
    results: tuple[Result, ...]
    table: Table
    policy: Policy                  # the base policy (unit, files for the cover)
    notes: tuple[DataWarning, ...] = ()   # data that looks wrong in the table
    engine: dict[str, Any] | None = None   # where it ran: {"kind", "workers"} (SPEC §10)

    @property
    def points(self) -> pd.DataFrame:
        """One row per point (``reports.sweep.sweep_frame``)."""
        from fundopt.reports.sweep import sweep_frame

        return sweep_frame(self)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``sweep -o x.json`` writes."""
        from fundopt.reports.sweep import sweep_dict

        return sweep_dict(self, lang)

    def write(self, *paths: str | Path, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` or ``.xlsx`` files, never over an input file."""
        from fundopt.reports.files.export import check_output_paths, policy_file
        from fundopt.reports.sweep import write_sweep

        written = [Path(p) for p in paths]
        check_output_paths(written, [self.table.path, *policy_file(self.policy)])
        write_sweep(written, self, lang)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt sweep`` prints."""

        from fundopt.reports.terminal.batch import render_sweep
        from fundopt.reports.terminal.summary import render_notes

        console = console or new_console()
        render_sweep(console, self, lang)
        render_notes(console, self.notes, lang)

    def _repr_html_(self) -> str:
        return self.points.to_html()
