"""Where a batch of independent solves runs: in this process, on a local process pool, or
on a running Dask distributed cluster.

The interface
-------------
A batch is a :class:`Work` — two module-level functions, importable by name on every
worker — applied to one shared input and a sequence of small points::

    with open_engine(workers=2) as engine:          # or scheduler="tcp://10.0.0.5:8786"
        results = engine.map(work, shared, points, progress=report)

- ``work.setup(shared) -> state`` runs once per worker process and batch. ``shared`` (the
  table, the policy, solver options) travels to each worker once: through the pool
  initializer, or scattered to every Dask worker before the first task. ``setup`` builds
  what every point reuses (the model).
- ``work.solve(state, chunk) -> results`` runs once per chunk of points and returns one
  result per point, in order. Points are small (a policy, a value, a draw number). The
  chunks are strided (points i, i + k, …) and fixed by the number of points alone
  (:func:`chunks`), never by the engine or the number of workers, so a chunk may carry
  state from point to point (a warm start) and still give the same results anywhere.
  ``chunk`` is an iterable to go through once, in order: the engine may stop a batch
  between two points by raising from it.
- ``progress(done, total)`` is called in the calling process as chunks finish.
- The same batch gives the same results — same order, same numbers — on every engine:
  each solve is deterministic and every process runs HiGHS on one thread (HiGHS may pick
  another of several tied optima with another thread count).
- Interrupted (``KeyboardInterrupt``, also what ``cli.py`` makes of SIGTERM), an engine
  stops its worker processes or cancels its tasks before the exception propagates.
- A lost worker loses no finished result. Local: the pool is restarted and the unfinished
  chunks run again (``MAX_RESTARTS`` times, each reported through ``notify``). Dask: the
  scheduler reruns the lost worker's tasks on the others.

``engine.describe()`` is what a batch JSON records: ``{"kind": ..., "workers": N}``.
"""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, Generic, TypeVar

import highspy

from fundopt.errors import BatchError, InputError
from fundopt.optimizer.highs import new_highs

S = TypeVar("S")   # the shared input
W = TypeVar("W")   # a worker's state built from it
P = TypeVar("P")   # one point
R = TypeVar("R")   # one point's result

# Called in the calling process: (points done, points in all).
Progress = Callable[[int, int], None]
# Chunks of a batch: at least 16, so a slow chunk does not leave the other workers idle at
# the end; more for long batches (one per 25 points), so a large cluster has work for every
# worker. Each chunk re-solves its points on one held model.
MIN_CHUNKS = 16
CHUNK_POINTS = 25
# How often the local pool is restarted after losing a worker before the batch gives up.
MAX_RESTARTS = 3
# Seconds to wait for a Dask scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 5.0
NO_WORKER_TIMEOUT = 30.0
# A Dask task looks this often (seconds) whether its batch was cancelled.
CANCEL_CHECK = 0.2
# How often the calling process looks for finished Dask tasks (seconds).
POLL = 0.05

class EngineKind(StrEnum):
    SERIAL = "serial"
    LOCAL = "local"
    DASK = "dask"


@dataclass(frozen=True)
class Work(Generic[S, W, P, R]):
    """What each worker does: ``setup(shared)`` once, then ``solve(state, point)`` per
    point. Both must be module-level functions (Dask and the pool send them by name)."""

    setup: Callable[[S], W]
    solve: Callable[[W, Iterable[P]], list[R]]


@dataclass(frozen=True)
class WorkerLost:
    """A local worker process died; ``points`` unfinished points are solved again.
    ``exitcode`` is the dead process's (negative: killed by that signal), if known."""

    points: int
    exitcode: int | None
    restart: int


Notify = Callable[[WorkerLost], None]


