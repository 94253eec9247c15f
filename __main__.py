"""The ``fundopt`` program: the console script and ``python -m fundopt``."""

# The signal handlers first, through the C module: ``signal`` builds enums on import,
# which takes long enough for an early Ctrl-C to land in it.
import _signal
import gc
import os
import sys
from types import FrameType


def _stopped_while_starting(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM before a command runs: nothing is being read or written yet, so
    the program ends at once (exit 130, one line, no traceback). A command installs its
    own handler while it works (``cli._guarded``)."""
    _farewell()


def _farewell() -> None:
    args = sys.argv[1:]
    zh = "--lang=zh" in args or any(a == "--lang" and b == "zh"
                                    for a, b in zip(args, args[1:], strict=False))
    sys.stderr.write("已中断（Ctrl-C 或 SIGTERM）。\n" if zh
                     else "Interrupted (Ctrl-C or SIGTERM).\n")
    sys.stderr.flush()
    os._exit(130)


_signal.signal(_signal.SIGINT, _stopped_while_starting)
_signal.signal(_signal.SIGTERM, _stopped_while_starting)

# Start-up (benchmarks/startup.py): importing typer, rich, pandas, numpy and highspy makes
# about 10^5 long-lived objects and little garbage, and at Python's default threshold (700
# new objects) the cyclic collector walks them again and again: ≈ 30 ms of the 0.55 s a
# solve of the sample takes. Cycles are still collected, after 200 000 new objects.
gc.set_threshold(200_000)

from fundopt.cli import main as _command_line  # noqa: E402  (after the threshold is set)


def main() -> None:
    """The program. A signal that lands between the command's own handling and the exit
    (the command's handler already gone) ends it the same way as one during start-up."""
    try:
        _command_line()
    except KeyboardInterrupt:
        _farewell()


if __name__ == "__main__":
    main()
