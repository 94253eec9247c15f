"""Output files of ``fundopt solve``: ``.json``, ``.csv`` and ``.xlsx`` (SPEC §5–§6).

Every file is written atomically and never over an input; the paths are checked by
:func:`check_output_paths` before anything is solved or written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fundopt
from fundopt.errors import InputError
from fundopt.messages import Said
from fundopt.models.checks import DataWarning
from fundopt.models.domain import ID, NAME, Policy, Table
from fundopt.optimizer.result import Diagnosis, Result
from fundopt.reports import numbers
from fundopt.reports.diagnosis_text import diagnosis_lines, warning_line
from fundopt.reports.files.atomic import Writer, check_not_input, output_key, write_all
from fundopt.reports.findings import findings_dict, price_range_dict
from fundopt.reports.frames import plan_display, with_eligibility
from fundopt.reports.labels import relaxation_text

DATA_SUFFIXES = (".json", ".csv", ".xlsx")
MEMO_SUFFIXES = (".pdf", ".html")  # the decision memo (SPEC §12): solve and explain only
SUFFIXES = DATA_SUFFIXES + MEMO_SUFFIXES
# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_output_paths(paths: Sequence[Path], inputs: Sequence[Path], memo: bool = False
                       ) -> None:
    """Check every output path before anything is solved or written.

    ``memo``: the command writes the decision memo (``.pdf``, ``.html``) too.

    Raises
    ------
    InputError
        An unknown extension, a path given twice, a directory, or an input file.
    """
    seen: set[str] = set()
    for path in paths:
        path = Path(path)
        suffixes = SUFFIXES if memo else DATA_SUFFIXES
        if path.suffix.lower() not in suffixes:
            raise InputError(
                code="input.export.format", file=str(path), value=path.suffix or path.name,
                values={"last": suffixes[-1],
                        "first": Said({"en": ", ".join(suffixes[:-1]),
                                       "zh": "、".join(suffixes[:-1])})})
        if output_key(path) in seen:
            raise InputError(code="input.export.twice", file=str(path))
        seen.add(output_key(path))
        check_not_input(path, inputs)


def policy_file(policy: Policy) -> list[Path]:
    """The policy's file, if it came from one (not a table's sheets or a dict)."""
    path = Path(policy.source)
    return [path] if path.suffix.lower() == ".toml" else []


def input_files(prepared: Any) -> list[Path]:
    """The files behind a scenario's table and policy (for output checks)."""
    table = [prepared.table.path] if prepared.table is not None else []
    return table + (policy_file(prepared.policy) if prepared.policy is not None else [])


def write_outputs(paths: Sequence[Path], table: Table, policy: Policy, result: Result,
                  lang: str, inputs: Sequence[Path], notes: Sequence[DataWarning] = ()
                  ) -> None:
    """Write each output file in the format its extension names.

    Parameters
    ----------
    paths
        The ``-o`` files (``.json``, ``.csv``, ``.xlsx``).
    table, policy, result
        What was solved and its outcome (infeasible results are written too).
    lang
        ``"en"`` or ``"zh"`` for headers and sheet names; JSON keys stay English.
    inputs
        The files read for this run; none of them is ever overwritten.
    notes
        Warnings about the data (similar spellings): JSON ``warnings``, the summary sheet.

    Raises
    ------
    InputError
        From :func:`check_output_paths`, before any file is written.
    """
    check_output_paths(paths, inputs, memo=True)

    def plan() -> pd.DataFrame:     # the CSV: ineligible rows with their reason (SPEC §11)
        return with_eligibility(plan_display(table, policy, result, lang), table, policy,
                                result, lang)

    def workbook(temp: Path) -> None:
        from fundopt.reports.workbook.solve import write_xlsx  # openpyxl is slow to import: on use

        write_xlsx(temp, table, policy, result, lang, notes)

    memos = [p for p in map(Path, paths) if p.suffix.lower() in MEMO_SUFFIXES]
    others = [p for p in map(Path, paths) if p.suffix.lower() not in MEMO_SUFFIXES]
    memo_files: list[tuple[Path, Writer]] = []
    if memos:
        from fundopt.reports.memo.html import memo_html
        from fundopt.reports.memo.pdf import check_fonts, write_pdf

        document = memo_html(table, policy, result, lang, notes)
        for path in memos:
            if path.suffix.lower() == ".pdf":
                check_fonts(document, lang, path)
                memo_files.append((path, lambda temp: write_pdf(document, temp)))
            else:
                memo_files.append((path, _text_writer(document)))
    write_files(others, lambda: result_dict(table, policy, result, lang, notes), plan,
                workbook, extra=memo_files)