class Engine:
    """Base of the three engines; use :func:`open_engine`."""

    kind: EngineKind = EngineKind.SERIAL
    workers: int = 1

    def describe(self) -> dict[str, Any]:
        """``{"kind": "serial|local|dask", "workers": N}`` for the batch JSON."""
        return {"kind": str(self.kind), "workers": self.workers}

    def map(self, work: Work[S, W, P, R], shared: S, points: Sequence[P],
            progress: Progress | None = None) -> list[R]:
        """Solve every point; one result per point, in point order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the engine holds (the Dask connection)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_engine(workers: int | None = None, scheduler: str | None = None,
                notify: Notify | None = None) -> Engine:
    """The engine asked for: Dask when ``scheduler`` is given, else a local pool of
    ``workers`` processes (default: every core), serial for ``workers == 1``.

    Raises
    ------
    InputError
        ``scheduler`` given but Dask distributed is not installed, the scheduler does not
        answer, has no worker, or a worker runs another fundopt or HiGHS version.
    """
    if scheduler:
        return DaskEngine(scheduler)
    workers = workers or os.cpu_count() or 1
    return SerialEngine() if workers <= 1 else LocalEngine(workers, notify)


def chunks(count: int) -> list[list[int]]:
    """Point indices per chunk, a function of the point count alone.

    Strided (points i, i + k, …): neighbouring sweep points cost alike (a run of
    infeasible points, each diagnosed, is slow), so striding evens out the chunks.
    """
    k = min(count, max(MIN_CHUNKS, -(-count // CHUNK_POINTS)))
    return [list(range(first, count, k)) for first in range(k)]


# --- HiGHS on one thread, in every process that solves --------------------------------

_PREPARED = False
_PREPARE_LOCK = threading.Lock()


def single_threaded_highs() -> None:
    """(Re)start this process's HiGHS task scheduler with one thread.

    Every batch solve runs on a one-thread scheduler, because HiGHS may return a different
    one of several tied optima with another thread count: so all engines agree exactly.
    It also saves CPU: HiGHS's idle helper threads spin (~40 % of a core in a serial sweep),
    time the other workers need. The process-wide scheduler is sized at the first run
    after a reset, hence the empty model.
    """
    highspy.Highs.resetGlobalScheduler(True)
    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.passModel(highspy.HighsLp())
    highs.run()


def _prepare_worker_process() -> None:
    global _PREPARED
    with _PREPARE_LOCK:
        if not _PREPARED:
            single_threaded_highs()
            _PREPARED = True


@contextmanager
def one_thread() -> Iterator[None]:
    """One-thread HiGHS for a serial batch in this process, HiGHS's default afterwards."""
    single_threaded_highs()
    try:
        yield
    finally:
        highspy.Highs.resetGlobalScheduler(True)


# --- serial ---------------------------------------------------------------------------

class SerialEngine(Engine):
    """Every point in this process, one after the other."""

    kind, workers = EngineKind.SERIAL, 1

    def map(self, work: Work[S, W, P, R], shared: S, points: Sequence[P],
            progress: Progress | None = None) -> list[R]:
        results: dict[int, R] = {}
        with one_thread():
            state = work.setup(shared)
            for chunk in chunks(len(points)):
                values = work.solve(state, [points[i] for i in chunk])
                results.update(zip(chunk, values, strict=True))
                if progress is not None:
                    progress(len(results), len(points))
        return [results[i] for i in range(len(points))]


# --- local process pool ---------------------------------------------------------------

# A pool worker's batch: (work, shared) from the initializer, the state built at first use.
_LOCAL: tuple[Work[Any, Any, Any, Any], Any] | None = None
_LOCAL_STATE: list[Any] = []


