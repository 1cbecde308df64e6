"""LayerNorm, BatchNorm1d and Embedding: against PyTorch (when installed) and finite
differences, train/eval behaviour, checkpoints, and the bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value, nn

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
RNG = np.random.default_rng(3)
X = RNG.normal(size=(4, 3, 5))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_matches_pytorch(dtype):
    ours = nn.LayerNorm((3, 5), eps=1e-3, dtype=dtype)
    ours.weight.data = RNG.normal(size=(3, 5)).astype(dtype)
    ours.bias.data = RNG.normal(size=(3, 5)).astype(dtype)
    theirs = torch.nn.LayerNorm(
        (3, 5), eps=1e-3, dtype=torch.float64 if dtype is np.float64 else torch.float32
    )
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    x = Value(X.astype(dtype))
    tx = torch.tensor(X.astype(dtype), requires_grad=True)
    w = RNG.normal(size=X.shape).astype(dtype)
    out = ours(x)
    assert out.dtype == dtype
    (out * w).sum().backward()
    t_out = theirs(tx)
    (t_out * torch.tensor(w)).sum().backward()
    tol = dict(rtol=1e-9, atol=1e-10) if dtype is np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), **tol)


def test_layer_norm_gradcheck_and_second_derivative():
    layer = nn.LayerNorm(5)
    x = Value(X[0])
    assert mg.gradcheck(layer, x).passed
    assert mg.gradgradcheck(lambda v: layer(v), x).passed


@needs_torch
def test_batch_norm_matches_pytorch_in_training_and_evaluation():
    ours = nn.BatchNorm1d(3, momentum=0.2)
    theirs = torch.nn.BatchNorm1d(3, momentum=0.2, dtype=torch.float64)
    for batch in (X, X[:2] * 2 + 1):
        x, tx = Value(batch), torch.tensor(batch, requires_grad=True)
        w = RNG.normal(size=batch.shape)
        (ours(x) * w).sum().backward()
        (theirs(tx) * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy())
        np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy())
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    ours.eval()
    theirs.eval()
    single = X[:1, :, 0]
    np.testing.assert_allclose(ours(single).data, theirs(torch.tensor(single)).detach().numpy())


def test_batch_norm_eval_is_per_example_and_state_dict_keeps_running_stats(tmp_path):
    bn = nn.BatchNorm1d(3)
    bn(X[:, :, 0])
    assert set(bn.state_dict()) == {
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    }  # fmt: skip  (PyTorch's names)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    bn.eval()
    alone = bn(X[:1, :, 0]).data
    together = bn(X[:, :, 0]).data[:1]
    np.testing.assert_allclose(alone, together)
    path = tmp_path / "bn.npz"
    bn.save(path)
    other = nn.BatchNorm1d(3)
    other.load(path)
    np.testing.assert_array_equal(other.running_var.data, bn.running_var.data)


def test_embedding_gradient_accumulates_repeated_rows():
    emb = nn.Embedding(5, 2, seed=0)
    out = emb(np.array([[1, 3], [1, 1]]))
    assert out.shape == (2, 2, 2)
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [0.0, 3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: nn.LayerNorm(4)(np.ones((2, 3))),
            ValueError,
            r"input of shape \(2, 3\) does not end in",
        ),
        (lambda: nn.LayerNorm(0), ValueError, "normalized_shape must be a positive integer"),
        (lambda: nn.LayerNorm(3, eps=-1), ValueError, "LayerNorm: eps must be a positive number"),
        (
            lambda: nn.BatchNorm1d(3)(np.ones((2, 4))),
            ValueError,
            r"expects input of shape \(n, 3\)",
        ),
        (lambda: nn.BatchNorm1d(3)(np.ones((1, 3))), ValueError, "more than one value per feature"),
        (lambda: nn.BatchNorm1d(3, momentum=2), ValueError, r"momentum must be in \[0, 1\]"),
        (
            lambda: nn.Embedding(3, 2)(np.array([0, 3])),
            IndexError,
            r"indices \[3\] are out of range for 3",
        ),
        (lambda: nn.Embedding(3, 2)(np.array([0.5])), TypeError, "indices must be integers"),
    ],
)
def test_bad_inputs_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
