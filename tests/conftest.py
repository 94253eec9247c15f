"""Shared fixtures. Sibling helper modules (plan_checker, reference, orlib) are importable.

CI rule: with the environment variable ``CI=true`` (set by CI), a skipped test fails the
run. A test skips when what it needs is missing (external data, LibreOffice, a database
server, a cluster); on a developer's clone that is fine, but in CI it would hide a test
that never ran, so ``.ci/run`` must provide everything and this hook enforces it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

_skipped: list[tuple[str, str]] = []   # (test id, reason) of every skip in this run


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:   # (file, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, _reason(report)))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:   # a whole module skipped at import (pytest.skip(allow_module_level))
        _skipped.append((report.nodeid, _reason(report)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if in_ci() and _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (in_ci() and _skipped):
        return
    write = terminalreporter.write_line
    terminalreporter.section("CI=true: skipped tests fail the run", sep="=", red=True)
    write(f"{len(_skipped)} test(s) skipped; in CI every test must run. Provide what they "
          "need in .ci/run (external data, services, programs):", red=True)
    for nodeid, reason in _skipped:
        write(f"  SKIPPED {nodeid}: {reason}")
