"""The ``fundopt`` program: the console script and ``python -m fundopt``."""

import gc

# Start-up (benchmarks/startup.py): importing typer, rich, pandas, numpy and highspy makes
# about 10^5 long-lived objects and little garbage, and at Python's default threshold (700
# new objects) the cyclic collector walks them again and again: ≈ 30 ms of the 0.55 s a
# solve of the sample takes. Cycles are still collected, after 200 000 new objects.
gc.set_threshold(200_000)

from fundopt.cli import main  # noqa: E402  (imported after the threshold is set)

if __name__ == "__main__":
    main()
