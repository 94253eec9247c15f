"""Shared fixtures. Sibling helper modules (plan_checker, reference, orlib) are importable."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
