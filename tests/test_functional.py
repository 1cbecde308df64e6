"""nn.functional: every loss and the softmax family against finite differences (written in
tests/reference.py), closed forms and torch; stability at ±1e4 logits; errors; float32;
second derivatives through the fused rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.nn import functional as F
from tests.reference import central_difference

RNG = np.random.default_rng(1234)


def _grad_of(fn, *arrays):
    """Gradients of fn(*Values) w.r.t. each input array, through minigrad."""
    values = [Value(a) for a in arrays]
    out = fn(*values)
    out.backward()
    return out, [v.grad for v in values]


def _numeric(fn, *arrays):
    return central_difference(lambda *a: float(fn(*[Value(x) for x in a]).data), arrays)


# ============================================================================ closed forms


def test_mse_and_l1_match_their_definitions():
    pred, target = RNG.normal(size=(6, 2)), RNG.normal(size=(6, 2))
    assert math.isclose(F.mse_loss(Value(pred), target).item(), np.mean((pred - target) ** 2))
    assert math.isclose(F.l1_loss(Value(pred), target).item(), np.mean(np.abs(pred - target)))
    assert math.isclose(
        F.mse_loss(Value(pred), target, reduction="sum").item(), np.sum((pred - target) ** 2)
    )
    none = F.l1_loss(Value(pred), target, reduction="none")
    assert np.allclose(none.data, np.abs(pred - target))
    _, (g,) = _grad_of(lambda p: F.mse_loss(p, target), pred)
    assert np.allclose(g, 2 * (pred - target) / pred.size)


def test_cross_entropy_closed_form_and_gradient_softmax_minus_onehot():
    z = RNG.normal(size=(5, 4))
    t = np.array([0, 3, 1, 1, 2])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(5), t]))
    out, (g,) = _grad_of(lambda v: F.cross_entropy(v, t), z)
    assert math.isclose(out.item(), expected, rel_tol=1e-12)
    onehot = np.eye(4)[t]
    assert np.allclose(g, (p - onehot) / 5, atol=1e-14)


def test_softmax_logsumexp_log_softmax_closed_forms():
    x = RNG.normal(size=(3, 5))
    s = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    assert np.allclose(F.softmax(x).data, s)
    assert np.allclose(F.softmax(x).data.sum(axis=-1), 1.0)
    assert np.allclose(F.log_softmax(x).data, np.log(s))
    assert np.allclose(F.logsumexp(x).data, np.log(np.exp(x).sum(axis=-1)))
    assert np.allclose(F.logsumexp(x, axis=0).data, np.log(np.exp(x).sum(axis=0)))
    assert math.isclose(F.logsumexp(x, axis=None).item(), np.log(np.exp(x).sum()))
    assert F.logsumexp(x, axis=1, keepdims=True).shape == (3, 1)
    assert np.allclose(F.softmax(x, axis=0).data.sum(axis=0), 1.0)


def test_logsumexp_gradient_is_softmax():
    x = RNG.normal(size=(4, 3))
    _, (g,) = _grad_of(lambda v: F.logsumexp(v, axis=1).sum(), x)
    assert np.allclose(g, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True))


def test_hinge_loss_is_the_micrograd_demo_formula():
    scores = np.array([2.0, 0.5, -0.3, -2.0])
    y = np.array([1.0, 1.0, 1.0, -1.0])
    # relu(1 - y * s) = [0, 0.5, 1.3, 0] -> mean 0.45
    assert math.isclose(F.hinge_loss(Value(scores), y).item(), 0.45)
    _, (g,) = _grad_of(lambda s: F.hinge_loss(s, y), scores)
    assert np.allclose(g, [0.0, -0.25, -0.25, 0.0])


def test_bce_with_logits_closed_form_and_gradient_at_zero():
    z = np.array([0.0, 0.0, 2.0, -1.0])
    y = np.array([1.0, 0.0, 0.3, 1.0])
    sig = 1 / (1 + np.exp(-z))
    expected = -np.mean(y * np.log(sig) + (1 - y) * np.log(1 - sig))
    out, (g,) = _grad_of(lambda v: F.binary_cross_entropy_with_logits(v, y), z)
    assert math.isclose(out.item(), expected, rel_tol=1e-12)
    # At z = 0 the gradient is sigmoid(0) - y = 0.5 - y, not -y (the kink pitfall).
    assert np.allclose(g, (sig - y) / 4)


def test_nll_of_log_softmax_equals_cross_entropy():
    z, t = RNG.normal(size=(4, 3)), np.array([2, 0, 1, 2])
    a = F.nll_loss(F.log_softmax(Value(z), axis=1), t).item()
    assert math.isclose(a, F.cross_entropy(Value(z), t).item(), rel_tol=1e-12)


# ============================================================================ finite differences

LOSSES = {
    "mse": lambda p, y: F.mse_loss(p, y),
    "l1": lambda p, y: F.l1_loss(p, y),
    "bce": lambda p, y: F.binary_cross_entropy_with_logits(p, y),
    "hinge": lambda p, y: F.hinge_loss(p, y),
}


def _targets(name, shape):
    if name == "bce":
        return RNG.uniform(size=shape)
    if name == "hinge":
        return RNG.choice([-1.0, 1.0], size=shape)
    return RNG.normal(size=shape)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_regression_and_binary_losses_against_finite_differences(name, reduction):
    pred = RNG.normal(size=(5, 3))
    y = _targets(name, pred.shape)
    fn = {
        "mse": F.mse_loss,
        "l1": F.l1_loss,
        "bce": F.binary_cross_entropy_with_logits,
        "hinge": F.hinge_loss,
    }[name]
    _, (g,) = _grad_of(lambda p: fn(p, y, reduction=reduction), pred)
    (expected,) = _numeric(lambda p: fn(p, y, reduction=reduction), pred)
    assert np.allclose(g, expected, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_against_finite_differences(reduction):
    z = RNG.normal(size=(6, 4)) * 3
    t = RNG.integers(0, 4, size=6)
    weights = RNG.normal(size=6)

    def fn(v):
        out = F.cross_entropy(v, t, reduction=reduction)
        return (out * weights).sum() if reduction == "none" else out

    _, (g,) = _grad_of(fn, z)
    (expected,) = _numeric(fn, z)
    assert np.allclose(g, expected, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, -1, None, (0, 1)])
def test_softmax_family_against_finite_differences(axis):
    x = RNG.normal(size=(3, 4))
    w = RNG.normal(size=(3, 4))
    for fn in (
        lambda v: (F.logsumexp(v, axis=axis, keepdims=True) * 1.0).sum(),
        lambda v: (F.softmax(v, axis=axis if isinstance(axis, int) else -1) * w).sum(),
        lambda v: (F.log_softmax(v, axis=axis if isinstance(axis, int) else -1) * w).sum(),
    ):
        _, (g,) = _grad_of(fn, x)
        (expected,) = _numeric(fn, x)
        assert np.allclose(g, expected, atol=1e-6)


def test_bce_gradient_wrt_targets_against_finite_differences():
    z, y = RNG.normal(size=4), RNG.uniform(size=4)
    _, (gz, gy) = _grad_of(F.binary_cross_entropy_with_logits, z, y)
    ez, ey = _numeric(F.binary_cross_entropy_with_logits, z, y)
    assert np.allclose(gz, ez, atol=1e-7) and np.allclose(gy, ey, atol=1e-7)


# ============================================================================ stability


EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]])


def test_cross_entropy_at_extreme_logits_is_finite_and_exact():
    t = np.array([1, 2, 0])
    out, (g,) = _grad_of(lambda v: F.cross_entropy(v, t), EXTREME)
    # row 0: lse = 1e4, loss 2e4; row 1: loss 0; row 2: lse = 1e4 + log 2, loss log 2
    assert math.isclose(out.item(), (2e4 + 0.0 + math.log(2)) / 3, rel_tol=1e-12)
    assert np.all(np.isfinite(g))
    assert np.allclose(g[0], np.array([1, -1, 0]) / 3) and np.allclose(g[2], [-1 / 6, 1 / 6, 0])


def test_softmax_family_at_extreme_logits():
    v = Value(EXTREME)
    (F.softmax(v, axis=1) * RNG.normal(size=(3, 3))).sum().backward()
    assert np.all(np.isfinite(v.grad))
    assert np.allclose(F.softmax(EXTREME, axis=1).data[0], [1, 0, 0])
    assert np.allclose(F.log_softmax(EXTREME, axis=1).data[0], [0, -2e4, -1e4])
    assert np.allclose(F.logsumexp(EXTREME, axis=1).data, [1e4, 1e4, 1e4 + math.log(2)])
    w = Value(EXTREME)
    F.logsumexp(w, axis=1).sum().backward()
    assert np.all(np.isfinite(w.grad)) and np.allclose(w.grad.sum(axis=1), 1)


def test_bce_and_hinge_at_extreme_logits():
    z = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    out, (g,) = _grad_of(lambda v: F.binary_cross_entropy_with_logits(v, y), z)
    assert math.isclose(out.item(), 2e4 / 4)  # two wrong by 1e4 (loss 1e4 each), two right
    assert np.allclose(g, np.array([0, 0, 1, -1]) / 4)
    out, (g,) = _grad_of(lambda v: F.hinge_loss(v, 2 * y - 1), z)
    assert np.all(np.isfinite(g)) and math.isfinite(out.item())


# ============================================================================ torch


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_losses_match_torch_value_and_gradient(scale):
    torch = _torch()
    tf = torch.nn.functional
    z = RNG.normal(size=(7, 5)) * scale
    t = RNG.integers(0, 5, size=7)
    y01 = RNG.uniform(size=(7, 5))
    ypm = RNG.choice([-1.0, 1.0], size=(7, 5))
    yreal = RNG.normal(size=(7, 5)) * scale
    cases = [
        (lambda v: F.cross_entropy(v, t), lambda a: tf.cross_entropy(a, torch.tensor(t))),
        (
            lambda v: F.cross_entropy(v, t, reduction="sum"),
            lambda a: tf.cross_entropy(a, torch.tensor(t), reduction="sum"),
        ),
        (
            lambda v: F.binary_cross_entropy_with_logits(v, y01),
            lambda a: tf.binary_cross_entropy_with_logits(a, torch.tensor(y01)),
        ),
        (lambda v: F.mse_loss(v, yreal), lambda a: tf.mse_loss(a, torch.tensor(yreal))),
        (lambda v: F.l1_loss(v, yreal), lambda a: tf.l1_loss(a, torch.tensor(yreal))),
        (
            lambda v: F.hinge_loss(v, ypm),
            lambda a: torch.clamp(1 - torch.tensor(ypm) * a, min=0).mean(),
        ),
        (
            lambda v: (F.log_softmax(v, axis=1) * ypm).sum(),
            lambda a: (tf.log_softmax(a, dim=1) * torch.tensor(ypm)).sum(),
        ),
        (
            lambda v: (F.softmax(v, axis=0) * ypm).sum(),
            lambda a: (tf.softmax(a, dim=0) * torch.tensor(ypm)).sum(),
        ),
        (
            lambda v: (F.logsumexp(v, axis=1) * ypm[:, 0]).sum(),
            lambda a: (torch.logsumexp(a, dim=1) * torch.tensor(ypm[:, 0])).sum(),
        ),
    ]
    for ours, theirs in cases:
        out, (g,) = _grad_of(ours, z)
        a = torch.tensor(z, requires_grad=True)
        ref = theirs(a)
        ref.backward()
        assert np.isfinite(out.item()) and np.all(np.isfinite(g))
        assert math.isclose(out.item(), ref.item(), rel_tol=1e-10, abs_tol=1e-10)
        assert np.allclose(g, a.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_second_derivative_matches_torch():
    torch = _torch()
    z = RNG.normal(size=(3, 4))
    t = np.array([0, 3, 2])
    u = RNG.normal(size=(3, 4))
    v = Value(z)
    (g,) = mg.grad(F.cross_entropy(v, t), [v], create_graph=True)
    (hvp,) = mg.grad((g * u).sum(), [v])
    a = torch.tensor(z, requires_grad=True)
    (ga,) = torch.autograd.grad(
        torch.nn.functional.cross_entropy(a, torch.tensor(t)), a, create_graph=True
    )
    (ha,) = torch.autograd.grad((ga * torch.tensor(u)).sum(), a)
    assert np.allclose(hvp, ha.numpy(), atol=1e-12)


# ============================================================================ higher order


def test_cross_entropy_hessian_is_diag_p_minus_ppT_over_n():
    z = RNG.normal(size=(1, 4))
    v = Value(z)
    (g,) = mg.grad(F.cross_entropy(v, [2]), [v], create_graph=True)
    p = np.exp(z[0]) / np.exp(z[0]).sum()
    hessian = np.stack([mg.grad(g[0, i], [v])[0][0] for i in range(4)])
    assert np.allclose(hessian, np.diag(p) - np.outer(p, p), atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_second_derivatives_against_finite_differences_of_the_gradient(reduction):
    z = RNG.normal(size=(4, 3)) * 2
    t = np.array([2, 0, 0, 1])
    weights = RNG.normal(size=4)  # reduction="none": a weighted sum, so every row counts

    def loss(v):
        out = F.cross_entropy(v, t, reduction=reduction)
        return (out * weights).sum() if reduction == "none" else out

    v = Value(z)
    (g,) = mg.grad(loss(v), [v], create_graph=True)
    (second,) = mg.grad((g * g).sum(), [v])

    def grad_norm_sq(a):
        w = Value(a)
        loss(w).backward()
        return float((w.grad**2).sum())

    (expected,) = central_difference(grad_norm_sq, [z])
    assert np.allclose(second, expected, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_backward_twice_through_one_graph_doubles_the_gradient(reduction):
    # backward must not spend what it saved: the second pass sees the same softmax.
    z = Value(RNG.normal(size=(5, 4)).astype(np.float32))
    out = F.cross_entropy(z, [0, 3, 1, 1, 2], reduction=reduction)
    seed = None if reduction != "none" else np.linspace(0.5, 1.5, 5, dtype=np.float32)
    out.backward(seed)
    first = z.grad.copy()
    out.backward(seed)
    assert first.dtype == np.float32 and np.abs(first).max() > 0
    assert np.allclose(z.grad, 2 * first, rtol=1e-6)


def test_logsumexp_and_bce_second_derivatives_against_finite_differences_of_the_gradient():
    x = RNG.normal(size=5)
    y = RNG.uniform(size=5)
    for fn in (
        lambda v: F.logsumexp(v),
        lambda v: F.binary_cross_entropy_with_logits(v, y),
        lambda v: (F.softmax(v) * np.arange(5.0)).sum(),
    ):
        v = Value(x)
        (g,) = mg.grad(fn(v), [v], create_graph=True)
        (second,) = mg.grad((g * g).sum(), [v])  # d/dx |grad|^2

        def grad_norm_sq(a, fn=fn):
            w = Value(a)
            fn(w).backward()
            return float((w.grad**2).sum())

        (expected,) = central_difference(grad_norm_sq, [x])
        assert np.allclose(second, expected, atol=1e-6)


# ============================================================================ float32


@pytest.mark.parametrize(
    "loss",
    [
        lambda z: F.cross_entropy(z, np.arange(8) % 3),
        lambda z: F.binary_cross_entropy_with_logits(z, np.full((8, 3), 0.5)),
        lambda z: F.mse_loss(z, np.zeros((8, 3))),
        lambda z: F.l1_loss(z, np.ones((8, 3))),
        lambda z: F.hinge_loss(z, np.ones((8, 3))),
        lambda z: F.softmax(z).sum(),
        lambda z: F.logsumexp(z, axis=0).sum(),
    ],
)
def test_float32_stays_float32(loss):
    z = Value(RNG.normal(size=(8, 3)).astype(np.float32))
    out = loss(z)
    out.backward()
    assert out.dtype == np.float32 and z.grad.dtype == np.float32
    nodes = mg.autograd.topological_order(out)
    assert all(n.dtype == np.float32 and n.grad.dtype == np.float32 for n in nodes)


# ============================================================================ inputs and errors


def test_cross_entropy_single_example_and_float_integral_targets():
    z = RNG.normal(size=4)
    single = F.cross_entropy(Value(z), 2).item()
    assert math.isclose(single, F.cross_entropy(Value(z[None]), [2]).item())
    batch = F.cross_entropy(RNG.normal(size=(3, 4)), np.array([0.0, 1.0, 3.0]))
    assert np.isfinite(batch.item())


def test_cross_entropy_out_of_range_targets_name_values_and_classes():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"targets \[-1, 3, 7\] are out of range for 3 classes"):
        F.cross_entropy(z, [3, -1, 7, 0])
    # The extremes of the index type, one on each side of the valid range.
    smallest, largest = np.iinfo(np.intp).min, np.iinfo(np.intp).max
    for bad in (smallest, largest):
        with pytest.raises(ValueError, match=f"targets \\[{bad}\\] are out of range"):
            F.cross_entropy(z, np.array([0, bad, 1, 2]))
    assert np.isfinite(F.cross_entropy(z, np.array([0, 2, 1, 2], dtype=np.uint8)).item())


def test_cross_entropy_non_integer_and_one_hot_and_shape_errors():
    z = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"non-integer values \[0.5, 1.5\]"):
        F.cross_entropy(z, [0.5, 1.5, 1.0])
    with pytest.raises(ValueError, match="one-hot"):  # integer one-hot rows: still refused
        F.cross_entropy(z, np.eye(3, dtype=int))
    with pytest.raises(ValueError, match=r"need targets of shape \(3,\), got shape \(2,\)"):
        F.cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match=r"logits must have shape \(n, classes\)"):
        F.cross_entropy(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(z, np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="non-integer values"):
        F.cross_entropy(z, [np.nan, 0, 1])


def test_shape_mismatch_is_refused_instead_of_broadcast():
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape \(4,\)"):
        F.mse_loss(Value(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(ValueError, match=r"reshape one of them"):
        F.l1_loss(Value(np.zeros((4, 1))), np.zeros(4))


def test_target_range_errors():
    with pytest.raises(
        ValueError, match=r"targets must be -1 or \+1, got \[0\]; for 0/1 labels use 2 \* y - 1"
    ):
        F.hinge_loss(np.zeros(3), [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\].*got \[-1\]"):
        F.binary_cross_entropy_with_logits(np.zeros(3), [-1.0, 1.0, 0.0])


def test_reduction_and_axis_errors():
    with pytest.raises(
        ValueError, match="reduction must be one of 'mean', 'sum', 'none', got 'avg'"
    ):
        F.mse_loss(np.zeros(2), np.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        F.softmax(np.zeros((2, 2)), axis=2)
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        F.logsumexp(Value(1.0), axis=1)  # a 0-d input takes axis 0 or -1, as in PyTorch


def test_losses_accept_a_list_of_scalar_values_like_micrograd():
    a, b = Value(0.5), Value(-0.5)
    loss = F.mse_loss([a, b], [1.0, -1.0])
    loss.backward()
    assert math.isclose(loss.item(), 0.25) and math.isclose(a.grad, -0.5)


def test_dropout_function_validation_and_identity():
    x = Value(np.ones(5))
    assert F.dropout(x, 0.5, rng=0, training=False) is x
    assert F.dropout(x, 0.0, rng=0) is x
    for p in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
            F.dropout(x, p, rng=0)
    with pytest.raises(TypeError, match="must be a number"):
        F.dropout(x, "0.5", rng=0)
