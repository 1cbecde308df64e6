"""The curvature of the loss: Hessian-vector products, the sharpest curvature, and the
largest stable learning rate of gradient descent.

``hessian_vector_product`` is a gradient of a gradient (no Hessian matrix is formed);
``largest_hessian_eigenvalue`` finds lambda_max by power iteration on such products, and
``critical_learning_rate`` turns it into 2 / lambda_max, the rate above which plain
gradient descent diverges near the current parameters.  ``dataset_loss`` builds the loss
they take, the way ``fit`` builds a batch loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.autograd import grad as _grad
from minigrad.train import _checked_data, _in_model_dtype, _loss_function, _match_target, _rng
from minigrad.value import Value, data_of

__all__ = [
    "dataset_loss",
    "hessian_vector_product",
    "largest_hessian_eigenvalue",
    "critical_learning_rate",
]


def dataset_loss(model: Any, X: Any, y: Any, loss: str | Callable = "mse") -> Value:
    """The loss of ``model`` on the whole of ``(X, y)`` as a Value with its graph (grad on),
    built the way ``fit`` builds a batch loss; the input to the curvature helpers."""
    X, y = _checked_data(X, y, "X", "y")
    loss_fn, _ = _loss_function(loss)
    prediction = model(Value(_in_model_dtype(X, model), requires_grad=False))
    return loss_fn(prediction, _match_target(y, prediction))


def hessian_vector_product(
    loss: Value, params: Sequence[Value], vectors: Sequence[Any], gradients: Sequence[Any] = None
) -> list[np.ndarray]:
    """H v, where H is the Hessian of the scalar ``loss`` with respect to ``params``.

    Computed as the gradient of g . v, where g = d loss / d params was computed with
    ``create_graph=True`` (pass it as ``gradients`` to reuse it): a second reverse pass,
    no Hessian matrix ever formed.  ``vectors`` holds one array per parameter, of its
    shape; the result too (float64).
    """
    params = list(params)
    if gradients is None:
        gradients = _grad(loss, params, create_graph=True, allow_unused=True)
    if len(vectors) != len(params):
        raise ValueError(f"hessian_vector_product: {len(vectors)} vectors for {len(params)} "
                         "parameters")  # fmt: skip
    terms = []
    for g, v, p in zip(gradients, vectors, params):
        v = np.asarray(v, dtype=np.float64)
        if v.shape != p.shape:
            raise ValueError(
                f"hessian_vector_product: vector of shape {v.shape} for a parameter of shape "
                f"{p.shape}"
            )
        if isinstance(g, Value) and g.requires_grad:
            terms.append((g * Value(v, requires_grad=False)).sum())
    zeros = [np.zeros(np.shape(p.data)) for p in params]
    if not terms:  # the gradient does not depend on the parameters: H = 0
        return zeros
    dot = terms[0]
    for term in terms[1:]:
        dot = dot + term
    result = _grad(dot, params, allow_unused=True)
    return [
        z if r is None else np.asarray(data_of(r), dtype=np.float64)
        for r, z in zip(result, zeros)
    ]


def largest_hessian_eigenvalue(
    loss: Value,
    params: Sequence[Value],
    *,
    max_iter: int = 1000,
    tol: float = 1e-10,
    seed: int | np.random.Generator = 0,
) -> float:
    """lambda_max: the largest eigenvalue of the Hessian of ``loss`` w.r.t. ``params``.

    Power iteration on Hessian-vector products: start from a random unit vector v (drawn
    with ``seed``), repeat v <- H v / |H v|, and read the Rayleigh quotient v . H v, until
    it changes by less than ``tol`` (relative) or ``max_iter`` products were made.  Power
    iteration finds the eigenvalue of largest *magnitude*; if that one is negative (a
    saddle or a maximum), a second run on H - mu I finds the largest algebraic eigenvalue.
    ``loss`` must be a scalar Value built with the graph recorded (not under no_grad).
    The Hessian is never formed: each product costs about two backward passes.
    """
    params = list(params)
    if not isinstance(loss, Value) or loss.size != 1:
        raise TypeError("largest_hessian_eigenvalue: loss must be a scalar Value")
    if not params:
        raise ValueError("largest_hessian_eigenvalue: no parameters given")
    gradients = _grad(loss, params, create_graph=True, allow_unused=True)
    rng = _rng(seed)

    def hv(vectors: list[np.ndarray]) -> list[np.ndarray]:
        return hessian_vector_product(loss, params, vectors, gradients)

    mu = _power_iteration(hv, params, rng, 0.0, max_iter, tol)
    if mu < 0:  # the dominant eigenvalue is negative: shift to find the top of the spectrum
        mu = mu + _power_iteration(hv, params, rng, mu, max_iter, tol)
    return mu


def _power_iteration(
    hv: Callable, params: list[Value], rng: np.random.Generator, shift: float,
    max_iter: int, tol: float,
) -> float:  # fmt: skip
    """Dominant eigenvalue of H - shift * I by power iteration."""
    v = [rng.standard_normal(np.shape(p.data)) for p in params]
    v = _normalised(v)
    mu = math.nan
    for _ in range(max_iter):
        w = [a - shift * b for a, b in zip(hv(v), v)]
        new_mu = sum(float(np.sum(a * b)) for a, b in zip(v, w))  # Rayleigh quotient v.(H-sI)v
        norm = math.sqrt(sum(float(np.sum(a * a)) for a in w))
        if norm == 0.0:
            return 0.0
        v = [a / norm for a in w]
        if math.isfinite(mu) and abs(new_mu - mu) <= tol * abs(new_mu):
            return new_mu
        mu = new_mu
    return mu


def _normalised(vectors: list[np.ndarray]) -> list[np.ndarray]:
    norm = math.sqrt(sum(float(np.sum(a * a)) for a in vectors))
    return [a / norm for a in vectors]


def critical_learning_rate(loss: Value, params: Sequence[Value], **power_iteration: Any) -> float:
    """2 / lambda_max: the largest learning rate at which plain gradient descent is stable
    near the current parameters.

    On a quadratic loss, gradient descent multiplies the error along each eigenvector of
    the Hessian by (1 - lr * lambda) per step, so it converges exactly when
    |1 - lr * lambda| < 1 for every eigenvalue, i.e. lr < 2 / lambda_max; above that the
    sharpest direction oscillates with growing amplitude.  For other losses this holds
    locally.  Returns ``math.inf`` if no eigenvalue is positive.  Keyword arguments go to
    ``largest_hessian_eigenvalue``.  Example::

        loss = dataset_loss(model, X, y, "mse")
        critical_learning_rate(loss, model.parameters())
    """
    lam = largest_hessian_eigenvalue(loss, params, **power_iteration)
    return 2.0 / lam if lam > 0 else math.inf