def write_files(paths: Sequence[Path], data: Callable[[], dict[str, Any]],
                frame: Callable[[], pd.DataFrame], workbook: Writer,
                extra: Sequence[tuple[Path, Writer]] = ()) -> None:
    """Write the ``-o`` files, each in the format its extension names: all or none.

    Parameters
    ----------
    paths
        ``.json``, ``.csv`` and ``.xlsx`` paths (checked by :func:`check_output_paths`).
    data
        Makes the JSON document.
    frame
        Makes the table written as CSV (UTF-8 with BOM, CRLF line ends, formula-looking
        text protected).
    workbook
        Writes the ``.xlsx`` to the temporary path it is given.
    extra
        Further files and their writers (the memo), written with the others: all or none.

    Raises
    ------
    InputError
        A target cannot be written (full disk, read-only folder): no target has changed.
    """
    files: list[tuple[Path, Writer]] = []
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        if suffix == ".json":
            files.append((path, _text_writer(json_text(data()))))
        elif suffix == ".csv":
            files.append((path, _text_writer(csv_text(frame()))))
        else:
            files.append((path, workbook))
    write_all([*files, *extra])


def csv_text(frame: pd.DataFrame) -> str:
    """A table as CSV text with a BOM, read right by Excel and by fundopt itself; numbers
    without float noise.

    Lines end in CRLF (RFC 4180), so a CR or LF inside a value is always quoted.
    """
    frame = frame.copy()
    for column in range(frame.shape[1]):  # by position: headers may repeat
        if pd.api.types.is_float_dtype(frame.iloc[:, column]):
            frame.isetitem(column, numbers.clean_array(frame.iloc[:, column].to_numpy()))
    return "\ufeff" + protect_text(frame).to_csv(index=False, lineterminator="\r\n")


def _text_writer(text: str) -> Writer:
    def write(temp: Path) -> None:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return write


