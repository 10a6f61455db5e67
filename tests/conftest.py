"""Shared fixtures (a seeded generator), the exercise contract's parametrization, and the
oracle summaries printed after the run."""

from __future__ import annotations

import sys

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the oracle comparisons' worst errors, for the tests that ran."""
    _print_conv_oracle(terminalreporter)
    _print_gradient_checks(terminalreporter)


def _print_conv_oracle(terminalreporter: pytest.TerminalReporter) -> None:
    """The worst relative errors of cnnlib.conv against PyTorch, if that comparison ran."""
    module = sys.modules.get("test_conv_torch")
    worst = getattr(module, "WORST", None)
    if not worst:
        return
    terminalreporter.section("cnnlib.conv vs PyTorch")
    terminalreporter.write_line(
        f"{len(module.CONFIGS)} configurations; worst relative error (max |Δ| / max |torch|):"
    )
    for (dtype, name), error in sorted(worst.items()):
        terminalreporter.write_line(f"  {dtype:<8} {name:<3} {error:.1e}")


def _print_gradient_checks(terminalreporter: pytest.TerminalReporter) -> None:
    """The worst relative error of every layer's gradient check, if they ran."""
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
