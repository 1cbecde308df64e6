"""Independent references for the tests: finite differences written from scratch here,
sharing no code with minigrad's engine or its gradcheck module."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def central_difference(
    f: Callable[..., float], arrays: Sequence[np.ndarray], eps: float = 1e-6
) -> list[np.ndarray]:
    """d f / d arrays[i], elementwise, by (f(x + eps) - f(x - eps)) / (2 eps) in float64."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + eps
            up = f(*arrays)
            flat[j] = keep - eps
            down = f(*arrays)
            flat[j] = keep
            gflat[j] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def torch_or_skip():
    """The torch module, or a pytest skip when it is not installed."""
    import pytest

    return pytest.importorskip("torch")