class LocalEngine(Engine):
    """A pool of spawned worker processes on this machine."""

    kind = EngineKind.LOCAL

    def __init__(self, workers: int, notify: Notify | None = None) -> None:
        self.workers, self.notify = workers, notify

    def map(self, work: Work[S, W, P, R], shared: S, points: Sequence[P],
            progress: Progress | None = None) -> list[R]:
        parts = chunks(len(points))
        results: dict[int, R] = {}
        pending = list(range(len(parts)))
        for restart in range(MAX_RESTARTS + 1):
            exitcode = self._run(work, shared, points, parts, pending, results, progress)
            if not pending:
                return [results[i] for i in range(len(points))]
            lost = WorkerLost(sum(len(parts[c]) for c in pending), exitcode, restart + 1)
            if restart == MAX_RESTARTS:
                break
            if self.notify is not None:
                self.notify(lost)
        raise BatchError("batch.workers_kept_dying", {
            "times": MAX_RESTARTS + 1, "exitcode": lost.exitcode, "points": lost.points})

    def _run(self, work: Work[S, W, P, R], shared: S, points: Sequence[P],
             parts: list[list[int]], pending: list[int], results: dict[int, R],
             progress: Progress | None) -> int | None:
        """Run the ``pending`` chunks on a fresh pool, storing results and removing the
        finished chunks from ``pending``; the exit code of a worker that died, if any."""
        workers = min(self.workers, len(pending))
        # "spawn", not the default "fork": a process forked after HiGHS has started its
        # thread pool inherits the pool's state without its threads and spins for ever.
        pool = ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_local_init, initargs=(work, shared))
        try:
            with _sigint_ignored():  # workers inherit it: Ctrl-C is the parent's business
                futures: dict[Future[list[R]], int] = {
                    pool.submit(_local_chunk, [points[i] for i in parts[c]]): c
                    for c in pending}
            processes = _processes(pool)
            waiting = set(futures)
            while waiting:
                finished, waiting = wait_futures(waiting, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        values = future.result()
                    except BrokenProcessPool:
                        continue
                    chunk = futures[future]
                    results.update(zip(parts[chunk], values, strict=True))
                    pending.remove(chunk)
                    if progress is not None:
                        progress(len(results), len(points))
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        # The pool ends the other workers with SIGTERM once one has died: report the first.
        codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
        first = [c for c in codes if c != -signal.SIGTERM] or codes
        return first[0] if first else None


def _processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    # ProcessPoolExecutor has no public way to reach or stop its workers before Python
    # 3.14 (``terminate_workers``); a batch must stop them at once when interrupted.
    return list(getattr(pool, "_processes", {}).values())


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now (SIGTERM, then SIGKILL after a second) and the pool."""
    processes = _processes(pool)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 1.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    # With its workers gone the pool's manager thread ends at once; waiting for it keeps
    # the interpreter's exit from writing to the pool's closed wake-up pipe.
    pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start, so that they ignore it too (an
    ignored signal stays ignored across exec): a Ctrl-C reaches the whole foreground
    process group, and the workers must not each print a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _local_init(work: Work[Any, Any, Any, Any], shared: Any) -> None:
    global _LOCAL
    _LOCAL = (work, shared)
    _LOCAL_STATE.clear()


def _local_chunk(points: list[Any]) -> list[Any]:
    assert _LOCAL is not None
    work, shared = _LOCAL
    if not _LOCAL_STATE:  # set up at first use: an error in setup is then a task's error
        _prepare_worker_process()
        _LOCAL_STATE.append(work.setup(shared))
    return work.solve(_LOCAL_STATE[0], points)


# --- Dask distributed -----------------------------------------------------------------

# A Dask worker's states by batch token (the last few batches), built at first use.
_DASK_STATES: OrderedDict[str, Any] = OrderedDict()
_DASK_STATES_KEPT = 2
# One solve at a time per worker process: HiGHS's task scheduler is per process.
_DASK_SOLVE_LOCK = threading.Lock()


def _probe(address: str) -> None:
    """A Dask scheduler speaks first: on a new TCP connection it sends its handshake at
    once. Something else at the address (a web server, a port that accepts and stays
    silent) would keep Dask's client waiting far beyond its timeout; here it is found
    within ``CONNECT_TIMEOUT`` seconds. Addresses of other transports (tls://, ws://) are
    left to the client.

    Raises
    ------
    OSError, TimeoutError, ValueError
        Nothing answered as a scheduler does.
    """
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    with socket.create_connection((host.strip("[]"), int(port)),
                                  timeout=CONNECT_TIMEOUT) as probe:
        probe.settimeout(CONNECT_TIMEOUT)
        if len(probe.recv(8)) < 1:
            raise ConnectionError("the connection was closed without a Dask handshake")


class DaskEngine(Engine):
    """A running Dask distributed cluster, reached through its scheduler's address."""

    kind = EngineKind.DASK

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as error:
            raise InputError(code="input.engines.no_distributed", column="--scheduler",
                             value=address) from error
        self.address = address
        try:
            _probe(address)
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise InputError(code="input.engines.no_scheduler",
                             values={"address": address, "timeout": CONNECT_TIMEOUT,
                                     "name": type(error).__name__, "error": str(error)},
                             column="--scheduler", value=address) from error
        try:
            self.workers = self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> int:
        """The number of worker processes, after checking they run this fundopt/HiGHS."""
        try:
            self.client.wait_for_workers(1, timeout=NO_WORKER_TIMEOUT)
        except TimeoutError as error:
            raise InputError(code="input.engines.no_worker",
                             values={"address": self.address}, column="--scheduler") from error
        for package in ("fundopt", "highspy"):
            mine = importlib.metadata.version(package)
            theirs = self.client.run(importlib.metadata.version, package, on_error="return")
            for worker, version in sorted(theirs.items()):
                if version != mine:
                    found = "not installed" if isinstance(version, Exception) else version
                    raise InputError(code="input.engines.versions",
                                     values={"worker": worker, "package": package,
                                             "found": found, "mine": mine},
                                     column="--scheduler")
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, work: Work[S, W, P, R], shared: S, points: Sequence[P],
            progress: Progress | None = None) -> list[R]:
        from distributed import Event, KilledWorker, as_completed

        client = self.client
        token = f"fundopt-{uuid.uuid4().hex}"
        parts = chunks(len(points))
        results: dict[int, R] = {}
        futures: list[Any] = []
        # The inputs go to the cluster once: every worker gets its copy before any task.
        [data] = client.scatter([shared], broadcast=True, hash=False)
        try:
            futures = [client.submit(_dask_chunk, work, data, token,
                                     [points[i] for i in part], key=f"{token}-{c}",
                                     pure=False)
                       for c, part in enumerate(parts)]
            index = {future.key: c for c, future in enumerate(futures)}
            finished = as_completed(futures, loop=client.loop)
            idle_since = time.monotonic()
            while not finished.is_empty():
                done = finished.next_batch(block=False)
                for future in done:
                    try:
                        values = future.result()
                    except KilledWorker as error:
                        raise BatchError("batch.task_lost",
                                         {"error": str(error)}) from error
                    results.update(zip(parts[index[future.key]], values, strict=True))
                    if progress is not None:
                        progress(len(results), len(points))
                if done:
                    idle_since = time.monotonic()
                    continue
                time.sleep(POLL)
                if time.monotonic() - idle_since > NO_WORKER_TIMEOUT:
                    idle_since = time.monotonic()
                    if not client.scheduler_info(n_workers=-1)["workers"]:
                        raise BatchError("batch.workers_left",
                                         {"address": self.address})
        except BaseException:
            # Running tasks see the event between points and stop; the rest are dropped.
            Event(token, client=client).set()
            client.cancel([*futures, data], force=True)
            raise
        client.cancel([data])
        return [results[i] for i in range(len(points))]

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close(timeout=2)


def _dask_chunk(work: Work[Any, Any, Any, R], shared: Any, token: str, points: list[Any]
                ) -> list[R]:
    """One task on a Dask worker: one chunk on the state of this batch, stopped between
    two points once the batch is cancelled."""
    with _DASK_SOLVE_LOCK:
        _prepare_worker_process()
        state = _DASK_STATES.get(token)
        if state is None:
            state = _DASK_STATES[token] = work.setup(shared)
            while len(_DASK_STATES) > _DASK_STATES_KEPT:
                _DASK_STATES.popitem(last=False)
        return work.solve(state, _until_cancelled(token, points))


def _until_cancelled(token: str, points: list[Any]) -> Iterator[Any]:
    """The points, looking every ``CANCEL_CHECK`` seconds whether the batch's event is set."""
    from distributed import Event, get_client

    stop = Event(token, client=get_client())
    checked = time.monotonic()
    for point in points:
        if time.monotonic() - checked > CANCEL_CHECK:
            if stop.is_set():
                raise BatchCancelled(token)
            checked = time.monotonic()
        yield point


class BatchCancelled(Exception):
    """Raised in a Dask task whose batch was interrupted (nobody waits for its result)."""
