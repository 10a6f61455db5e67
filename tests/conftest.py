"""Shared fixtures (a seeded generator, the book built once per session), the exercise
contract's parametrization, and the oracle summaries printed after the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from notebooks import ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the book once per session into a temporary folder; return its html folder."""
    out = tmp_path_factory.mktemp("book")
    # the same program and flags as `make book`, from this environment
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"jupyter-book build failed ({result.returncode}):\n"
            f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
    return out / "_build" / "html"


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
