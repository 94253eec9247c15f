"""Limits hold while reading, whatever the machine (issue 21): memory-capped runs of every
bounded reader, numbers the solver cannot take, steps too fine to solve exactly, seeds,
a scheduler address that is not a scheduler, signals from start-up to exit, and the
reviewers' mean as the score (SPEC §8)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, wait_for_fundopt_code
from reference import reference_solve

from fundopt.models.reading.inputs import load_inputs

INPUTS = ROOT / "inputs"
CAP = 2 * 1024**3          # prlimit --as: the red team's 2 GiB


def fundopt(*args: object, cap: bool = False, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fundopt", *map(str, args)]
    if cap:
        command = ["prlimit", f"--as={CAP}", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("2024.csv", "2024.toml"):
        shutil.copy(INPUTS / name, tmp_path / name)
    return tmp_path


def refused(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode == 2, done.stderr
    assert needle in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr


# --- memory-capped readers -----------------------------------------------------------

def _giant_xlsx(path: Path, chars: int) -> None:
    """A workbook whose second row holds one inline-string cell of ``chars`` characters."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxml'
            'formats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
            'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocu'
            'ment.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                   '<sheet name="subfunds" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}"><Relationship '
                   f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", (
            f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
            '<t>id</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>'
            + "x" * chars + "</t></is></c></row></sheetData></worksheet>"))


def test_a_plain_solve_runs_under_the_cap(folder: Path) -> None:
    done = fundopt("solve", folder / "2024.csv", cap=True)
    assert done.returncode == 0, done.stderr


def test_giant_inline_string_cell_under_the_cap(folder: Path) -> None:
    _giant_xlsx(folder / "giant.xlsx", 100_000_000)
    refused(fundopt("solve", folder / "giant.xlsx", "--policy", folder / "2024.toml",
                    cap=True), "a cell holds more than 32,767 characters")


@pytest.mark.parametrize("body", [
    "x = " + "[" * 20_000 + "]" * 20_000,                       # arrays
    "x = " + "{a=" * 20_000 + "1" + "}" * 20_000,               # inline tables
    "[" + ".".join(["a"] * 20_000) + "]",                       # dotted table headers
])
def test_policy_nested_20000_levels_under_the_cap(folder: Path, body: str) -> None:
    policy = folder / "deep.toml"
    policy.write_text("budget = 40\n" + body + "\n", encoding="utf-8")
    refused(fundopt("solve", folder / "2024.csv", "--policy", policy, cap=True),
            "nested deeper than 32 levels")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "plan.json"
    os.mkfifo(path)
    yield path


def test_devices_and_fifos_are_refused_under_the_cap(folder: Path, fifo: Path) -> None:
    refused(fundopt("solve", folder / "2024.csv", "--policy", "/dev/zero", cap=True),
            "not a regular file")
    for plan in ("/dev/zero", fifo):
        refused(fundopt("book", "add", plan, "--book", folder / "f.book", "--round", "1",
                        cap=True, timeout=30), "not a regular file")
        refused(fundopt("verify", folder / "2024.csv", plan, cap=True, timeout=30),
                "not a regular file" if plan == fifo else "unsupported plan format")
    assert not (folder / "f.book").exists()


def test_deeply_nested_plan_json_under_the_cap(folder: Path) -> None:
    plan = folder / "deep.json"
    plan.write_text('{"allocations": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    refused(fundopt("book", "add", plan, "--book", folder / "f.book", "--round", "1",
                    cap=True), "nested deeper than 32 levels")
    refused(fundopt("verify", folder / "2024.csv", plan, cap=True),
            "nested deeper than 32 levels")


# --- numbers, steps and seeds ------------------------------------------------------------

def test_reviewer_columns_past_the_magnitude_limit(folder: Path) -> None:
    table = pd.read_csv(folder / "2024.csv", encoding="utf-8-sig")
    table.loc[3, "评审B"] = 1e16
    table.to_csv(folder / "2024.csv", index=False, encoding="utf-8-sig")
    for args in (["solve", "--robust", "worst"], ["stability", "--draws", "5", "--workers", "1"],
                 ["solve"]):
        done = fundopt(args[0], folder / "2024.csv", *args[1:])
        refused(done, "row 5, column '评审B': number too large for the solver")


@pytest.mark.parametrize("step", ["1e-9", "1e-12", "5e-9", "1e-8", "3.9e-5"])
def test_steps_too_fine_for_an_exact_solve_are_refused(folder: Path, step: str) -> None:
    policy = folder / "2024.toml"
    text = policy.read_text(encoding="utf-8").replace("amount_step = 0.01", f"amount_step = {step}")
    policy.write_text(text, encoding="utf-8")
    done = fundopt("solve", folder / "2024.csv", timeout=60)
    refused(done, f"amount_step = {float(step):g} is finer than 1e-06 of the budget (40)")
    assert "amount_step >= 4e-05" in " ".join(done.stderr.split())


def test_the_finest_step_allowed_solves_exactly(folder: Path) -> None:
    policy = folder / "2024.toml"
    text = policy.read_text(encoding="utf-8").replace("amount_step = 0.01", "amount_step = 4e-5")
    policy.write_text(text, encoding="utf-8")
    done = fundopt("solve", folder / "2024.csv", "-o", folder / "plan.json", timeout=300)
    assert done.returncode == 0, done.stderr
    done = fundopt("verify", folder / "2024.csv", folder / "plan.json", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("seed", "ok"), [(0, True), (2**63 - 1, True), (10**16, True),
                                          (2**63, False), (-1, False)])
