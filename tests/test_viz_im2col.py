"""Chapter 6 figures: every matrix cell shows, and is coloured as, the pixel it came from."""

from __future__ import annotations

import figures
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from cnnlib import viz
from cnnlib.viz.figure import PALETTE
from cnnlib.viz.im2col import UNREAD, pixel_colour

NUMBERED = np.arange(1, 19, dtype=float).reshape(2, 3, 3)  # pixel p holds p + 1


def _cells(ax):
    """{(row, col): facecolour} of the filled unit cells."""
    return {
        (round(p.get_y()), round(p.get_x())): p.get_facecolor()
        for p in ax.patches
        if p.get_fill() and round(p.get_width()) == 1
    }


def test_im2col_figure_on_two_channels_copies_each_pixel_in_its_colour():
    fig = viz.im2col_figure(NUMBERED, 2)
    matrix, first, second = fig.axes
    assert matrix.get_title() == "im2col: (2·2·2) × (2·2) = 8 × 4"
    assert first.get_title() == "input channel 0\n3×3, 2×2 kernel, stride 1"
    assert second.get_title() == "input channel 1"
    # written out by hand: column (i, j) holds the 2×2 window at (i, j) of channel 0, then 1
    expected = np.array(
        [
            [1, 2, 4, 5],
            [2, 3, 5, 6],
            [4, 5, 7, 8],
            [5, 6, 8, 9],
            [10, 11, 13, 14],
            [11, 12, 14, 15],
            [13, 14, 16, 17],
            [14, 15, 17, 18],
        ]
    )
    assert np.array_equal(figures.numbers(matrix, (8, 4)), expected)
    cells = _cells(matrix)
    for (r, c), value in np.ndenumerate(expected):
        assert cells[(r, c)] == to_rgba(pixel_colour(int(value) - 1))
    for channel, ax in enumerate((first, second)):
        assert np.array_equal(figures.numbers(ax, (3, 3)), NUMBERED[channel])
        cells = _cells(ax)
        for (r, c), value in np.ndenumerate(NUMBERED[channel]):
            assert cells[(r, c)] == to_rgba(pixel_colour(int(value) - 1))
        assert figures.frames(ax) == [(0, 0, 2, 2)]  # the window of output (0, 0) ...
    assert figures.frames(matrix) == [(0, 0, 8, 1)]  # ... and its column
    labels = [t.get_text() for t in matrix.get_yticklabels()]
    assert labels[:3] == ["c0 m0 l0", "c0 m0 l1", "c0 m1 l0"]
    assert labels[-1] == "c1 m1 l1"
    assert [t.get_text() for t in matrix.get_xticklabels()] == ["(0,0)", "(0,1)", "(1,0)", "(1,1)"]


def test_every_pixel_has_its_own_colour_among_twenty():
    colours = [pixel_colour(i) for i in range(20)]
    assert len(set(colours)) == 20
    assert pixel_colour(20) == pixel_colour(0)


def test_im2col_figure_with_stride_padding_and_highlight():
    image = np.arange(1, 17, dtype=float).reshape(4, 4)
    fig = viz.im2col_figure(image, 2, stride=2, padding=1, highlight=(1, 1))
    matrix, channel = fig.axes
    assert matrix.get_title() == "im2col: (1·2·2) × (3·3) = 4 × 9"
    assert "padding 1" in channel.get_title()
    numbers = figures.numbers(matrix, (4, 9))
    # output (1, 1) reads padded rows 2-3, columns 2-3: pixels 6, 7, 10, 11
    assert numbers[:, 4].tolist() == [6, 7, 10, 11]
    assert numbers[:, 0].tolist() == [0, 0, 0, 1]  # the corner window is mostly padding
    cells = _cells(matrix)
    grey = [cell for cell, colour in cells.items() if colour == to_rgba(PALETTE["padding"])]
    assert len(grey) == int(np.sum(numbers == 0)) == 20
    assert figures.frames(matrix) == [(0, 4, 4, 1)]
    assert figures.frames(channel) == [(2, 2, 2, 2)]


def test_im2col_figure_without_highlight_and_with_a_bad_one():
    assert figures.frames(viz.im2col_figure(NUMBERED[0], 2, highlight=None).axes[0]) == []
    with pytest.raises(ValueError, match=r"highlight \(2, 0\) is not an output position"):
        viz.im2col_figure(NUMBERED[0], 2, highlight=(2, 0))


def test_col2im_figure_adds_each_colour_and_counts_the_copies():
    fig = viz.col2im_figure(np.ones((8, 4)), (2, 3, 3), 2)
    matrix, first, second = fig.axes
    assert matrix.get_title() == "columns 8 × 4"
    assert first.get_title() == "col2im: channel 0\nsum of each colour"
    # how many 2×2 windows of a 3×3 input cover each pixel, counted by hand
    counts = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    for ax in (first, second):
        assert np.array_equal(figures.numbers(ax, (3, 3)), counts)
        marks = [t.get_text() for t in ax.texts if t.get_text().startswith("×")]
        assert marks == [f"×{n}" for n in counts.ravel()]


def test_col2im_figure_marks_the_pixels_no_window_reads():
    cols = np.arange(16, dtype=float).reshape(4, 4)  # row m·2 + l, column i·2 + j
    fig = viz.col2im_figure(cols, (1, 5, 5), 2, stride=2)
    _, channel = fig.axes
    unread = sorted(cell for cell, c in _cells(channel).items() if c == to_rgba(UNREAD))
    assert unread == sorted([(4, c) for c in range(5)] + [(r, 4) for r in range(4)])
    numbers = figures.numbers(channel, (5, 5))
    # disjoint windows: pixel (i·2 + m, j·2 + l) receives cols[m·2 + l, i·2 + j] alone
    assert numbers[0, :4].tolist() == [0, 4, 1, 5]
    assert numbers[1, :4].tolist() == [8, 12, 9, 13]
    assert numbers[4].tolist() == [0] * 5
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        viz.col2im_figure(np.ones((4, 4)), (5, 5), 2)
