"""Shared fixtures: a seeded random generator."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the worst relative errors of the PyTorch oracle comparison, if it ran."""
    import sys

    module = sys.modules.get("test_conv_torch")
    worst = getattr(module, "WORST", None)
    if not worst:
        _print_gradient_checks(terminalreporter)
        return
    terminalreporter.section("cnnlib.conv vs PyTorch")
    count = len(module.CONFIGS)
    terminalreporter.write_line(
        f"{count} configurations; worst relative error (max |Δ| / max |torch|):"
    )
    for (dtype, name), error in sorted(worst.items()):
        terminalreporter.write_line(f"  {dtype:<8} {name:<3} {error:.1e}")
    _print_gradient_checks(terminalreporter)


def _print_gradient_checks(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the worst relative error of every layer's gradient check, if they ran."""
    import sys

    module = sys.modules.get("test_layers")
    worst = getattr(module, "WORST", None)
    if not worst:
        return
    terminalreporter.section("cnnlib.layers gradient checks (float64)")
    terminalreporter.write_line(
        f"{len(worst)} configurations; worst relative error over x and the parameters:"
    )
    for case, error in sorted(worst.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"  {case:<24} {error:.1e}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the exercise-checker contract (tests/exercise_contract.py) over each chapter's."""
    from exercise_contract import parametrize_contract

    parametrize_contract(metafunc)
