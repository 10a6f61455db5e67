r"""Optimisers: SGD with momentum, Nesterov and weight decay; Adam (chapter 5).

Each ``step`` updates the parameters in place from their gradients, following PyTorch's
formulas exactly (so that a network trained here and there takes the same steps).

SGD, with weight decay :math:`\lambda` and momentum :math:`\mu`
:cite:`sutskever2013importance`:

.. math:: g \leftarrow g + \lambda\theta, \qquad v \leftarrow \mu v + g, \qquad
          \theta \leftarrow \theta - \eta\,(g + \mu v \text{ if Nesterov, else } v).

Adam :cite:`kingma2015adam`, at step :math:`t`:

.. math:: m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
          v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
          \theta \leftarrow \theta - \eta\, \frac{m / (1 - \beta_1^t)}
          {\sqrt{v / (1 - \beta_2^t)} + \epsilon}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SGD", "Adam", "Optimizer"]


def _in_range(value: float, name: str, owner: str, low: float, high: float) -> float:
    """``value`` as a float in ``[low, high)``, or a ValueError naming the hyper-parameter."""
    number = float(value)
    if not low <= number < high:
        raise ValueError(f"{owner}: {name} must lie in [{low}, {high}), got {value}")
    return number


class Optimizer:
    """Updates a fixed list of parameters from their gradients.

    Parameters
    ----------
    lr
        The learning rate; a schedule may change it between steps.
    """

    def __init__(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: the learning rate must be positive, got {lr}")
        self.lr = float(lr)
        self.state: dict[int, dict[str, NDArray[Any]]] = {}
        self.steps = 0

    def step(self, params: Sequence[NDArray[Any]], grads: Sequence[NDArray[Any]]) -> None:
        """Update every parameter in place; ``params[i]`` goes with ``grads[i]``."""
        if len(params) != len(grads):
            raise ValueError(
                f"{type(self).__name__}: {len(params)} parameters but {len(grads)} gradients"
            )
        self.steps += 1
        for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
            if param.shape != grad.shape:
                raise ValueError(
                    f"{type(self).__name__}: parameter {index} has shape {param.shape} "
                    f"but its gradient {grad.shape}"
                )
            self._update(index, param, grad.astype(param.dtype, copy=False))

    def _update(self, index: int, param: NDArray[Any], grad: NDArray[Any]) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"lr": self.lr}

    def __repr__(self) -> str:
        """E.g. ``Adam(lr=0.001)``."""
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({arguments})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: Nesterov momentum needs momentum > 0")
        self.momentum = _in_range(momentum, "momentum", "SGD", 0, 1)
        self.nesterov = nesterov
        self.weight_decay = _in_range(weight_decay, "weight_decay", "SGD", 0, np.inf)

    def _update(self, index: int, param: NDArray[Any], grad: NDArray[Any]) -> None:
        if self.weight_decay:
            grad = grad + param.dtype.type(self.weight_decay) * param
        if self.momentum:
            state = self.state.setdefault(index, {})
            velocity = state.get("velocity")
            if velocity is None:  # PyTorch starts the buffer at the first gradient
                velocity = state["velocity"] = grad.copy()
            else:
                velocity *= param.dtype.type(self.momentum)
                velocity += grad
            grad = grad + param.dtype.type(self.momentum) * velocity if self.nesterov else velocity
        param -= param.dtype.type(self.lr) * grad

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class Adam(Optimizer):
    """Adam: per-parameter steps scaled by running estimates of the gradient's moments."""

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr)
        self.beta1 = _in_range(beta1, "beta1", "Adam", 0, 1)
        self.beta2 = _in_range(beta2, "beta2", "Adam", 0, 1)
        if not eps > 0:
            raise ValueError(f"Adam: eps must be positive, got {eps}")
        self.eps = float(eps)
        self.weight_decay = _in_range(weight_decay, "weight_decay", "Adam", 0, np.inf)

    def _update(self, index: int, param: NDArray[Any], grad: NDArray[Any]) -> None:
        if self.weight_decay:
            grad = grad + param.dtype.type(self.weight_decay) * param
        state = self.state.setdefault(index, {})
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(param), np.zeros_like(param)
            state["t"] = np.zeros((), dtype=np.int64)
        state["t"] += 1
        t = int(state["t"])
        m, v = state["m"], state["v"]
        m *= param.dtype.type(self.beta1)
        m += param.dtype.type(1 - self.beta1) * grad
        v *= param.dtype.type(self.beta2)
        v += param.dtype.type(1 - self.beta2) * grad * grad
        correction1 = 1 - self.beta1**t
        correction2 = 1 - self.beta2**t
        denominator = np.sqrt(v) / param.dtype.type(np.sqrt(correction2)) + param.dtype.type(
            self.eps
        )
        param -= param.dtype.type(self.lr / correction1) * (m / denominator)

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }
