"""The steps every command shares: loading, checking outputs, data warnings, engines."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from fundopt.errors import InputError

if TYPE_CHECKING:   # imported on use: start-up time
    import pandas as pd
    from rich.console import Console

    from fundopt.models.checks import DataWarning
    from fundopt.models.domain import Table
    from fundopt.models.reading.inputs import Inputs, PolicyTree
    from fundopt.models.store.fund import FundView
    from fundopt.optimizer.engines import Engine, Progress, WorkerLost
    from fundopt.optimizer.result import Warning_

    # What a table or a policy may be given as: a path, or (library) a DataFrame / a dict.
    PathLike: TypeAlias = str | os.PathLike[str]
    TableLike: TypeAlias = PathLike | pd.DataFrame
    PolicyLike: TypeAlias = PathLike | Mapping[str, Any] | None
    # A batch command's progress display: given the engine, a context that yields the
    # callback ``(done, total)`` (the command line's progress bar), or None.
    ProgressFactory: TypeAlias = Callable[[Engine], AbstractContextManager[Progress | None]]
    # Called when a local worker process dies (the command line prints a line).
    Notify: TypeAlias = Callable[[WorkerLost], None]


def data_notes(inputs: Inputs | Any, strict: bool) -> tuple[DataWarning, ...]:
    """Similar values in the (base) table of a run; under ``strict`` an input error."""
    from fundopt.models.checks import similar_values

    if inputs.table is None or inputs.policy is None:
        return ()
    notes = similar_values(inputs.table, inputs.policy)
    if strict:
        refuse_warnings(notes, ())
    return notes


def refuse_warnings(notes: Sequence[DataWarning], warnings: Sequence[Warning_]) -> None:
    """``--strict``: any warning is an input error (exit 2)."""
    from fundopt.models.checks import strict_error
    from fundopt.reports.diagnosis_text import warning_line

    # an ineligible row is the policy's own decision (SPEC §11), not a doubt about the data
    warnings = [w for w in warnings if w.code != "ineligible"]
    if notes or warnings:
        raise strict_error([*(n.message("en") for n in notes),
                            *(warning_line(w, "en") for w in warnings)],
                           [*(n.message("zh") for n in notes),
                            *(warning_line(w, "zh") for w in warnings)])


def inputs_of(table: TableLike, policy: PolicyLike, sheet: str | None) -> Inputs:
    import pandas as pd

    from fundopt.models.reading.inputs import inputs_from

    return inputs_from(table if isinstance(table, pd.DataFrame) else Path(table),
                       policy if policy is None or isinstance(policy, Mapping)
                       else Path(policy), sheet)


def base_policy(table: TableLike, policy: PolicyLike, sheet: str | None, file: Any = None
                 ) -> tuple[Table, PolicyTree, list[Path]]:
    """The table (in the policy's unit), the base policy as a tree to vary, the files read
    (for ``compare`` and ``sweep``: scenarios and sweep points vary these inputs)."""
    import pandas as pd

    from fundopt.models.reading.inputs import (
        POLICY_DICT,
        PolicyTree,
        load_base,
        policy_file,
        read_any_table,
    )
    from fundopt.models.reading.units import in_policy_unit

    data, files = read_any_table(table if isinstance(table, pd.DataFrame) else Path(table),
                                 sheet)
    if isinstance(policy, Mapping):
        base = PolicyTree(dict(policy), POLICY_DICT)
        base.policy()                          # checked as solve checks it
    else:
        path = policy_file(data, None if policy is None else Path(policy),
                           file.base_policy if file is not None else None)
        files += [path] if path else []
        base, _ = load_base(data, path)
    return in_policy_unit(data, base.unit), base, files


def checked_outputs(outputs: Sequence[PathLike], inputs: Sequence[Path], memo: bool = False
                    ) -> list[Path]:
    """The ``-o`` paths, checked before anything is solved or written (``memo``: the
    command also writes the decision memo, ``.pdf`` / ``.html``)."""
    paths = [Path(p) for p in outputs]
    if paths:
        from fundopt.reports.files.export import check_output_paths

        check_output_paths(paths, inputs, memo=memo)
    return paths


def fund_view(book: str | None, inputs: Inputs) -> FundView | None:
    """The book as this round sees it, for ``--book`` (None without it)."""
    if book is None:
        return None
    from fundopt.models.store.fund import read_fund

    return read_fund(book, inputs.table, inputs.policy, inputs.constraints)


def book_files(book: str | None) -> list[Path]:
    """The book's file, however it is spelled (path, ``sqlite:///`` URL, link), is an
    input: no output may land on it."""
    if book is None:
        return []
    from fundopt.models.store.book import book_files as files_of

    return files_of(book)


def batch_engine(workers: int | None, scheduler: str | None, notify: Notify | None) -> Engine:
    """The engine of a batch command: Dask for ``scheduler`` (or ``FUNDOPT_SCHEDULER``
    when ``workers`` is not given), else the local pool, serial for ``workers=1``."""
    from fundopt.optimizer.engines import open_engine

    if scheduler and workers is not None:
        raise InputError(code="cli.workers_and_scheduler", column="--workers",
                         value=workers)
    if scheduler is None and workers is None:
        scheduler = os.environ.get("FUNDOPT_SCHEDULER") or None
    return open_engine(workers, scheduler, notify)


@contextmanager
def progress_of(factory: ProgressFactory | None, engine: Engine) -> Iterator[Progress | None]:
    with factory(engine) if factory is not None else nullcontext() as report:
        yield report


def new_console() -> Console:
    """The console a command prints its run on (standard output)."""
    from rich.console import Console

    class Output(Console):
        def on_broken_pipe(self) -> None:
            """Whoever reads the output stopped reading (``fundopt solve … | head``): the
            rest goes nowhere and the command keeps its own exit code, its files written
            (rich would exit 1, the code of an internal error)."""
            self.quiet = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    return Output(highlight=False)
