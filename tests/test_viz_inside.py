"""Chapter 9 figures: they draw what they are given, and refuse what they cannot draw."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from cnnlib import viz
from cnnlib.interpret import ProbeResult


# ------------------------------------------------------------------------------- filters
def test_filters_share_one_symmetric_scale_and_are_numbered():
    weights = np.random.default_rng(0).standard_normal((10, 1, 3, 3))
    fig = viz.filters_figure(weights, columns=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 10
    assert [ax.get_title() for ax in shown] == [str(k) for k in range(10)]
    limit = np.abs(weights).max()
    for ax in shown:
        assert ax.images[0].get_clim() == pytest.approx((-limit, limit))
    np.testing.assert_array_equal(shown[3].images[0].get_array(), weights[3, 0])
    assert any(ax.get_ylabel() == "weight" for ax in fig.axes)  # the colour bar
    figures.assert_white_png(fig)


def test_filters_refuse_several_input_channels():
    with pytest.raises(ValueError, match=r"pass weights\[:, channel\]"):
        viz.filters_figure(np.zeros((4, 3, 3, 3)))
    assert len([ax for ax in viz.filters_figure(np.ones((2, 5, 5))).axes if ax.images]) == 2


# -------------------------------------------------------------------------- feature maps
def test_feature_maps_one_row_per_layer_each_map_on_its_own_scale():
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(1, 12, 12))
    maps = {"conv": rng.uniform(size=(6, 12, 12)), "pool": rng.uniform(size=(3, 6, 6))}
    maps["conv"][2] = 0  # a channel that never responds
    fig = viz.feature_maps_figure(image, maps, channels=4)
    assert len(fig.axes) == 3 * 5  # input row + 2 layers, label column + 4 maps
    texts = [text for ax in fig.axes for text in figures.texts(ax)]
    assert "conv\n6×12×12" in texts
    assert "pool\n3×6×6" in texts
    conv_maps = [ax for ax in fig.axes[5:10] if ax.images]
    assert len(conv_maps) == 4
    assert [ax.get_title() for ax in conv_maps] == ["0", "1", "0", "3"]  # "0": all zero
    assert conv_maps[1].images[0].get_clim() == pytest.approx((0, maps["conv"][1].max()))
    pool_maps = [ax for ax in fig.axes[10:] if ax.images]
    assert len(pool_maps) == 3
    figures.assert_white_png(fig)


def test_feature_maps_refuse_batches():
    with pytest.raises(ValueError, match=r"must be \(C, h, w\) for one image"):
        viz.feature_maps_figure(np.zeros((8, 8)), {"conv": np.zeros((2, 3, 8, 8))})
    with pytest.raises(ValueError, match=r"image must be \(1, H, W\) or \(H, W\)"):
        viz.feature_maps_figure(np.zeros((2, 8, 8)), {"conv": np.zeros((3, 8, 8))})


# ---------------------------------------------------------------------- attribution maps
def test_attribution_rows_are_normalised_maps_under_the_images():
    rng = np.random.default_rng(2)
    images = rng.uniform(size=(3, 1, 10, 10))
    saliency = rng.uniform(size=(3, 10, 10)) * 5
    cam = np.zeros((3, 10, 10))
    cam[:, 2:5, 2:5] = 2.0
    fig = viz.attribution_figure(
        images, {"saliency": saliency, "Grad-CAM": cam}, titles=["a", "b", "c"]
    )
    axes = np.array(fig.axes).reshape(3, 3)
    assert [ax.get_title() for ax in axes[0]] == ["a", "b", "c"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["input", "saliency", "Grad-CAM"]
    np.testing.assert_allclose(axes[1, 1].images[0].get_array(), saliency[1] / saliency[1].max())
    assert axes[2, 0].images[0].get_array().max() == 1.0
    assert axes[1, 0].collections  # the digit's outline
    figures.assert_white_png(fig)


def test_attribution_refuses_mismatched_or_signed_maps():
    images = np.zeros((2, 1, 6, 6))
    with pytest.raises(ValueError, match=r"have shape \(3, 6, 6\), the images \(2, 6, 6\)"):
        viz.attribution_figure(images, {"s": np.zeros((3, 6, 6))})
    with pytest.raises(ValueError, match="negative values"):
        viz.attribution_figure(images, {"s": -np.ones((2, 6, 6))})
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        viz.attribution_figure(images, {"s": np.zeros((2, 6, 6))}, titles=["x"])
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) or \(N, H, W\) grey images"):
        viz.attribution_figure(np.zeros((2, 3, 6, 6)), {"s": np.zeros((2, 6, 6))})
    with pytest.raises(ValueError, match="at least one image"):
        viz.attribution_figure(np.zeros((0, 6, 6)), {})


# -------------------------------------------------------------------------------- probes
def _results():
    accuracies = [(0.9, 0.88), (0.99, 0.93), (1.0, 0.97), (0.99, 0.985)]
    return [
        ProbeResult(name, (4,), 4, train, test)
        for name, (train, test) in zip(["input", "conv", "pool", "dense"], accuracies, strict=True)
    ]


def test_probe_bars_show_the_held_out_accuracy_per_layer_in_order():
    fig = viz.probe_accuracy_figure(_results(), title="probes")
    ax = fig.axes[0]
    tops = [patch.get_y() + patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(tops, [88, 93, 97, 98.5])
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "input",
        "conv",
        "pool",
        "dense",
    ]
    assert figures.texts(ax) == ["88.0", "93.0", "97.0", "98.5"]
    assert ax.get_ylim()[0] == 70  # 10 points below the lowest bar, rounded down
    assert "axis starts at 70 %" in ax.get_ylabel()
    training = [line for line in ax.lines if line.get_label() == "training accuracy"]
    np.testing.assert_allclose(training[0].get_ydata(), [90, 99, 100, 99])
    assert ax.get_title() == "probes"
    figures.assert_white_png(fig)


def test_probe_bars_draw_chance_when_the_axis_reaches_it():
    fig = viz.probe_accuracy_figure(_results(), bottom=0)
    ax = fig.axes[0]
    assert any(line.get_label() == "chance" for line in ax.lines)
    assert ax.get_ylabel() == "probe accuracy (%)"
    with pytest.raises(ValueError, match="at least one probe result"):
        viz.probe_accuracy_figure([])
    with pytest.raises(ValueError, match=r"accuracies must lie in \[0, 1\]"):
        viz.probe_accuracy_figure([ProbeResult("x", (1,), 1, 0.5, 93.0)])
