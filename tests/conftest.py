"""Shared fixtures. Sibling helper modules (plan_checker, reference, orlib) are importable.

CI rule: with the environment variable ``CI=true`` (set by CI), a skipped test fails the
run. A test skips when what it needs is missing (external data, LibreOffice, a database
server, a cluster); on a developer's clone that is fine, but in CI it would hide a test
that never ran, so ``.ci/run`` must provide everything and this hook enforces it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


# --- every --lang zh run of the suite says nothing in English (issue 17) --------------

def _asks_zh(argv: list[str]) -> bool:
    """A run that should say everything in Chinese: ``--lang zh``, except ``--help``,
    whose text is English in every language (docs/commands.md)."""
    if "--help" in argv:
        return False
    return any(a == "--lang" and b == "zh" for a, b in zip(argv, argv[1:], strict=False)) \
        or "--lang=zh" in argv


def assert_no_english(output: str, argv: list[str]) -> None:
    """Fail when a ``--lang zh`` run printed English message text (see ``zh_check``)."""
    from zh_check import data_values, english_in

    found = english_in(output, data_values(argv))
    assert not found, (f"English in the Chinese output of fundopt {' '.join(argv)}: "
                       f"{found}\n--- output ---\n{output}")


@pytest.fixture(autouse=True)
def _chinese_runs_say_nothing_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap the two ways the suite runs fundopt, typer's ``CliRunner.invoke`` and
    ``subprocess.run`` of the ``fundopt`` program or module, so that every run with
    ``--lang zh`` is checked for English message text in what it printed. (A run started
    with ``subprocess.Popen`` — the crash and signal tests — is not checked.)"""
    import subprocess

    from typer.testing import CliRunner

    invoke, run = CliRunner.invoke, subprocess.run

    def checked_invoke(self: CliRunner, app: Any, args: Any = None,
                       *rest: Any, **options: Any) -> Any:
        result = invoke(self, app, args, *rest, **options)
        argv = args.split() if isinstance(args, str) else [str(a) for a in args or ()]
        if _asks_zh(argv):
            assert_no_english(result.output, argv)
        return result

    def checked_run(command: Any, *rest: Any, **options: Any) -> Any:
        done = run(command, *rest, **options)
        argv = [str(a) for a in command] if isinstance(command, list | tuple) else []
        ours = any(a.endswith(("fundopt", "fundopt.cli")) for a in argv)
        if ours and _asks_zh(argv):
            for stream in (done.stdout, done.stderr):
                if isinstance(stream, str):
                    assert_no_english(stream, argv)
        return done

    monkeypatch.setattr(CliRunner, "invoke", checked_invoke)
    monkeypatch.setattr(subprocess, "run", checked_run)


# --- signals sent to a running fundopt ------------------------------------------------------

def wait_for_fundopt_code(process: subprocess.Popen[str]) -> None:
    """Until fundopt's first code has run: its SIGTERM handler (Python installs none of its
    own) shows in the kernel's caught-signal mask. A fixed head start is not enough on a
    loaded machine, where Python's own start-up took longer than 0.12 s (a bare -15)."""
    status = Path(f"/proc/{process.pid}/status")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            lines = status.read_text().splitlines()
        except OSError:             # it has just ended
            return
        caught = next((line.split()[1] for line in lines if line.startswith("SigCgt:")), "0")
        if int(caught, 16) >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.005)
