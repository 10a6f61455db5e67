"""cnnlib.optim against torch.optim: the same parameters, gradients and hyper-parameters give
the same trajectory, step after step, in float64 (and float32 within its precision)."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import torch_or_skip

from cnnlib.optim import SGD, Adam

CONFIGS = {
    "sgd": (SGD, {"lr": 0.1}),
    "sgd-momentum": (SGD, {"lr": 0.05, "momentum": 0.9}),
    "sgd-nesterov": (SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    "sgd-weight-decay": (SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    "adam": (Adam, {"lr": 0.01}),
    "adam-betas-eps": (Adam, {"lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    "adam-weight-decay": (Adam, {"lr": 0.01, "weight_decay": 0.1}),
}


def _torch_optimizer(torch, cls, config, params):
    if cls is SGD:
        return torch.optim.SGD(params, **config)
    config = dict(config)
    betas = (config.pop("beta1", 0.9), config.pop("beta2", 0.999))
    return torch.optim.Adam(params, betas=betas, **config)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_steps_match_torch_optim(name, dtype, rng):
    torch = torch_or_skip()
    cls, config = CONFIGS[name]
    shapes = [(3, 4), (4,), (2, 1, 3, 3)]
    ours = [rng.normal(size=s).astype(dtype) for s in shapes]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in ours]
    optimizer = cls(**config)
    reference = _torch_optimizer(torch, cls, config, theirs)
    for _ in range(12):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        for tensor, grad in zip(theirs, grads, strict=True):
            tensor.grad = torch.tensor(grad)
        reference.step()
        optimizer.step(ours, grads)
    tolerance = 1e-13 if dtype == np.float64 else 2e-6
    for mine, expected in zip(ours, theirs, strict=True):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, expected.detach().numpy(), rtol=tolerance, atol=tolerance)


def test_plain_sgd_is_the_textbook_update():
    param, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    SGD(lr=0.1).step([param], [grad])
    assert np.allclose(param, [0.95, -2.025])


def test_momentum_accumulates_a_constant_gradient():
    # with a constant gradient g, the velocity after t steps is g (1 + μ + … + μ^(t-1))
    param = np.zeros(1)
    optimizer = SGD(lr=1.0, momentum=0.5)
    for _ in range(3):
        optimizer.step([param], [np.ones(1)])
    assert param[0] == pytest.approx(-(1 + 1.5 + 1.75))


def test_adams_first_step_has_size_lr_whatever_the_gradient_scale():
    for scale in (1e-3, 1.0, 1e6):  # (far above eps = 1e-8)
        param = np.zeros(3)
        Adam(lr=0.01).step([param], [np.array([1.0, -2.0, 3.0]) * scale])
        assert np.allclose(param, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_bad_hyperparameters_and_mismatched_lists_are_named():
    with pytest.raises(ValueError, match="SGD: the learning rate must be positive, got 0"):
        SGD(lr=0)
    with pytest.raises(ValueError, match=r"SGD: momentum must lie in \[0, 1\), got 1.5"):
        SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        SGD(nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: beta2 must lie in \[0, 1\), got 1"):
        Adam(beta2=1)
    with pytest.raises(ValueError, match="Adam: eps must be positive"):
        Adam(eps=0)
    with pytest.raises(ValueError, match="2 parameters but 1 gradients"):
        SGD().step([np.zeros(2), np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\) but its gradient \(3,\)"):
        SGD().step([np.zeros(2)], [np.zeros(3)])


def test_repr_shows_the_hyperparameters():
    assert repr(SGD(0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)"
    )
