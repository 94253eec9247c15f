"""Work for the engine tests that misbehaves on purpose. A module of its own (not a test
module) so that spawned pool workers can import it by name: ``tests/`` is on their path."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable


def setup(shared: int) -> int:
    return shared


def square_or_die(state: int, points: Iterable[int]) -> list[int]:
    """``point ** 2 + state`` for each point; point -1 kills its worker process, -2 raises."""
    out = []
    for point in points:
        if point == -1:
            os.kill(os.getpid(), signal.SIGKILL)
        if point == -2:
            raise ValueError("point -2 is refused")
        out.append(point * point + state)
    return out
