"""cnnlib.losses: values and gradients against PyTorch and central differences, stability,
and labels that do not fit."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import torch_or_skip

from cnnlib import gradcheck
from cnnlib.losses import MSE, BinaryCrossEntropy, CrossEntropy, MeanSquaredError, log_softmax


def _loss_and_grad_torch(fn, prediction, target):
    t = torch_or_skip()
    p = t.tensor(prediction, requires_grad=True)
    loss = fn(p, t.tensor(target))
    loss.backward()
    return float(loss.detach()), p.grad.numpy()


LOSSES = {
    "mse": (MeanSquaredError(), lambda rng: (rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))),
    "bce": (
        BinaryCrossEntropy(),
        lambda rng: (rng.uniform(0.05, 0.95, size=(6, 1)), rng.integers(0, 2, (6, 1)) * 1.0),
    ),
    "bce-logits": (
        BinaryCrossEntropy(from_logits=True),
        lambda rng: (rng.normal(size=(6, 2)) * 3, rng.integers(0, 2, (6, 2)) * 1.0),
    ),
    "ce-logits": (
        CrossEntropy(),
        lambda rng: (rng.normal(size=(4, 5)) * 2, rng.integers(0, 5, 4)),
    ),
    "ce-probabilities": (
        CrossEntropy(from_logits=False),
        lambda rng: (rng.dirichlet(np.ones(5), size=4), rng.integers(0, 5, 4)),
    ),
    "ce-soft-targets": (
        CrossEntropy(),
        lambda rng: (rng.normal(size=(4, 5)), rng.dirichlet(np.ones(5), size=4)),
    ),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradient_matches_central_differences(name, rng):
    loss, make = LOSSES[name]
    prediction, target = make(rng)

    def forward(p):
        return np.array(loss(p, target))

    def backward(dy, p):
        return {"p": float(dy) * loss.forward(p, target)[1]}

    reports = gradcheck.check_gradients(forward, backward, {"p": prediction}, tolerance=1e-7)
    assert reports[0].passed


def test_losses_match_pytorch(rng):
    t = torch_or_skip()
    f = t.nn.functional
    y, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    _check(MSE(), f.mse_loss, y, target)
    p, labels = rng.uniform(0.01, 0.99, size=(6, 1)), rng.integers(0, 2, (6, 1)) * 1.0
    _check(BinaryCrossEntropy(), f.binary_cross_entropy, p, labels)
    z = rng.normal(size=(6, 4)) * 5
    binary = rng.integers(0, 2, (6, 4)) * 1.0
    _check(BinaryCrossEntropy(from_logits=True), f.binary_cross_entropy_with_logits, z, binary)
    logits, classes = rng.normal(size=(7, 10)) * 4, rng.integers(0, 10, 7)
    _check(CrossEntropy(), f.cross_entropy, logits, classes)
    soft = rng.dirichlet(np.ones(10), size=7)
    _check(CrossEntropy(), f.cross_entropy, logits, soft)


def _check(ours, theirs, prediction, target):
    loss, grad = ours.forward(prediction, target)
    expected_loss, expected_grad = _loss_and_grad_torch(theirs, prediction, target)
    assert loss == pytest.approx(expected_loss, rel=1e-13), ours
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-16, err_msg=repr(ours))


def test_logit_losses_are_stable_for_huge_scores():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = CrossEntropy().forward(np.array([[1000.0, 0.0, -1000.0]]), [2])
        assert loss == pytest.approx(2000.0)
        assert np.allclose(grad, [[1, 0, -1]])
        loss, grad = BinaryCrossEntropy(from_logits=True).forward(
            np.array([[800.0], [-800.0]]), np.array([[0.0], [1.0]])
        )
        assert loss == pytest.approx(800.0)
        assert np.allclose(grad, [[0.5], [-0.5]])
    assert np.allclose(np.exp(log_softmax(np.array([[1e4, 1e4]]))), 0.5)


def test_probability_losses_clip_instead_of_returning_inf():
    loss = BinaryCrossEntropy()(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]))
    assert np.isfinite(loss)
    assert loss == pytest.approx(-np.log(1e-7), rel=1e-6)
    assert np.isfinite(CrossEntropy(from_logits=False)(np.array([[1.0, 0.0]]), [1]))


def test_float32_stays_float32(rng):
    z = rng.normal(size=(4, 3)).astype(np.float32)
    for loss, target in [
        (CrossEntropy(), [0, 1, 2, 0]),
        (BinaryCrossEntropy(from_logits=True), (z > 0).astype(np.float32)),
        (BinaryCrossEntropy(), (z > 0).astype(np.float32)),
        (MSE(), np.zeros((4, 3))),
    ]:
        prediction = np.clip(z, 0.1, 0.9) if loss.config() == {"from_logits": False} else z
        assert loss.forward(prediction, target)[1].dtype == np.float32, loss


def test_labels_out_of_range_name_the_label_and_its_index():
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 3\) for 3 classes; label 3 at index 2"
    ):
        CrossEntropy()(np.zeros((4, 3)), [0, 1, 3, 2])
    with pytest.raises(ValueError, match="label -1 at index 0"):
        CrossEntropy()(np.zeros((2, 3)), [-1, 1])


def test_label_shapes_and_types_are_checked():
    with pytest.raises(ValueError, match=r"targets have shape \(3,\); expected 4 integer labels"):
        CrossEntropy()(np.zeros((4, 3)), [0, 1, 2])
    with pytest.raises(TypeError, match="labels have dtype float64; expected integers"):
        CrossEntropy()(np.zeros((2, 3)), [0.5, 1.0])
    assert CrossEntropy()(np.zeros((2, 3)), [0.0, 1.0]) == pytest.approx(np.log(3))
    with pytest.raises(ValueError, match=r"predictions must be \(N, classes\)"):
        CrossEntropy()(np.zeros(3), [0])
    with pytest.raises(ValueError, match="target probabilities must lie in"):
        CrossEntropy()(np.zeros((1, 2)), np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        BinaryCrossEntropy()(np.full((2, 1), 0.5), np.array([[0.0], [2.0]]))
    with pytest.raises(ValueError, match="one 0/1 label per prediction"):
        BinaryCrossEntropy()(np.full((2, 1), 0.5), np.zeros(3))
    with pytest.raises(ValueError, match=r"MeanSquaredError: targets have shape \(2,\)"):
        MSE()(np.zeros((2, 1)), np.zeros(2))


def test_integer_or_empty_predictions_are_refused():
    with pytest.raises(TypeError, match="predictions have dtype int64"):
        CrossEntropy()(np.zeros((2, 3), dtype=np.int64), [0, 1])
    with pytest.raises(ValueError, match="the batch is empty"):
        MSE()(np.zeros((0, 3)), np.zeros((0, 3)))


def test_a_vector_of_binary_labels_fits_a_single_output():
    p = np.array([[0.8], [0.3]])
    assert BinaryCrossEntropy()(p, [1, 0]) == pytest.approx(-np.log(0.8 * 0.7) / 2)


def test_the_sources_binary_cross_entropy_by_hand():
    # L = -(t log p + (1 - t) log(1 - p)), averaged: p = 0.9 for a 1 and p = 0.2 for a 0
    expected = -(np.log(0.9) + np.log(0.8)) / 2
    assert BinaryCrossEntropy()(np.array([[0.9], [0.2]]), [[1.0], [0.0]]) == pytest.approx(expected)
    # softmax + cross-entropy gradient is (p - onehot) / N
    z = np.array([[2.0, 1.0, 0.1]])
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(CrossEntropy().forward(z, [0])[1], p - [1, 0, 0])


def test_repr():
    assert repr(CrossEntropy()) == "CrossEntropy(from_logits=True)"
    assert repr(MSE()) == "MeanSquaredError()"
