"""The batch engines: serial, local pool and Dask give the same results in the same order,
lose no finished result when a worker dies, and say what is wrong in words."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cluster import scheduler_address

from fundopt.errors import InputError
from fundopt.models.reading.inputs import policy_tree
from fundopt.models.reading.table import read_table
from fundopt.models.rules.scenarios import base_policy_path, load_scenarios, prepare_all
from fundopt.models.rules.sweep import sweep_policies
from fundopt.optimizer.batch import Job, solve_many
from fundopt.optimizer.engines import (
    DaskEngine,
    LocalEngine,
    SerialEngine,
    Work,
    WorkerLost,
    chunks,
    open_engine,
)
from fundopt.optimizer.result import Result

ROOT = Path(__file__).parent.parent
TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def jobs() -> list[Job]:
    """Sweep points sharing one table (some infeasible, diagnosed) and a scenario with an
    edited table of its own."""
    table = read_table(ROOT / "inputs" / "2024.csv")
    base = policy_tree(table, ROOT / "inputs" / "2024.toml")
    values = np.linspace(30.0, 46.0, 8).tolist()
    file = load_scenarios(ROOT / "inputs" / "2024-scenarios.toml")
    scenarios = prepare_all(file, table, policy_tree(table, base_policy_path(table, file, None)))
    return [Job(table, p, c) for p, c in sweep_policies(table, base, "budget", values)] + [
        Job(s.table, s.policy, s.constraints) for s in scenarios[2:4]
        if s.table is not None and s.policy is not None]


@pytest.fixture(scope="module")
def serial(jobs: list[Job]) -> list[Result]:
    return solve_many(jobs, engine=SerialEngine())


def assert_same(a: list[Result], b: list[Result]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.status == y.status and x.objective == y.objective
        np.testing.assert_array_equal(x.amounts, y.amounts)
        assert [c.value for c in x.constraints] == [c.value for c in y.constraints]
        assert x.diagnosis == y.diagnosis


def test_chunks_are_strided_and_cover_every_point_once() -> None:
    assert chunks(3) == [[0], [1], [2]]
    assert chunks(40)[0] == [0, 16, 32] and len(chunks(40)) == 16
    assert len(chunks(10_000)) == 400
    assert sorted(i for c in chunks(10_000) for i in c) == list(range(10_000))


def test_open_engine_picks_by_workers() -> None:
    assert isinstance(open_engine(1), SerialEngine)
    engine = open_engine(3)
    assert isinstance(engine, LocalEngine) and engine.describe() == {"kind": "local",
                                                                       "workers": 3}
    assert SerialEngine().describe() == {"kind": "serial", "workers": 1}


def test_local_pool_equals_serial(jobs: list[Job], serial: list[Result]) -> None:
    calls: list[tuple[int, int]] = []
    with open_engine(2) as engine:
        local = solve_many(jobs, engine=engine, progress=lambda d, t: calls.append((d, t)))
    assert_same(serial, local)
    assert any(r.status == "infeasible" and r.diagnosis for r in serial)
    assert calls[-1] == (len(jobs), len(jobs))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_local_worker_killed_mid_run_loses_nothing(jobs: list[Job], serial: list[Result]
                                                   ) -> None:
    lost: list[WorkerLost] = []
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if not killed:
            victim = next(p for p in multiprocessing.active_children() if p.is_alive())
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    result = solve_many(jobs, engine=LocalEngine(2, lost.append), progress=kill_one)
    assert killed
    assert_same(serial, result)
    assert lost and lost[0].exitcode == -signal.SIGKILL and lost[0].restart == 1
    assert 0 < lost[0].points < len(jobs)  # the chunk that had finished is kept


def test_local_pool_gives_up_on_a_point_that_always_kills_its_worker() -> None:
    import engine_work

    from fundopt.errors import BatchError

    lost: list[WorkerLost] = []
    work = Work(engine_work.setup, engine_work.square_or_die)
    with pytest.raises(BatchError, match="kept dying") as raised:
        LocalEngine(1, lost.append).map(work, 1, [1, -1])
    assert [x.restart for x in lost] == [1, 2, 3]
    assert "进程" in raised.value.render("zh")


def test_an_error_in_a_task_is_raised_not_retried() -> None:
    import engine_work

    lost: list[WorkerLost] = []
    work = Work(engine_work.setup, engine_work.square_or_die)
    assert LocalEngine(2).map(work, 1, [0, 1, 2, 3, 4]) == [1, 2, 5, 10, 17]
    with pytest.raises(ValueError, match="refused"):
        LocalEngine(1, lost.append).map(work, 1, [0, -2])
    assert not lost


def test_scheduler_without_dask_installed_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with pytest.raises(InputError) as raised:
        open_engine(scheduler="tcp://127.0.0.1:8786")
    assert "pip install 'fundopt[cluster]'" in raised.value.render("en")
    assert "尚未安装" in raised.value.render("zh")


def test_a_scheduler_that_does_not_answer_is_an_input_error() -> None:
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(InputError, match="no Dask scheduler answered"):
        open_engine(scheduler=f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - started < 30


# --- on the test cluster (.ci/run starts a scheduler and two workers on 127.0.0.1) ------

def test_dask_equals_serial(jobs: list[Job], serial: list[Result]) -> None:
    address = scheduler_address()
    calls: list[tuple[int, int]] = []
    with open_engine(scheduler=address) as engine:
        assert isinstance(engine, DaskEngine) and engine.describe()["kind"] == "dask"
        assert engine.describe()["workers"] >= 1
        result = solve_many(jobs, engine=engine, progress=lambda d, t: calls.append((d, t)))
        again = solve_many(jobs[:3], engine=engine)  # a second batch on the same client
    assert_same(serial, result)
    assert_same(serial[:3], again)
    assert calls[-1] == (len(jobs), len(jobs))


def test_dask_worker_killed_mid_run_loses_nothing(jobs: list[Job], serial: list[Result],
                                                  tmp_path: Path) -> None:
    """A worker of our own joins the cluster and is killed once the run is under way."""
    address = scheduler_address()
    dask = Path(sys.executable).parent / "dask"
    name = f"fundopt-test-{os.getpid()}"
    worker = subprocess.Popen(
        [str(dask), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--name", name,
         "--no-nanny", "--no-dashboard", "--local-directory", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from distributed import Client

        with Client(address, timeout=10, set_as_default=False) as client:
            before = len(client.scheduler_info(n_workers=-1)["workers"])
            deadline = time.monotonic() + 60
            while not any(w.get("name") == name for w in
                          client.scheduler_info(n_workers=-1)["workers"].values()):
                assert time.monotonic() < deadline and worker.poll() is None
                time.sleep(0.2)
            assert len(client.scheduler_info(n_workers=-1)["workers"]) == before + 1

        def kill_ours(done: int, total: int) -> None:
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)

        with open_engine(scheduler=address) as engine:
            result = solve_many(jobs * 2, engine=engine, progress=kill_ours)
        assert worker.wait(10) == -signal.SIGKILL
        assert_same(serial * 2, result)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_progress_text_names_the_engine() -> None:
    from fundopt.reports.terminal.progress import progress_text, worker_lost_text

    assert progress_text(LocalEngine(2), "en") == "solving (2 local processes)"
    assert progress_text(SerialEngine(), "zh") == "求解中（本进程串行）"
    lost = WorkerLost(points=7, exitcode=-9, restart=1)
    assert worker_lost_text(lost, "en").startswith("A worker process died (killed by "
                                                   "SIGKILL (9)). No finished result is lost")
    assert "7 个点" in worker_lost_text(lost, "zh")
    assert "exit code 3" in worker_lost_text(WorkerLost(1, 3, 2), "en")
