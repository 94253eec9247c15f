"""compare and sweep as a planner runs them: the engine in the JSON, --scheduler, and
stopping when asked (Ctrl-C, SIGTERM) or when a worker dies — through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cluster import scheduler_address
from typer.testing import CliRunner

from fundopt.cli import app

ROOT = Path(__file__).parent.parent
TABLE = str(ROOT / "inputs" / "2024.csv")
SCENARIOS = str(ROOT / "inputs" / "2024-scenarios.toml")
FUNDOPT = str(Path(sys.executable).parent / "fundopt")
runner = CliRunner()


def sweep_args(out: Path, steps: int = 400) -> list[str]:
    return ["sweep", TABLE, "--param", "budget", "--from", "20", "--to", "50",
            "--steps", str(steps), "-o", str(out)]


def test_batch_json_records_the_engine(tmp_path: Path) -> None:
    result = runner.invoke(app, [*sweep_args(tmp_path / "s.json", 3), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.json").read_text())["engine"] == {"kind": "serial",
                                                                        "workers": 1}
    result = runner.invoke(app, ["compare", TABLE, "--scenarios", SCENARIOS, "-o",
                                 str(tmp_path / "c.json"), "--workers", "2"])
    assert result.exit_code in (0, 2), result.output
    assert json.loads((tmp_path / "c.json").read_text())["engine"] == {"kind": "local",
                                                                        "workers": 2}


def test_workers_and_scheduler_exclude_each_other(tmp_path: Path) -> None:
    result = runner.invoke(app, [*sweep_args(tmp_path / "s.json", 3), "--workers", "2",
                                 "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert "--workers and --scheduler exclude each other" in result.output
    assert not (tmp_path / "s.json").exists()


def test_scheduler_without_dask_says_how_to_install(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    monkeypatch.setenv("FUNDOPT_SCHEDULER", "tcp://127.0.0.1:8786")
    for lang, text in (("en", "pip install 'fundopt[cluster]'"), ("zh", "尚未安装")):
        result = runner.invoke(app, [*sweep_args(tmp_path / "s.json", 3), "--lang", lang])
        assert result.exit_code == 2
        assert text in result.output and "Traceback" not in result.output


# --- signals and dead workers, on the real CLI as a subprocess ------------------------

def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(args: list[str]) -> subprocess.Popen[str]:
    # a session of its own: a Ctrl-C goes to the whole process group, as on a terminal
    return subprocess.Popen([FUNDOPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for_workers(process: subprocess.Popen[str], count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while len(kids := children(process.pid)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the worker processes did not start"
        time.sleep(0.1)
    return kids


def stop_and_check(process: subprocess.Popen[str], send: str, out: Path,
                   watched: list[int]) -> float:
    """Signal the run; it must end with 130 within 2 s, write nothing, leave no child."""
    sent = time.monotonic()
    if send == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr and "Traceback" not in stderr
    assert not out.exists() and os.listdir(out.parent) == []
    assert elapsed < 2.0, f"stopped after {elapsed:.2f} s"
    # multiprocessing's resource tracker ends when it sees its parent gone: a moment later
    deadline = time.monotonic() + 1.0
    while left := [pid for pid in set(watched) if alive(pid)]:
        assert time.monotonic() < deadline, [Path(f"/proc/{pid}/cmdline").read_bytes()
                                             for pid in left]
        time.sleep(0.05)
    return elapsed


@pytest.mark.parametrize("send", ["group", "term"])
def test_a_signal_stops_a_local_sweep_at_once(tmp_path: Path, send: str) -> None:
    out = tmp_path / "out" / "sweep.json"
    out.parent.mkdir()
    process = start([*sweep_args(out), "--workers", "2"])
    watched = wait_for_workers(process, 2)
    time.sleep(1.5)  # the workers are solving
    stop_and_check(process, send, out, watched + children(process.pid))


def test_a_killed_local_worker_is_reported_and_the_sweep_completes(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    process = start([*sweep_args(out, 32), "--workers", "2"])
    workers = [pid for pid in wait_for_workers(process, 2)
               if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
    time.sleep(0.5)
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "A worker process died (killed by SIGKILL (9))" in stderr
    assert "BrokenProcessPool" not in stderr
    assert len(json.loads(out.read_text())["points"]) == 32


def test_ctrl_c_stops_a_dask_sweep_and_its_tasks(tmp_path: Path) -> None:
    address = scheduler_address()
    from distributed import Client

    def executing(worker: object) -> int:
        return len(worker.state.executing)  # type: ignore[attr-defined]

    out = tmp_path / "out" / "sweep.json"
    out.parent.mkdir()
    with Client(address, timeout=10, set_as_default=False) as client:
        process = start([*sweep_args(out), "--scheduler", address])
        deadline = time.monotonic() + 60
        while not any(client.processing().values()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no task reached the workers"
            time.sleep(0.1)
        time.sleep(1.0)
        stop_and_check(process, "group", out, [])
        deadline = time.monotonic() + 2.0
        while sum(client.run(lambda dask_worker: executing(dask_worker)).values()):
            assert time.monotonic() < deadline, "a worker still runs a task of the sweep"
            time.sleep(0.1)


def test_fundopt_scheduler_environment_variable(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    address = scheduler_address()
    monkeypatch.setenv("FUNDOPT_SCHEDULER", address)
    result = runner.invoke(app, sweep_args(tmp_path / "s.json", 5))
    assert result.exit_code == 0, result.output
    engine = json.loads((tmp_path / "s.json").read_text())["engine"]
    assert engine["kind"] == "dask" and engine["workers"] >= 1
    # --workers wins over the variable: serial, the same points
    result = runner.invoke(app, [*sweep_args(tmp_path / "t.json", 5), "--workers", "1"])
    serial = json.loads((tmp_path / "t.json").read_text())
    assert serial["engine"]["kind"] == "serial"
    assert serial["points"] == json.loads((tmp_path / "s.json").read_text())["points"]
