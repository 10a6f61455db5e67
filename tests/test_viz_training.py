"""Chapter 8 figures: they draw what they are given, and refuse what they cannot draw."""

from __future__ import annotations

import figures
import numpy as np
import pytest

from cnnlib import viz
from cnnlib.metrics import confusion_matrix
from cnnlib.model import History


def _history(epochs=4, validation=True):
    history = History()
    for epoch in range(epochs):
        metrics = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch}
        if validation:
            metrics.update({"val_loss": 1.2 / (epoch + 1), "val_accuracy": 0.45 + 0.1 * epoch})
        metrics.update({"lr": 1e-3, "time": 1.0})
        history.append(metrics)
    return history


# ---------------------------------------------------------------------------- image grid
def test_image_grid_shows_every_image_with_its_title():
    images = np.random.default_rng(0).uniform(size=(7, 1, 6, 6))
    fig = viz.image_grid(images, [f"digit {k}" for k in range(7)], columns=4)
    axes = fig.axes
    assert len(axes) == 8  # two rows of four, the last cell empty
    shown = [ax for ax in axes if ax.images]
    assert [ax.get_title() for ax in shown] == [f"digit {k}" for k in range(7)]
    np.testing.assert_array_equal(shown[2].images[0].get_array(), images[2, 0])
    assert shown[0].images[0].get_clim() == (0.0, 1.0)
    figures.assert_white_png(fig)


def test_image_grid_accepts_n_h_w_and_refuses_colour_images_and_bad_titles():
    assert len(viz.image_grid(np.zeros((3, 5, 5)), columns=10).axes) == 3
    with pytest.raises(ValueError, match=r"grey images, got shape \(2, 3, 5, 5\)"):
        viz.image_grid(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match="3 images but 2 titles"):
        viz.image_grid(np.zeros((3, 5, 5)), ["a", "b"])
    with pytest.raises(ValueError, match="at least one image"):
        viz.image_grid(np.zeros((0, 5, 5)))
    with pytest.raises(ValueError, match="columns must be positive"):
        viz.image_grid(np.zeros((3, 5, 5)), columns=0)


# ----------------------------------------------------------------------- training curves
def test_training_curves_draw_training_and_validation_per_epoch():
    history = _history()
    fig = viz.training_curves(history, title="a run")
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss"
    assert accuracy_ax.get_ylabel() == "accuracy (%)"
    assert [line.get_label() for line in loss_ax.lines] == ["training", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])
    np.testing.assert_allclose(accuracy_ax.lines[0].get_ydata(), [50, 60, 70, 80])
    assert loss_ax.get_yscale() == "log"
    assert fig.get_suptitle() == "a run"
    figures.assert_white_png(fig)


def test_training_curves_accept_a_dict_and_missing_validation():
    fig = viz.training_curves(_history(validation=False).history)
    assert [len(ax.lines) for ax in fig.axes] == [1, 1]
    only_loss = viz.training_curves({"loss": [0.5, -0.1]})  # a loss below 0: linear scale
    assert len(only_loss.axes) == 1
    assert only_loss.axes[0].get_yscale() == "linear"


def test_training_curves_refuse_what_is_not_a_history():
    with pytest.raises(TypeError, match="expected a History"):
        viz.training_curves([0.5, 0.4])
    with pytest.raises(ValueError, match="has no 'loss'"):
        viz.training_curves({"accuracy": [0.5]})
    with pytest.raises(ValueError, match="no epoch yet"):
        viz.training_curves(History())
    with pytest.raises(ValueError, match="'val_loss' has 1 values but 'loss' has 2"):
        viz.training_curves({"loss": [1.0, 0.5], "val_loss": [1.0]})


# ---------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_figure_writes_every_count_in_its_cell():
    true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0])
    matrix = confusion_matrix(true, predicted, 3)
    fig = viz.confusion_matrix_figure(matrix, ["zero", "one", "two"])
    (ax,) = fig.axes
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    # every non-zero cell and every diagonal cell is written; empty mistakes are blank
    assert {key: t.get_text() for key, t in cells.items()} == {
        (0, 0): "2",
        (0, 1): "1",
        (1, 1): "2",
        (2, 0): "2",
        (2, 2): "2",
    }
    assert cells[(0, 0)].get_fontweight() == "bold"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two"]
    assert ax.get_xlabel() == "predicted class"
    assert ax.get_ylabel() == "true class"
    assert ax.get_title() == "accuracy 66.67% of 9"
    # the most frequent mistake is the darkest cell, drawn with white text
    image = ax.images[0].get_array()
    assert image[2, 0].sum() < image[0, 1].sum()
    assert cells[(2, 0)].get_color() == "white"
    figures.assert_white_png(fig)


