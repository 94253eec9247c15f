"""The Dask cluster of the tests: the scheduler address ``.ci/run`` exports.

Locally, start one as ``.ci/run`` does (README, "Batch solves on a cluster") and set
``FUNDOPT_TEST_SCHEDULER``; without it the cluster tests are skipped with that reason.
Only loopback addresses are accepted: the tests contact nothing else.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlparse

import pytest
from conftest import in_ci

ENV = "FUNDOPT_TEST_SCHEDULER"


def scheduler_address() -> str:
    """The test cluster's scheduler address; skips the test when none is configured."""
    address = os.environ.get(ENV, "")
    if not address:
        if in_ci():  # .ci/run starts one: its absence is a failure
            pytest.fail(f"{ENV} is not set in CI: .ci/run must start the test cluster")
        pytest.skip(f"no Dask scheduler configured: set {ENV} (.ci/run starts one)")
    pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    host = urlparse(address if "://" in address else f"tcp://{address}").hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        pytest.fail(f"{ENV}={address}: the tests only contact a scheduler on 127.0.0.1")
    return address
