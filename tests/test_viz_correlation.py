"""Chapter 2 figures: the rotation and the impulse responses show the right numbers."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from cnnlib import viz
from cnnlib.viz.correlation import FIRST, LAST_IN_ROW

K9 = np.arange(1, 10).reshape(3, 3)


def test_rot180_figure_shows_the_flips_and_tracks_the_corners():
    fig = viz.rot180_figure(K9)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "K",
        "rows flipped (upside down)",
        "then columns flipped: rot180(K)",
        "Kᵀ (transpose): not a rotation",
    ]
    original, rows, rotated, transposed = fig.axes
    assert np.array_equal(figures.numbers(original, (3, 3)), K9)
    assert np.array_equal(figures.numbers(rows, (3, 3)), K9[::-1])
    assert np.array_equal(figures.numbers(rotated, (3, 3)), K9[::-1, ::-1])
    assert np.array_equal(figures.numbers(transposed, (3, 3)), K9.T)
    # K[0, 0] and K[0, 2], followed from panel to panel
    assert [figures.filled(ax, FIRST) for ax in fig.axes] == [
        [(0, 0)],
        [(2, 0)],
        [(2, 2)],
        [(0, 0)],
    ]
    assert [figures.filled(ax, LAST_IN_ROW) for ax in fig.axes] == [
        [(0, 2)],
        [(2, 2)],
        [(2, 0)],
        [(2, 0)],
    ]


def test_rot180_figure_handles_non_square_kernels_without_the_transpose():
    fig = viz.rot180_figure(np.arange(6).reshape(2, 3), transpose=False)
    assert len(fig.axes) == 3
    assert np.array_equal(figures.numbers(fig.axes[2], (2, 3)), [[5, 4, 3], [2, 1, 0]])


@pytest.mark.parametrize(
    ("kernel", "size"),
    [(K9, 7), (np.arange(1, 7).reshape(2, 3), 5), (np.arange(1, 17).reshape(4, 4), 4)],
    ids=["3x3", "2x3", "4x4 filling the input"],
)
def test_impulse_response_figure_stamps_the_kernel(kernel, size):
    fig = viz.impulse_response_figure(kernel, size)
    impulse, shown_kernel, correlation, convolution = fig.axes
    assert [ax.get_title() for ax in fig.axes] == [
        "input: a single 1",
        "kernel K",
        "correlation: rot180(K)",
        "convolution: K upright",
    ]
    assert figures.numbers(impulse, (size, size)).sum() == 1
    assert np.array_equal(figures.numbers(shown_kernel, kernel.shape), kernel)
    kh, kw = kernel.shape
    expected = (
        (correlation, kernel[::-1, ::-1], (kh - 1, kw - 1)),  # K[0, 0] bottom-right
        (convolution, kernel, (0, 0)),  # K[0, 0] top-left: upright
    )
    for ax, stamp, (r, c) in expected:
        values = figures.numbers(ax, (size, size))
        (frame,) = [p for p in ax.patches if not p.get_fill()]  # the outlined stamp
        top, left = int(frame.get_y()), int(frame.get_x())
        assert np.array_equal(values[top : top + kh, left : left + kw], stamp)
        assert values.sum() == kernel.sum()  # nothing clipped at the border
        assert figures.filled(ax, FIRST) == [(top + r, left + c)]


def test_impulse_response_figure_renders_and_refuses_a_kernel_that_does_not_fit():
    figures.assert_white_png(viz.impulse_response_figure(K9, 5))
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) does not fit in a 2×2 input"):
        viz.impulse_response_figure(K9, 2)
