"""Chapter 4 figures: windows, outputs, winners and routed gradients show the right numbers."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from cnnlib import viz
from cnnlib.viz.figure import PALETTE
from cnnlib.viz.pooling import ACCUMULATED, UNREAD, window_edge, window_fill

X4 = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 0, 9, 8], [1, 2, 3, 4]], dtype=float)
X5 = np.array(
    [
        [1, 2, 0, 1, 3],
        [4, 1, 2, 0, 1],
        [0, 3, 9, 1, 0],
        [2, 1, 0, 5, 2],
        [1, 0, 2, 1, 4],
    ],
    dtype=float,
)
DY2 = np.array([[1.0, 2.0], [3.0, 4.0]])


def test_pooling_figure_shows_every_kind_on_the_worked_example():
    fig = viz.pooling_figure(X4, 2)
    source, high, mean, low = fig.axes
    assert source.get_title() == "input 4×4\n2×2 windows, stride 2"
    assert [ax.get_title() for ax in (high, mean, low)] == [
        "max pooling\n→ 2×2",
        "average pooling\n→ 2×2",
        "min pooling\n→ 2×2",
    ]
    assert np.array_equal(figures.numbers(source, (4, 4)), X4)
    assert np.array_equal(figures.numbers(high, (2, 2)), [[6, 4], [7, 9]])
    assert np.array_equal(figures.numbers(mean, (2, 2)), [[3.75, 2.25], [2.5, 6]])
    assert np.array_equal(figures.numbers(low, (2, 2)), [[1, 1], [0, 3]])
    # disjoint windows are filled, each with its colour, and so is the output they make
    for index, (r, c) in enumerate([(0, 0), (0, 2), (2, 0), (2, 2)]):
        cells = [(r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)]
        assert figures.filled(source, window_fill(index)) == cells
        assert figures.filled(high, window_fill(index)) == [divmod(index, 2)]
        assert figures.frames(source, window_edge(index)) == [(r, c, 2, 2)]


def test_pooling_figure_frames_overlapping_windows_and_marks_unread_pixels():
    fig = viz.pooling_figure(X5, 3, 2, kinds=("max",))
    source, high = fig.axes
    assert source.get_title() == "input 5×5\n3×3 windows, stride 2"
    assert np.array_equal(figures.numbers(high, (2, 2)), [[9, 9], [9, 9]])
    # overlapping windows cannot be filled: each gets a frame of its colour instead
    for index, (r, c) in enumerate([(0, 0), (0, 2), (2, 0), (2, 2)]):
        assert figures.filled(source, window_fill(index)) == []
        assert figures.frames(source, window_edge(index)) == [(r, c, 3, 3)]
    fig = viz.pooling_figure(np.arange(25).reshape(5, 5), 2, kinds=("avg",))
    unread = [(4, c) for c in range(5)] + [(r, 4) for r in range(4)]
    assert figures.filled(fig.axes[0], UNREAD) == sorted(unread)


def test_pooling_windows_figure_frames_the_first_maximum_and_pads_with_minus_infinity():
    fig = viz.pooling_windows_figure(-X4, 3, 2, padding=1)
    *panels, output = fig.axes
    assert [ax.get_title() for ax in panels] == [
        "y₀₀ = max = -1",
        "y₀₁ = max = -1",
        "y₁₀ = max = 0",
        "y₁₁ = max = 0",
    ]
    assert output.get_title() == "max pooling\n3×3 windows, stride 2, padding 1"
    # each window's largest value of −X4, by hand (the padding's −∞ never wins)
    assert np.array_equal(figures.numbers(output, (2, 2)), [[-1, -1], [0, 0]])
    first = panels[0]
    texts = np.array(figures.texts(first)).reshape(6, 6)
    assert set(texts[0]) == {"−∞"}  # the padding never wins
    assert texts[1, 1] == "-1"
    # the winner of each window is framed in black (padded coordinates)
    winners = [(1, 1), (2, 3), (3, 2), (3, 2)]
    for ax, (r, c) in zip(panels, winners, strict=True):
        assert figures.frames(ax, PALETTE["text"]) == [(r, c, 1, 1)]


def test_pooling_windows_figure_pads_average_pooling_with_counted_zeros():
    fig = viz.pooling_windows_figure(X4, 3, 2, padding=1, kind="avg")
    first = fig.axes[0]
    assert first.get_title() == "y₀₀ = mean = 1.67"  # (1 + 3 + 5 + 6) / 9
    assert figures.texts(first)[0] == "0"
    assert figures.frames(first, PALETTE["text"]) == []  # no winner in an average


def test_pooling_windows_figure_breaks_ties_like_the_library():
    ties = np.array([[5.0, 5.0], [1.0, 5.0]])
    (panel, _) = viz.pooling_windows_figure(ties, 2).axes
    assert figures.frames(panel, PALETTE["text"]) == [(0, 0, 1, 1)]
    (panel, _) = viz.pooling_windows_figure(-ties, 2, kind="min").axes
    assert figures.frames(panel, PALETTE["text"]) == [(0, 0, 1, 1)]
    # several NaNs: the gradient goes to the last one (PyTorch's rule), so is the frame
    (panel, _) = viz.pooling_windows_figure(np.array([[np.nan, 1.0], [np.nan, 0.0]]), 2).axes
    assert figures.frames(panel, PALETTE["text"]) == [(1, 0, 1, 1)]


def test_pool_routing_figure_sends_each_gradient_to_its_winner():
    fig = viz.pool_routing_figure(X4, DY2, 2)
    source, upstream, grad = fig.axes
    assert source.get_title() == "x: the winners\n2×2 windows, stride 2"
    assert grad.get_title() == "dL/dX\neach cell from one window"
    assert np.array_equal(figures.numbers(upstream, (2, 2)), DY2)
    winners = [(1, 1), (0, 3), (2, 0), (2, 2)]  # 6, 4, 7 and 9: each window's maximum
    expected = np.zeros((4, 4))
    for (r, c), g in zip(winners, DY2.ravel(), strict=True):
        expected[r, c] = g  # the whole upstream gradient goes to the winner
    assert np.array_equal(figures.numbers(grad, (4, 4)), expected)
    for index, winner in enumerate(winners):
        assert figures.filled(source, window_fill(index)) == [winner]
        assert figures.filled(grad, window_fill(index)) == [winner]
    assert fig.get_supxlabel() == "Σ dL/dY = 10,  Σ dL/dX = 10"


def test_pool_routing_figure_marks_a_pixel_that_wins_overlapping_windows():
    fig = viz.pool_routing_figure(X5, DY2, 3, 2)
    source, _, grad = fig.axes
    assert grad.get_title() == "dL/dX\nred: 1 cell collects from several windows"
    values = figures.numbers(grad, (5, 5))
    assert values[2, 2] == 10
    assert values.sum() == 10
    assert figures.filled(grad, ACCUMULATED) == [(2, 2)]
    assert figures.filled(source, ACCUMULATED) == [(2, 2)]


def test_pool_routing_figure_spreads_the_average_over_the_windows():
    fig = viz.pool_routing_figure(X5, DY2, 3, 2, kind="avg")
    _, _, grad = fig.axes
    expected = np.zeros((5, 5))
    for (i, j), g in np.ndenumerate(DY2):
        expected[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += g / 9  # dY[i, j] / k² to each cell
    assert np.allclose(figures.numbers(grad, (5, 5)), np.round(expected, 2), atol=0.006)
    shared = [(2, c) for c in range(5)] + [(r, 2) for r in (0, 1, 3, 4)]
    assert figures.filled(grad, ACCUMULATED) == sorted(shared)
    assert grad.get_title() == "dL/dX\nred: 9 cells collect from several windows"


def test_figures_render_and_refuse_bad_arguments():
    figures.assert_white_png(viz.pool_routing_figure(X4, DY2, 2, kind="min"))
    with pytest.raises(ValueError, match="kind must be one of 'max', 'avg', 'min'; got 'mean'"):
        viz.pooling_windows_figure(X4, 2, kind="mean")
    with pytest.raises(ValueError, match=r"dy has shape \(3, 3\), but a 4×4 input pooled with"):
        viz.pool_routing_figure(X4, np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="36 outputs would need as many panels"):
        viz.pooling_windows_figure(np.zeros((12, 12)), 2)
    with pytest.raises(ValueError, match="padding"):
        viz.pooling_windows_figure(X4, 2, padding=2)
    with pytest.raises(ValueError, match="kinds is empty"):
        viz.pooling_figure(X4, 2, kinds=())
