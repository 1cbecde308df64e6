"""Every primitive's gradient against central finite differences, generated from tests/ops.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import Value
from minigrad import functions as F
from tests.ops import CASES, Case, case_arrays
from tests.reference import central_difference

SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
MATRIX = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4)


def _shapes(case: Case):
    if case.shapes == "fixed":
        return st.just(case.fixed)
    if case.shapes == "matrix":
        return st.tuples(*[MATRIX] * case.arity) if case.arity > 1 else MATRIX.map(lambda s: (s,))
    if case.arity == 1:
        return SHAPE.map(lambda s: (s,))
    return hnp.mutually_broadcastable_shapes(num_shapes=case.arity, max_dims=3, max_side=3).map(
        lambda b: b.input_shapes
    )


def _fill(draw, shape: tuple, domain: str) -> np.ndarray:
    size = int(np.prod(shape))
    raw = np.array(
        draw(st.lists(st.floats(-2, 2, allow_nan=False, width=64), min_size=size, max_size=size)),
        dtype=np.float64,
    ).reshape(shape)
    if domain == "positive":
        return np.abs(raw) + 0.2
    if domain == "nonzero":  # away from 0, where relu, abs and 1/x have kinks or poles
        return np.where(raw >= 0, raw + 0.2, raw - 0.2)
    if domain == "unit":
        return raw * 0.45
    if domain == "offgrid":  # 0.1 to 0.4 past an integer: away from floor's and round's jumps
        return np.floor(raw) + 0.1 + 0.3 * (raw - np.floor(raw))
    if domain == "distinct":  # no ties, so max has a derivative
        order = draw(st.permutations(range(size))) if size else []
        return (np.array(order, dtype=np.float64) * 0.37 + 0.01 * raw.reshape(-1)).reshape(shape)
    return raw


@st.composite
def case_inputs(draw, case: Case):
    shapes = draw(_shapes(case))
    return [_fill(draw, s, case.domain) for s in shapes]


def _as_values(arrays):
    # Shape-() inputs go in as Python floats: the scalar path must be exercised too.
    return [Value(float(a) if a.shape == () else a) for a in arrays]


def _weighted_sum(case: Case, weights_seed: int):
    """f(arrays) = sum(case.fn(arrays) * W) for a fixed random W: a scalar with every
    element of the output weighted differently, so a misplaced gradient cannot hide."""

    def forward(*arrays):
        out = case.fn(*_as_values(arrays))
        w = np.random.default_rng(weights_seed).uniform(0.5, 1.5, size=out.shape)
        return out, w

    return forward


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gradient_matches_central_differences(case: Case, data):
    arrays = data.draw(case_inputs(case))
    forward = _weighted_sum(case, weights_seed=len(case.name))
    values = _as_values(arrays)
    out = case.fn(*values)
    w = np.random.default_rng(len(case.name)).uniform(0.5, 1.5, size=out.shape)
    (out * w).sum().backward()

    def f(*xs):
        result, weights = forward(*xs)
        return float(np.sum(np.asarray(result.data) * weights))

    expected = central_difference(f, arrays)
    for v, e in zip(values, expected):
        assert v.grad is not None
        assert np.shape(v.grad) == np.shape(v.data), "gradient must have the input's shape"
        np.testing.assert_allclose(v.grad, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_stays_float32(case: Case):
    rng = np.random.default_rng(0)
    shapes = case.fixed if case.shapes == "fixed" else [(2, 3)] * case.arity
    values = [Value(a.astype(np.float32)) for a in case_arrays(case, shapes, rng)]
    out = case.fn(*values)
    assert out.dtype == np.float32, f"{case.name} promoted float32 to {out.dtype}"
    out.sum().backward()
    for v in values:
        assert v.grad.dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_stays_float32_under_create_graph(case: Case):
    """First and second derivatives recorded with create_graph keep float32 (relu's mask
    once made them float64)."""
    rng = np.random.default_rng(1)
    shapes = case.fixed if case.shapes == "fixed" else [(2, 3)] * case.arity
    values = [Value(a.astype(np.float32)) for a in case_arrays(case, shapes, rng)]
    grads = mg.grad(case.fn(*values).sum(), values, create_graph=True, allow_unused=True)
    for g in grads:
        assert g is None or g.dtype == np.float32, f"{case.name}: first derivative {g.dtype}"
        if g is not None and g.requires_grad:
            second = mg.grad(g.sum(), values, allow_unused=True)
            dtypes = {s.dtype for s in second if s is not None}
            assert dtypes <= {np.dtype(np.float32)}, f"{case.name}: second derivative {dtypes}"


def test_every_primitive_is_listed():
    covered = {p for case in CASES for p in case.primitives}
    missing = [p.__name__ for p in F.PRIMITIVES if p not in covered]
    assert not missing, f"primitives with no test case in tests/ops.py: {missing}"
