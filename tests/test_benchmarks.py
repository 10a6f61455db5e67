"""The benchmark scripts run (one quick sample) and their alternative implementations agree
with cnnlib, so the tables they print compare equal work."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from notebooks import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import pool_benchmark


@pytest.mark.parametrize("shape", pool_benchmark.SHAPES, ids=str)
def test_pooling_alternatives_agree_with_cnnlib(shape):
    _n, c, h, w, k, s, p = shape
    small = (2, min(c, 8), h, w, k, s, p)
    pool_benchmark.check_agreement(small, np.random.default_rng(0))


@pytest.mark.slow
def test_the_pool_benchmark_prints_its_table(capsys, monkeypatch):
    monkeypatch.setattr(pool_benchmark, "SHAPES", [(4, 3, 8, 8, 2, 2, 0), (2, 3, 9, 9, 3, 2, 1)])
    assert pool_benchmark.main(["--samples", "1"]) == 0
    out = capsys.readouterr().out
    assert "forward + backward" in out
    assert "cnnlib vs loops" in out


@pytest.mark.slow
def test_the_conv_benchmark_prints_its_table(capsys, monkeypatch):
    import conv_benchmark

    monkeypatch.setattr(conv_benchmark, "SHAPES", [(2, 3, 8, 8, 4, 3, 1, 1, 1)])
    assert conv_benchmark.main(["--samples", "1"]) == 0
    assert "fast path vs loops" in capsys.readouterr().out


@pytest.mark.slow
def test_the_lenet_benchmark_prints_its_table(capsys):
    pytest.importorskip("torch", reason="the LeNet benchmark compares with PyTorch")
    import lenet_benchmark

    assert lenet_benchmark.main(["--samples", "1", "--batches", "8"]) == 0
    out = capsys.readouterr().out
    assert "| batch | cnnlib ms | torch ms |" in out
    difference = float(re.search(r"loss difference over 5 steps (\S+)", out).group(1))
    assert difference < 1e-5  # the two networks really are the same network
