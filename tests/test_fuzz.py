"""Property-based fuzzing: random expression graphs (every primitive, broadcasting shapes,
reused nodes) checked against finite differences, and against torch where installed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from minigrad import Value
from minigrad.autograd import topological_order
from tests.fuzz_graphs import MG_OPS, programs, torch_ops
from tests.reference import central_difference

# CI runs a few thousand examples in all; MINIGRAD_FUZZ_EXAMPLES raises it for a long soak.
EXAMPLES = int(os.environ.get("MINIGRAD_FUZZ_EXAMPLES", "1500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _minigrad_gradients(program, intermediate_grads=True):
    leaves = [Value(a) for a in program.leaves()]
    out = program.run(MG_OPS, leaves)
    loss = (out * program.weights(out.shape)).sum()
    loss.backward(intermediate_grads=intermediate_grads)
    return out, loss, leaves


@FUZZ
@given(program=programs(smooth_only=True))
def test_random_graphs_match_finite_differences(program):
    out, loss, leaves = _minigrad_gradients(program)
    weights = program.weights(out.shape)

    def f(*arrays):
        result = program.run(MG_OPS, [Value(a, requires_grad=False) for a in arrays])
        return float(np.sum(np.asarray(result.data) * weights))

    expected = central_difference(f, program.leaves(), eps=1e-6)
    for leaf, e in zip(leaves, expected):
        grad = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad
        assert np.shape(grad) == leaf.shape
        np.testing.assert_allclose(grad, e, rtol=1e-4, atol=1e-6, err_msg=repr(program))


@FUZZ
@given(program=programs())
def test_random_graphs_match_torch(program):
    torch = pytest.importorskip("torch")
    out, loss, leaves = _minigrad_gradients(program)
    tleaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in program.leaves()]
    tout = program.run(torch_ops(torch), tleaves)
    tloss = (tout * torch.from_numpy(program.weights(tuple(tout.shape)))).sum()
    tloss.backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for leaf, t in zip(leaves, tleaves):
        tgrad = np.zeros(leaf.shape) if t.grad is None else t.grad.numpy()
        grad = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad
        np.testing.assert_allclose(grad, tgrad, rtol=1e-9, atol=1e-12, err_msg=repr(program))


@settings(max_examples=300, deadline=None)
@given(program=programs())
def test_leaf_gradients_do_not_depend_on_keeping_the_intermediate_ones(program):
    _, _, kept = _minigrad_gradients(program)
    out, loss, leaves = _minigrad_gradients(program, intermediate_grads=False)
    for a, b in zip(kept, leaves):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_array_equal(a.grad, b.grad, err_msg=repr(program))
    intermediates = [n for n in topological_order(loss) if n.grad_fn is not None]
    assert intermediates and all(n.grad is None for n in intermediates)


@settings(max_examples=200, deadline=None)
@given(program=programs(max_steps=4, smooth_only=True))
def test_random_graphs_second_order_match_torch(program):
    torch = pytest.importorskip("torch")
    import minigrad as mg

    leaves = [Value(a) for a in program.leaves()]
    out = program.run(MG_OPS, leaves)
    loss = (out * program.weights(out.shape)).sum()
    grads = mg.grad(loss, leaves, create_graph=True, allow_unused=True)
    used = [(leaf, g) for leaf, g in zip(leaves, grads) if g is not None and g.requires_grad]
    if not used:
        return
    second = sum((g * g).sum() for _, g in used)
    hv = mg.grad(second, [leaf for leaf, _ in used], allow_unused=True)

    tleaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in program.leaves()]
    tout = program.run(torch_ops(torch), tleaves)
    tloss = (tout * torch.from_numpy(program.weights(tuple(tout.shape)))).sum()
    tgrads = torch.autograd.grad(tloss, tleaves, create_graph=True, allow_unused=True)
    index = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
    tsecond = sum((tgrads[i] * tgrads[i]).sum() for i in index)
    thv = torch.autograd.grad(tsecond, [tleaves[i] for i in index], allow_unused=True)
    for mine, theirs in zip(hv, thv):
        mine = 0.0 if mine is None else mine
        theirs = 0.0 if theirs is None else theirs.numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-10, err_msg=repr(program))
