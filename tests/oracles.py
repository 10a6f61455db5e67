"""The optional oracle every comparison test shares: PyTorch on the CPU.

``.ci/run`` installs it (``pip install torch==2.13.0``), so in CI these tests always run;
elsewhere they skip with the reason.
"""

from __future__ import annotations

from types import ModuleType

import pytest

REASON = "PyTorch is the oracle; CI installs it with pip install torch==2.13.0"


def torch_or_skip() -> ModuleType:
    """The ``torch`` module, or skip the calling test (or module) where it is missing."""
    return pytest.importorskip("torch", reason=REASON)
