"""cnnlib.viz: figures draw the numbers they claim, render as PNG and animate."""

from __future__ import annotations

import io

import figures
import numpy as np
import pytest
from PIL import Image

from cnnlib import viz

X4 = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]])
K2 = np.array([[1, 0], [-1, 1]])


def test_sliding_window_figure_writes_the_worked_steps():
    fig = viz.sliding_window_figure(X4, K2, steps=(0, 1, 2))
    axes = fig.axes
    assert len(axes) == 9  # three rows: input, kernel, output
    assert figures.texts(axes[0]) == [str(v) for v in X4.ravel()]
    assert axes[1].get_xlabel() == "1·1 + 2·0 + 0·(-1) + 1·1 = 2"
    assert axes[4].get_xlabel() == "2·1 + 3·0 + 1·(-1) + 2·1 = 3"
    assert axes[7].get_xlabel() == "3·1 + 0·0 + 2·(-1) + 3·1 = 4"
    assert figures.texts(axes[8]) == ["2", "3", "4", "?", "?", "?", "?", "?", "?"]


def test_sliding_window_figure_rejects_a_step_that_does_not_exist():
    with pytest.raises(
        ValueError, match=r"step 9 is out of range; this input has 9 window positions"
    ):
        viz.sliding_window_figure(X4, K2, steps=(9,))


def test_figures_render_as_png_on_white():
    figures.assert_white_png(viz.padding_modes_figure(X4, 3))


def test_padding_modes_figure_titles_give_the_output_sizes():
    titles = [ax.get_title() for ax in viz.padding_modes_figure(X4, 3).axes]
    assert titles == [
        "'valid': pad 0 → 2×2 output",
        "'same': pad 1 → 4×4 output",
        "'full': pad 2 → 6×6 output",
    ]


def test_windows_1d_figure_counts_windows_and_excluded_pixels():
    titles = [ax.get_title(loc="left") for ax in viz.windows_1d_figure(7, 3, (1, 2, 5)).axes]
    assert titles == [
        "stride 1: ⌊(7 − 3)/1⌋ + 1 = 5 windows",
        "stride 2: ⌊(7 − 3)/2⌋ + 1 = 3 windows",
        "stride 5: ⌊(7 − 3)/5⌋ + 1 = 1 window, 4 pixels excluded",
    ]


def test_coverage_figure_marks_one_dot_per_window():
    fig = viz.coverage_figure((10, 10), 3, 2)
    assert len(fig.axes[0].lines) == 16  # a 4×4 output
    assert fig.axes[0].get_title() == "10×10 input, 3×3 kernel, stride 2 → 4×4"


def test_dilation_figure_titles():
    titles = [ax.get_title() for ax in viz.dilation_figure(3, (1, 2)).axes]
    assert titles == ["dilation 1: 9 weights span 3×3", "dilation 2: 9 weights span 5×5"]


def test_animation_has_one_frame_per_window_and_loops():
    animation = viz.sliding_window_animation(X4, K2, frame_ms=100)
    assert repr(animation).startswith("<APNG animation: 9 frames")
    image = Image.open(io.BytesIO(animation._repr_png_()))
    assert image.format == "PNG"
    assert image.is_animated
    assert image.n_frames == 9
    assert image.info.get("loop") == 0
    durations = []
    for frame in range(image.n_frames):
        image.seek(frame)
        durations.append(image.info["duration"])
    assert durations == [100] * 8 + [300]


def test_animation_frames_must_agree():
    small, large = Image.new("RGB", (4, 4)), Image.new("RGB", (5, 4))
    with pytest.raises(ValueError, match="same size"):
        viz.APNG([small, large], [10, 10])
    with pytest.raises(ValueError, match="2 frames but 1 durations"):
        viz.APNG([small, small], [10])


def test_image_row_checks_its_inputs():
    with pytest.raises(ValueError, match=r"image 1 must be 2-D, got shape \(3,\)"):
        viz.image_row([np.zeros((2, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        viz.image_row([np.zeros((2, 2))] * 2, ["a"])
    fig = viz.image_row([np.zeros((2, 2)), np.eye(2)], ["a", "b"], symmetric=[False, True])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]  # then the two colour bars