def test_confusion_matrix_figure_without_mistakes_and_with_a_title():
    fig = viz.confusion_matrix_figure(np.diag([3, 4]), title="perfect")
    assert fig.axes[0].get_title() == "perfect"
    assert figures.texts(fig.axes[0]) == ["3", "4"]


@pytest.mark.parametrize(
    ("matrix", "classes", "message"),
    [
        (np.zeros((2, 3)), None, r"must be square \(K, K\), got shape \(2, 3\)"),
        (np.array([[1, -1], [0, 2]]), None, "non-negative counts"),
        (np.eye(3), ["a", "b"], "2 class names for a 3×3 matrix"),
    ],
)
def test_confusion_matrix_figure_refuses_bad_input(matrix, classes, message):
    with pytest.raises(ValueError, match=message):
        viz.confusion_matrix_figure(matrix, classes)


# ------------------------------------------------------------------------------ mistakes
def test_mistakes_figure_shows_the_most_confident_mistakes_first():
    images = np.arange(5 * 4 * 4, dtype=float).reshape(5, 1, 4, 4) / 80
    labels = np.array([0, 1, 2, 1, 0])
    probabilities = np.array(
        [
            [0.9, 0.05, 0.05],  # right
            [0.6, 0.3, 0.1],  # 1 → 0 with 0.60
            [0.1, 0.1, 0.8],  # right
            [0.05, 0.15, 0.8],  # 1 → 2 with 0.80
            [0.2, 0.7, 0.1],  # 0 → 1 with 0.70
        ]
    )
    fig = viz.mistakes_figure(images, labels, probabilities)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["1 → 2 (0.80)", "0 → 1 (0.70)", "1 → 0 (0.60)"]
    np.testing.assert_array_equal(shown[0].images[0].get_array(), images[3, 0])
    named = viz.mistakes_figure(images, labels, probabilities, classes="abc", limit=1)
    assert [ax.get_title() for ax in named.axes if ax.images] == ["b → c (0.80)"]
    figures.assert_white_png(fig)


def test_mistakes_figure_of_a_binary_classifier_reads_the_probability_of_class_1():
    images = np.zeros((4, 1, 3, 3))
    labels = np.array([1, 0, 1, 0])
    p_one = np.array([[0.9], [0.97], [0.2], [0.1]])  # a 0 called 1, a 1 called 0
    fig = viz.mistakes_figure(images, labels, p_one, classes=["zero", "one"])
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["zero → one (0.97)", "one → zero (0.80)"]


def test_mistakes_figure_without_mistakes_says_so():
    fig = viz.mistakes_figure(np.zeros((2, 3, 3)), [0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert figures.texts(fig.axes[0]) == ["no misclassified images"]
    figures.assert_white_png(fig)


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        ([0, 1], np.array([[0.5, 0.5]] * 3), "3 images but 2 labels"),
        ([0, 1, 1], np.array([[0.5, 0.5]] * 2), "3 images but 2 rows of probabilities"),
        ([0, 1, 1], np.array([[2.0, -1.0]] * 3), "must sum to 1; apply the softmax"),
        ([0, 1, 1], np.array([3.0, -1.0, 0.0]), "must lie in \\[0, 1\\]; apply the sigmoid"),
        ([0, 1, 1], np.zeros((3, 2, 2)), r"must be \(N, K\) or \(N,\)"),
    ],
)
def test_mistakes_figure_refuses_inconsistent_input(labels, probabilities, message):
    with pytest.raises(ValueError, match=message):
        viz.mistakes_figure(np.zeros((3, 1, 4, 4)), labels, probabilities)


def test_the_log_loss_axis_labels_only_a_few_minor_ticks():
    from cnnlib.viz.training import _sparse_log_label

    labels = [_sparse_log_label(v, None) for v in (0.2, 0.3, 0.4, 0.5, 0.6, 0.9, 2.0, 30.0, 0.0)]
    assert labels == ["0.2", "0.3", "", "0.5", "", "", "2", "30", ""]
