"""Chapter 7 figures: the units drawn as feeding one top unit are its receptive field; the
score grid shows every score and frames the corner windows where they are."""

from __future__ import annotations

import figures
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Circle, Rectangle

from cnnlib import viz
from cnnlib.viz.figure import PALETTE


def _filled(ax, kind):
    return [
        p
        for p in ax.patches
        if isinstance(p, kind) and p.get_facecolor() == to_rgba(PALETTE["window_fill"])
    ]


def test_three_small_layers_and_one_large_feed_from_the_same_seven_pixels():
    fig = viz.receptive_field_figure({"three 3×3": [(3, 1)] * 3, "one 7×7": [(7, 1)]})
    stack, single = fig.axes
    assert stack.get_title() == "three 3×3: receptive field 7"
    assert single.get_title() == "one 7×7: receptive field 7"
    for ax in (stack, single):
        assert len(_filled(ax, Rectangle)) == 7  # the input pixels in the field
        assert "7 input pixels" in figures.texts(ax)
    # units that feed the top one: 3 in the first layer, 3·… → 5, 3, 1 in the stack
    rows = sorted(round(c.center[1]) for c in _filled(stack, Circle))
    assert [rows.count(level) for level in (1, 2, 3)] == [5, 3, 1]
    assert len(_filled(single, Circle)) == 1
    # 3 + 3·3 + 5·3 edges in the stack; 7 in the single layer
    assert len(stack.lines) == 3 + 9 + 15
    assert len(single.lines) == 7


def test_a_stride_spreads_the_field():
    fig = viz.receptive_field_figure({"conv, pool, conv": [(3, 1), (2, 2), (3, 1)]}, margin=1)
    (ax,) = fig.axes
    assert ax.get_title() == "conv, pool, conv: receptive field 8"
    assert len(_filled(ax, Rectangle)) == 8
    labels = figures.texts(ax)
    assert "2×2, s=2" in labels
    assert "input" in labels


def test_receptive_field_figure_rejects_bad_stacks():
    with pytest.raises(ValueError, match="at least one stack"):
        viz.receptive_field_figure({})
    with pytest.raises(ValueError, match="at least one layer"):
        viz.receptive_field_figure({"empty": []})
    with pytest.raises(ValueError, match=r"layer 0 must be \(kernel_size, stride\)"):
        viz.receptive_field_figure({"bad": [(3,)]})


def test_score_grid_shows_every_score_and_the_corner_windows():
    image = np.random.default_rng(0).random((48, 44))
    scores = np.arange(20.0).reshape(5, 4) / 10
    fig = viz.score_grid_figure(image, scores, window=32, stride=4, title="score of a 7")
    left, right = fig.axes[:2]
    frames = sorted((p.get_x(), p.get_y(), p.get_width()) for p in left.patches)
    assert frames == [(-0.5, -0.5, 32), (-0.5, 15.5, 32), (11.5, -0.5, 32), (11.5, 15.5, 32)]
    assert figures.texts(right) == [f"{v:.1f}" for v in scores.ravel()]
    assert right.get_title() == "score of a 7, one per window (5×4)"
    assert "5×4 windows of 32×32, stride 4" in left.get_title()


def test_score_grid_checks_that_the_windows_fit():
    with pytest.raises(ValueError, match="need an image of at least 48×44, got 40×44"):
        viz.score_grid_figure(np.zeros((40, 44)), np.zeros((5, 4)), 32, 4)
    with pytest.raises(ValueError, match=r"image must be \(H, W\)"):
        viz.score_grid_figure(np.zeros((1, 40, 44)), np.zeros((5, 4)), 32, 4)
