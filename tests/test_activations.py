"""Activation functions and modules: the derivatives at their kinks (PyTorch's choices,
written out, and compared with PyTorch itself when it is installed), the modules, and
bad settings.  Smooth behaviour is generated from tests/ops.py."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import Value, nn
from minigrad.nn import functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

KINKS = [
    # (ours, torch's name, kwargs, points, PyTorch's derivative at the points)
    (F.leaky_relu, "leaky_relu", {"negative_slope": 0.1}, [-1.0, 0.0, 1.0], [0.1, 0.1, 1.0]),
    (F.elu, "elu", {"alpha": 1.5}, [-1.0, 0.0, 1.0], [1.5 * np.exp(-1.0), 1.5, 1.0]),
    (F.hardtanh, "hardtanh", {}, [-2.0, -1.0, 0.0, 1.0, 2.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    (F.relu6, "relu6", {}, [-1.0, 0.0, 3.0, 6.0, 7.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    (F.hardsigmoid, "hardsigmoid", {}, [-4.0, -3.0, 0.0, 3.0, 4.0], [0, 0, 1 / 6, 0, 0]),
    (F.hardswish, "hardswish", {}, [-4.0, -3.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.5, 1.0, 1.0]),
    (F.softplus, "softplus", {"threshold": 1.0}, [0.0, 1.0, 2.0], [0.5, 1 / (1 + np.exp(-1)), 1.0]),
]


@pytest.mark.parametrize("fn, name, kwargs, points, expected", KINKS, ids=lambda k: str(k)[:12])
def test_derivative_at_the_kinks_is_pytorchs(fn, name, kwargs, points, expected):
    x = Value(np.array(points))
    fn(x, **kwargs).sum().backward()
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-15)
    if torch is not None:
        t = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        getattr(TF, name)(t, **kwargs).sum().backward()
        # (PyTorch's hardsigmoid multiplies by 1/6 rounded to float32: hence rtol 1e-7)
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-7, atol=1e-15)


def test_stable_for_huge_inputs():
    x = Value(np.array([-1000.0, 1000.0]))
    for fn in (F.softplus, F.logsigmoid, F.elu, F.selu, F.mish, F.silu, F.gelu):
        out = fn(x)
        out.sum().backward()
        assert np.all(np.isfinite(out.data)) or fn is F.logsigmoid, fn.__name__
        assert np.all(np.isfinite(x.grad)), fn.__name__
        x.grad = None
    np.testing.assert_allclose(F.logsigmoid(Value(-1000.0)).data, -1000.0)


MODULES = [
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.ELU(), F.elu, "ELU(alpha=1.0)"),
    (nn.SELU(), F.selu, "SELU()"),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), F.silu, "SiLU()"),
    (nn.Softplus(beta=2.0), lambda x: F.softplus(x, 2.0), "Softplus(beta=2.0, threshold=20.0)"),
    (nn.Mish(), F.mish, "Mish()"),
    (nn.Hardtanh(-2, 2), lambda x: F.hardtanh(x, -2, 2), "Hardtanh(min_val=-2, max_val=2)"),
    (nn.ReLU6(), F.relu6, "ReLU6()"),
    (nn.Hardsigmoid(), F.hardsigmoid, "Hardsigmoid()"),
    (nn.Hardswish(), F.hardswish, "Hardswish()"),
    (nn.Softsign(), F.softsign, "Softsign()"),
    (nn.LogSigmoid(), F.logsigmoid, "LogSigmoid()"),
]


@pytest.mark.parametrize("module, function, text", MODULES, ids=lambda m: type(m).__name__)
def test_modules_apply_their_function(module, function, text):
    x = np.linspace(-4, 4, 9)
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert repr(module) == text
    assert list(module.parameters()) == []


def test_gelu_as_an_mlp_activation():
    model = nn.MLP(4, [3, 2], activation="gelu", seed=0)
    out = model(np.ones((5, 4)))
    assert out.shape == (5, 2)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: nn.GELU("fast"),
            ValueError,
            "gelu: approximate must be 'none' or 'tanh', got 'fast'",
        ),
        (lambda: nn.LeakyReLU("0.1"), TypeError, "leaky_relu: negative_slope must be a number"),
        (lambda: nn.Softplus(beta=0), ValueError, "softplus: beta must be nonzero"),
        (
            lambda: nn.Hardtanh(1, -1),
            ValueError,
            "hardtanh: min_val 1.0 is larger than max_val -1.0",
        ),
        (lambda: nn.ELU(float("inf")), ValueError, "elu: alpha must be finite, got inf"),
    ],
)
def test_bad_settings_are_refused_when_the_module_is_made(make, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()
