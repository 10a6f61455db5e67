"""Chapter 3 figures: the dilated gradient and the outputs that read one pixel."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from cnnlib import viz
from cnnlib.viz.backprop import KEPT, PIXEL
from cnnlib.viz.figure import PALETTE

DY = np.array([[1, -2], [3, 1]])


def test_dilated_gradient_figure_inserts_stride_minus_one_zeros():
    fig = viz.dilated_gradient_figure(DY, 3)
    original, dilated = fig.axes
    assert original.get_title() == "dL/dY\n2×2"
    assert dilated.get_title() == "dilated for stride 3\n2 zeros between entries: 4×4"
    assert figures.texts(original) == ["1", "-2", "3", "1"]
    values = figures.numbers(dilated, (4, 4))
    assert np.array_equal(values, [[1, 0, 0, -2], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 1]])
    # the entries of dY keep their colour; the 12 inserted zeros are grey
    assert figures.filled(dilated, KEPT) == [(0, 0), (0, 3), (3, 0), (3, 3)]
    assert len(figures.filled(dilated, PALETTE["padding"])) == 12


def test_dilated_gradient_figure_with_stride_one_changes_nothing():
    fig = viz.dilated_gradient_figure(DY, 1)
    assert fig.axes[1].get_title() == "dilated for stride 1\nno zeros inserted: 2×2"
    assert figures.texts(fig.axes[1]) == figures.texts(fig.axes[0])


def test_pixel_contributions_figure_names_the_tap_of_every_reader():
    fig = viz.pixel_contributions_figure((3, 3), (2, 2), (1, 1))
    *readers, outputs = fig.axes
    assert [ax.get_title() for ax in readers] == [
        "y[0, 0] reads x[1, 1]\nthrough k₁₁",
        "y[0, 1] reads x[1, 1]\nthrough k₁₀",
        "y[1, 0] reads x[1, 1]\nthrough k₀₁",
        "y[1, 1] reads x[1, 1]\nthrough k₀₀",
    ]
    for ax in readers:
        assert figures.filled(ax, PIXEL) == [(1, 1)]
    assert outputs.get_title() == "4 outputs\nread x[1, 1]"
    assert figures.texts(outputs) == ["y₀₀", "y₀₁", "y₁₀", "y₁₁"]
    assert fig.get_supxlabel() == "dL/dx₁₁ = dy₀₀·k₁₁ + dy₀₁·k₁₀ + dy₁₀·k₀₁ + dy₁₁·k₀₀"


def test_pixel_contributions_figure_with_a_stride_and_a_corner():
    fig = viz.pixel_contributions_figure((5, 5), (3, 3), (0, 0), stride=2)
    assert len(fig.axes) == 2  # only y[0, 0] reads the corner
    assert fig.axes[0].get_title() == "y[0, 0] reads x[0, 0]\nthrough k₀₀"
    assert fig.get_supxlabel() == "dL/dx₀₀ = dy₀₀·k₀₀"


def test_pixel_contributions_figure_shows_an_excluded_pixel_and_renders():
    fig = viz.pixel_contributions_figure((10, 10), (3, 3), (9, 3), stride=2)
    assert fig.axes[0].get_title() == "x[9, 3] is excluded:\nno window reads it"
    assert fig.axes[1].get_title() == "0 outputs\nread x[9, 3]"
    assert fig.get_supxlabel() == "dL/dx₉₃ = 0"
    figures.assert_white_png(fig)


def test_pixel_contributions_figure_refuses_a_pixel_outside_the_input():
    with pytest.raises(ValueError, match=r"pixel \(3, 0\) is outside the 3×3 input"):
        viz.pixel_contributions_figure((3, 3), (2, 2), (3, 0))