def test_the_seed_range_is_the_same_in_the_policy_and_on_the_command_line(
        folder: Path, seed: int, ok: bool) -> None:
    policy = folder / "2024.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("seed = 2024", f"seed = {seed}"),
                      encoding="utf-8")
    from_policy = fundopt("stability", folder / "2024.csv", "--draws", "2", "--workers", "1")
    shutil.copy(INPUTS / "2024.toml", policy)
    from_option = fundopt("stability", folder / "2024.csv", "--draws", "2", "--workers", "1",
                          "--seed", seed)
    if ok:
        assert from_policy.returncode == 0 == from_option.returncode, from_policy.stderr
    else:
        assert from_policy.returncode == 2 == from_option.returncode
        assert "from 0 to 9223372036854775807" in " ".join(from_policy.stderr.split())
        assert "9223372036854775807" in from_option.stderr


# --- a scheduler address that is no scheduler ---------------------------------------------

@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def http_port() -> Iterator[int]:
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    server = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["silent", "http"])
def test_a_scheduler_that_is_not_one_is_refused_within_seconds(
        folder: Path, kind: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(f"{kind}_port")
    started = time.monotonic()
    done = fundopt("sweep", folder / "2024.csv", "--param", "budget", "--from", "38",
                   "--to", "40", "--steps", "2", "--scheduler", f"tcp://127.0.0.1:{port}",
                   timeout=120)
    assert time.monotonic() - started < 30
    refused(done, "no Dask scheduler answered")


# --- signals from start-up to exit --------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/status").exists(),
                    reason="needs /proc to see when fundopt's handlers are in place")
def test_signals_at_random_moments_end_cleanly(folder: Path) -> None:
    """From the first fundopt code on (Python's own start-up, its site imports, is out of
    fundopt's reach) to the exit: exit 0 (done before the signal) or
    130 with one line. A process that has printed the farewell may also end by SIGINT
    itself (-2), which shells report as 130 too."""
    rng = random.Random(21)
    out = folder / "plan.json"
    for k in range(16):
        process = subprocess.Popen(
            [sys.executable, "-m", "fundopt", "solve", str(folder / "2024.csv"), "-o", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_fundopt_code(process)
        time.sleep(rng.uniform(0.0, 1.4))
        sig = signal.SIGINT if k % 2 == 0 else signal.SIGTERM
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
        # a signal after fundopt's code has ended, in Python's own shutdown (which restores
        # the default handlers), ends the process by that signal (docs/reliability.md)
        assert process.returncode in (0, 130, -signal.SIGINT, -signal.SIGTERM), \
            (k, process.returncode, stderr)
        assert "Traceback" not in stderr, stderr
        if process.returncode == 130:
            assert "Interrupted (Ctrl-C or SIGTERM)." in stderr
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".plan")]
        assert not leftovers, leftovers
        if out.exists():
            assert out.read_text(encoding="utf-8").rstrip().endswith("}")
            out.unlink()


# --- a reader that stops reading -----------------------------------------------------------

@pytest.mark.parametrize(("command", "budget", "code"), [
    (["solve", "2024.csv", "-o", "plan.json"], 40, 0),
    (["solve", "2024.csv", "--lang", "zh"], 40, 0),
    (["sweep", "2024.csv", "--param", "region.天津.min_share", "--from", "0.2", "--to", "0.9",
      "--steps", "8", "--workers", "1"], 40, 0),
    (["solve", "2024.csv", "-o", "plan.json"], 1, 3),   # infeasible: its diagnosis, exit 3
])
def test_output_piped_to_head_keeps_the_exit_code(folder: Path, command: list[str],
                                                  budget: int, code: int) -> None:
    """``fundopt … | head -1``: the reader leaves after one line; the command still
    ends with its own exit code and writes its files (not exit 1 of a broken pipe)."""
    policy = folder / "2024.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "budget = 40", f"budget = {budget}"), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "fundopt", *command], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == code, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr
    if "-o" in command:
        assert json.loads((folder / "plan.json").read_text(encoding="utf-8"))["status"]


# --- SPEC §8: the score is the reviewers' mean unless given -------------------------------

def test_a_table_without_score_uses_the_reviewers_mean(folder: Path) -> None:
    table = pd.read_csv(folder / "2024.csv", encoding="utf-8-sig")
    table.drop(columns=["score"]).to_csv(folder / "panel.csv", index=False,
                                         encoding="utf-8-sig")
    shutil.copy(folder / "2024.toml", folder / "panel.toml")
    inputs = load_inputs(folder / "panel.csv")
    frame = inputs.table.frame.copy()
    mean = table[["评审A", "评审B", "评审C"]].mean(axis=1).to_numpy()
    np.testing.assert_allclose(frame["score"].to_numpy(float), mean)
    status, optimum, _ = reference_solve(frame.assign(score=mean), inputs.policy,
                                         inputs.constraints)
    assert status == "optimal" and optimum is not None
    done = fundopt("solve", folder / "panel.csv")
    assert done.returncode == 0, done.stderr
    assert f"{optimum:,.2f}" in done.stdout
    for args in (["solve", "--robust", "worst"], ["solve", "--robust", "cvar:0.5"],
                 ["stability", "--draws", "10", "--workers", "1"]):
        done = fundopt(args[0], folder / "panel.csv", *args[1:])
        assert done.returncode == 0, (args, done.stderr)
