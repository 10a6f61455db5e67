"""Chapter 5 figures: they draw what cnnlib computes, and refuse what they cannot draw."""

from __future__ import annotations

import figures
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from cnnlib import Sequential, viz
from cnnlib.layers import Flatten, LeakyReLU, Sigmoid
from cnnlib.layers.base import _counters
from cnnlib.viz.activations import CHANNEL_COLOURS, activation_curves


# ----------------------------------------------------------------------------- flatten
def test_flatten_figure_numbers_every_value_in_c_order():
    fig = viz.flatten_figure((3, 2, 2))
    channels, strip = fig.axes[:3], fig.axes[3]
    assert [ax.get_title() for ax in channels] == ["channel 0", "channel 1", "channel 2"]
    for c, ax in enumerate(channels):
        assert figures.texts(ax) == [str(4 * c + k) for k in range(4)]
    assert figures.texts(strip) == [str(k) for k in range(12)]
    assert strip.get_title() == "flattened: 12 values = 3·2·2"
    # the strip is coloured by channel: the first four cells like channel 0, …
    colours = [patch.get_facecolor() for patch in strip.patches]
    assert colours[:4] == [to_rgba(CHANNEL_COLOURS[0])] * 4
    assert colours[8:] == [to_rgba(CHANNEL_COLOURS[2])] * 4
    # and the number in cell (c, i, j) is where cnnlib's Flatten puts that value of a sample
    sample = np.random.default_rng(0).standard_normal((1, 3, 2, 2))
    oracle = Sequential([Flatten(name="oracle")], input_shape=(3, 2, 2), dtype=np.float64)
    flat = oracle.predict(sample)[0]
    for c, ax in enumerate(channels):
        for text in ax.texts:
            j, i = (int(position) for position in text.get_position())  # the cell's centre
            assert flat[int(text.get_text())] == sample[0, c, i, j]
    figures.assert_white_png(fig)


@pytest.mark.parametrize(
    ("shape", "message"),
    [((3, 4), r"shape must be \(C, H, W\)"), ((4, 5, 5), "100 values do not fit")],
)
def test_flatten_figure_refuses_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        viz.flatten_figure(shape)


# -------------------------------------------------------------------------- activations
def test_activation_curves_come_from_the_layers():
    x = np.linspace(-3, 3, 61)
    y, slope = activation_curves("sigmoid", x)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(slope, y * (1 - y))
    assert slope.max() == pytest.approx(0.25)
    y, slope = activation_curves(LeakyReLU(0.2), x)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(slope, np.where(x > 0, 1.0, 0.2))


def test_activation_figure_titles_give_the_largest_slope():
    fig = viz.activation_figure(["relu", LeakyReLU(0.1), "elu", "gelu", "sigmoid", "tanh"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "ReLU()   max f′ = 1",
        "LeakyReLU(0.1)   max f′ = 1",
        "ELU()   max f′ = 1",
        "GELU()   max f′ = 1.13",
        "Sigmoid()   max f′ = 0.25",
        "Tanh()   max f′ = 1",
    ]
    sigmoid_ax = fig.axes[4]
    curve, derivative = sigmoid_ax.lines[2:4]  # after the two axis lines
    assert curve.get_label() == "f(x)"
    assert max(derivative.get_ydata()) == pytest.approx(0.25)
    figures.assert_white_png(fig)


def test_activation_figure_leaves_the_layer_name_counter_alone():
    """Layer names in the notebooks (dense_3, …) must not depend on which figures were drawn."""
    Sigmoid()
    snapshot = {kind: repr(counter) for kind, counter in _counters.items()}  # e.g. count(4)
    viz.activation_figure([Sigmoid(name="mine"), "relu", LeakyReLU(0.1, name="leaky")])
    assert {kind: repr(counter) for kind, counter in _counters.items()} == snapshot


def test_activation_figure_hides_unused_panels_and_refuses_bad_input():
    fig = viz.activation_figure(["relu", "tanh"], columns=3)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    fig = viz.activation_figure(["relu", "elu", "tanh", "gelu"], columns=3)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        viz.activation_figure(["softmax"])
    with pytest.raises(TypeError, match="expected an activation name or layer"):
        viz.activation_figure([3])
    with pytest.raises(ValueError, match="at least one activation"):
        viz.activation_figure([])
    with pytest.raises(ValueError, match="low < high"):
        viz.activation_figure(["relu"], x_range=(1.0, -1.0))


# ------------------------------------------------------------------------ layer profiles
def test_layer_profile_figure_draws_one_line_per_series_on_a_log_scale():
    fig = viz.layer_profile_figure(
        {"sigmoid": [1e-9, 1e-5, 1e-1], "relu": [1.0, 2.0, 1.5]},
        ylabel="‖∂L/∂W‖",
        title="gradients",
    )
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "‖∂L/∂W‖"
    assert ax.get_title() == "gradients"
    assert [line.get_label() for line in ax.lines] == ["sigmoid", "relu"]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    assert list(ax.lines[0].get_ydata()) == [1e-9, 1e-5, 1e-1]
    figures.assert_white_png(fig)


def test_layer_profile_figure_refuses_what_a_log_scale_cannot_show():
    with pytest.raises(ValueError, match="'zero' has values ≤ 0"):
        viz.layer_profile_figure({"zero": [1.0, 0.0]}, ylabel="y")
    assert viz.layer_profile_figure({"zero": [1.0, 0.0]}, ylabel="y", log=False).axes
    with pytest.raises(ValueError, match="at least one series"):
        viz.layer_profile_figure({}, ylabel="y")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        viz.layer_profile_figure({"empty": []}, ylabel="y")


# ------------------------------------------------------------------------ optimiser paths
def _bowl(x, y):
    return 0.5 * (x**2 + 10 * y**2)


def test_optimizer_paths_figure_draws_every_path_from_the_start():
    path_a = np.array([[-2.0, 1.0], [-1.0, -0.5], [0.0, 0.0]])
    path_b = np.array([[-2.0, 1.0], [-1.5, 0.2]])
    fig = viz.optimizer_paths_figure(
        _bowl,
        {"SGD": path_a, "Adam": path_b},
        xlim=(-3, 1),
        ylim=(-1.5, 1.5),
        minimum=(0.0, 0.0),
        title="a bowl",
    )
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.lines]
    assert labels[:3] == ["SGD", "Adam", "start"]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path_a)
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), path_b)
    np.testing.assert_array_equal(ax.lines[2].get_xydata(), [[-2.0, 1.0]])
    assert ax.get_title() == "a bowl"
    assert ax.get_xlim() == (-3, 1)
    figures.assert_white_png(fig)


def test_optimizer_paths_figure_refuses_paths_that_are_not_points():
    with pytest.raises(ValueError, match=r"path 'bad' must be an array of points"):
        viz.optimizer_paths_figure(_bowl, {"bad": np.zeros((4, 3))}, xlim=(-1, 1), ylim=(-1, 1))
    with pytest.raises(ValueError, match="at least one path"):
        viz.optimizer_paths_figure(_bowl, {}, xlim=(-1, 1), ylim=(-1, 1))