def json_ready(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, NaN and ±inf to None, numbers without
    float noise (``0.62``, never ``0.6199999999999999``: ``numbers.clean``)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return numbers.clean(value) if math.isfinite(value) else None
    return value


def manifest_dict(table: Table, policy: Policy, result: Result) -> dict[str, Any]:
    """Where the result came from: versions, input hashes, solver and time."""
    return {
        "fundopt": fundopt.__version__,
        "input": str(table.path),
        "input_sha256": table.sha256,
        "sheet": table.sheet,          # the .xlsx sheet read (None for .csv); book add reads it
        "policy": policy.source,
        "policy_sha256": policy.sha256,
        "solver": result.solver,
        "seconds": numbers.seconds(result.seconds),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def diagnosis_dict(diagnosis: Diagnosis, lang: str = "en") -> dict[str, Any]:
    """The SPEC §6 diagnosis: suggested relaxation (with each constraint's ``id``),
    conflicting set (``conflict``, their ids in ``conflict_ids``; each rule once in
    ``conflict_rules``), ``messages`` (what
    clashes and by how much, in ``lang``) and ``reasons`` (the same as data: a code and
    its values)."""
    return {
        "relaxation": [
            {"constraint": r.constraint, "bound": r.bound, "from": r.from_value,
             "to": r.to_value, "key": r.key, "id": r.id, "text": relaxation_text(r, lang)}
            for r in diagnosis.relaxation
        ],
        "conflict": list(diagnosis.conflict),
        "conflict_ids": list(diagnosis.conflict_ids),
        "conflict_rules": [{"rule": r.rule, "name": r.label, "id": r.id, "ids": list(r.ids),
                            "rows": list(r.rows)} for r in diagnosis.conflict_rules],
        "messages": diagnosis_lines(diagnosis, lang),
        "reasons": [m.as_json() for m in (*diagnosis.messages, *diagnosis.reasons)],
    }


def warning_dict(note: DataWarning, lang: str = "en") -> dict[str, Any]:
    """A data warning as SPEC §7 writes it: ``{"code": "similar_values", "column",
    "values", "ids", "message"}``."""
    return {"code": note.code, "column": note.column, "values": list(note.values),
            "ids": list(note.ids), "message": note.message(lang)}


def result_dict(table: Table, policy: Policy, result: Result, lang: str = "en",
                notes: Sequence[DataWarning] = ()) -> dict[str, Any]:
    """The machine-readable result of SPEC §5 (keys are English in every language).

    Returns
    -------
    dict
        ``status``, ``objective``, ``unit``, ``budget``, ``committed``, ``gap``,
        ``allocations`` (every input row in input order), ``constraints``, ``manifest``,
        ``warnings`` and, for an infeasible result, ``diagnosis``. NaN and infinities
        are None.
    """
    frame = table.frame
    names = frame[NAME] if NAME in frame.columns else frame[ID]
    amounts = np.asarray(result.amounts, dtype=float)
    # Built ready for JSON (amounts are finite) so 100 000 rows need no cleaning pass.
    allocations = [
        {"id": i, "name": n, "amount": a, "funded": f}
        for i, n, a, f in zip(frame[ID].astype(str).tolist(), names.astype(str).tolist(),
                              np.where(np.isfinite(amounts), amounts, 0.0).tolist(),
                              np.asarray(result.funded, dtype=bool).tolist(), strict=True)
    ]
    constraints = [
        {"name": c.label, "id": c.id, "measure": c.measure, "value": c.value, "min": c.min,
         "max": c.max, "slack": c.slack, "binding": c.binding, "bound": c.bound,
         "shadow_price": c.shadow_price, "scope": c.scope, "round_value": c.round_value,
         **price_range_dict(c)}
        for c in numbers.shown_binding(result.constraints,
                                       numbers.step_decimals(policy.amount_step))
    ]
    warnings = [warning_dict(n, lang) for n in notes] + [
        {"code": w.code, "id": w.row_id, "detail": dict(w.detail),
         "message": warning_line(w, lang)}
        for w in result.warnings
    ]
    out: dict[str, Any] = {
        "status": str(result.status), "objective": result.objective, "unit": policy.unit,
        "budget": policy.budget, "committed": result.committed, "gap": result.gap,
        "allocations": [], "constraints": constraints,
        "manifest": manifest_dict(table, policy, result), "warnings": warnings,
    }
    if any(c.penalty is not None for c in result.constraints):
        from fundopt.reports.targets import target_rows  # only policies with targets

        out["targets"] = target_rows(result)
    if result.diagnosis is not None:
        out["diagnosis"] = diagnosis_dict(result.diagnosis, lang)
    if result.book is not None:
        from fundopt.reports.book import book_totals_dict  # it builds on this module

        out["book"] = book_totals_dict(result)
        # the book's state this plan was solved against: book add refuses it once the
        # book has changed (SPEC §13)
        out["manifest"]["book_state"] = result.book.state
    out.update(findings_dict(result, frame[ID].astype(str).tolist(), policy.unit, lang))
    if result.robust is not None:
        from fundopt.reports.robust import robust_dict

        out["robust"] = robust_dict(table, policy, result)
    cleaned: dict[str, Any] = json_ready(out)
    cleaned["allocations"] = allocations
    return cleaned


def json_text(data: dict[str, Any]) -> str:
    """``data`` as indented JSON with one allocation per line.

    Python's indenting encoder is slow; the allocations (one per input row) are encoded
    one line each with the fast compact encoder, which also keeps the file readable.
    """
    allocations = data.get("allocations")
    if not allocations:
        return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    marker = "\u0000allocations\u0000"
    text = json.dumps({**data, "allocations": marker}, ensure_ascii=False, indent=2,
                      allow_nan=False)
    # One f-string per row with the C string encoder: 100 000 rows in ~0.15 s, against
    # ~1.3 s for json.dumps per row and ~0.7 s through a DataFrame and pandas' to_json.
    rows = ",\n".join(
        f'    {{"id": {encode_basestring(a["id"])}, "name": {encode_basestring(a["name"])}, '
        f'"amount": {float(a["amount"])!r}, "funded": {"true" if a["funded"] else "false"}}}'
        for a in allocations)
    return text.replace(json.dumps(marker), f"[\n{rows}\n  ]", 1) + "\n"


def protect_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where every text cell that a spreadsheet would run as a formula starts with
    an apostrophe (``=SUM(A1)`` → ``'=SUM(A1)``). Numbers and booleans are not touched."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            # the first character, then one isin: startswith(tuple) runs a Python
            # function per cell (1.3 s for six columns of 100 000 rows)
            risky = values.str.slice(0, 1).isin(FORMULA_STARTS).to_numpy()
            if risky.any():
                out[column] = values.mask(risky, "'" + values)
        elif pd.api.types.is_object_dtype(values):
            out[column] = values.map(protect_cell)
    out.columns = [protect_cell(str(c)) for c in out.columns]
    return out


def protect_cell(value: Any) -> Any:
    """One value, protected as in :func:`protect_text`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
