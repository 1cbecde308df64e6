"""Every operation of tests/ops.py against PyTorch, generated from the list.

For each case with a ``torch`` twin, in float64 and float32: the forward values and dtype,
the gradient of a weighted sum of the output, and the second derivative (the gradient of
a weighted sum of those gradients, through ``create_graph=True``).  Elementwise cases are
also run on broadcast shapes, on 0-d inputs and on empty arrays.  Skipped as a whole when
torch is not importable; tests/test_primitives.py compares the same cases with finite
differences either way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from tests.ops import CASES, Case, case_arrays

torch = pytest.importorskip("torch")

TORCH_CASES = [c for c in CASES if c.torch is not None]
TOLERANCE = {np.float64: dict(rtol=1e-6, atol=1e-9), np.float32: dict(rtol=2e-4, atol=2e-5)}


def _shape_sets(case: Case) -> list[tuple[str, list[tuple]]]:
    """(label, input shapes) to run the case on."""
    if case.shapes == "fixed":
        return [("fixed", list(case.fixed))]
    if case.shapes == "matrix":
        return [
            ("matrix", [(3, 4)] * case.arity),
            ("no-rows", [(0, 4)] * case.arity),
            ("no-columns", [(3, 0)] * case.arity),
        ]
    if case.arity == 1:
        return [("array", [(2, 3)]), ("0-d", [()]), ("empty", [(0,)]), ("empty-2d", [(2, 0)])]
    return [
        ("same", [(2, 3)] * case.arity),
        ("broadcast", [(2, 1, 3), (4, 3)] + [(3,)] * (case.arity - 2)),
        ("0-d", [()] * case.arity),
        ("0-d-with-array", [()] + [(2, 3)] * (case.arity - 1)),
        ("empty", [(0, 3)] + [(3,)] * (case.arity - 1)),
    ]


def _minigrad(case: Case, arrays: list[np.ndarray], dtype: type):
    values = [
        Value(float(a) if a.shape == () and dtype is np.float64 else a.astype(dtype))
        for a in arrays
    ]
    out = case.fn(*values)
    rng = np.random.default_rng(7)
    w = rng.uniform(0.5, 1.5, size=out.shape).astype(dtype)
    total = (out * w).sum()
    grads = mg.grad(total, values, create_graph=True, allow_unused=True)
    second = None
    if case.second:
        u = [rng.uniform(0.5, 1.5, size=v.shape).astype(dtype) for v in values]
        terms = [(g * ui).sum() for g, ui in zip(grads, u) if g is not None and g.requires_grad]
        if terms:
            s = terms[0]
            for t in terms[1:]:
                s = s + t
            second = mg.grad(s, values, allow_unused=True)
        else:
            second = [None] * len(values)
    return out, [None if g is None else g.data for g in grads], second


def _torch(case: Case, arrays: list[np.ndarray], dtype: type):
    with warnings.catch_warnings():  # PyTorch's notes (var of nothing, kl_div's 'mean')
        warnings.simplefilter("ignore", UserWarning)
        return _torch_results(case, arrays, dtype)


def _torch_results(case: Case, arrays: list[np.ndarray], dtype: type):
    tdtype = torch.float64 if dtype is np.float64 else torch.float32
    tensors = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in arrays]
    out = case.torch(torch, *tensors)
    rng = np.random.default_rng(7)
    w = torch.tensor(rng.uniform(0.5, 1.5, size=tuple(out.shape)).astype(dtype))
    total = (out * w).sum()
    grads = torch.autograd.grad(total, tensors, create_graph=True, allow_unused=True)
    second = None
    if case.second:
        u = [rng.uniform(0.5, 1.5, size=tuple(t.shape)).astype(dtype) for t in tensors]
        terms = [
            (g * torch.tensor(ui)).sum()
            for g, ui in zip(grads, u)
            if g is not None and g.requires_grad
        ]
        if terms:
            second = torch.autograd.grad(sum(terms), tensors, allow_unused=True)
        else:
            second = [None] * len(tensors)
    plain = [None if g is None else g.detach().numpy(force=True) for g in grads]
    second = (
        None if second is None else [None if g is None else g.numpy(force=True) for g in second]
    )
    return out.detach().numpy(), plain, second


def _close(ours, theirs, shape, dtype, what):
    ours = np.zeros(shape) if ours is None else np.asarray(ours, dtype=np.float64)
    theirs = np.zeros(shape) if theirs is None else np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOLERANCE[dtype])


_PARAMS = [
    pytest.param(case, label, shapes, dtype, id=f"{case.name}-{label}-{dtype.__name__}")
    for case in TORCH_CASES
    for label, shapes in _shape_sets(case)
    for dtype in (np.float64, np.float32)
]


@pytest.mark.parametrize("case, label, shapes, dtype", _PARAMS)
def test_matches_pytorch(case: Case, label: str, shapes: list, dtype: type):
    arrays = case_arrays(case, shapes, np.random.default_rng(len(case.name)), low=0.3)
    try:
        t_out, t_grads, t_second = _torch(case, arrays, dtype)
    except (RuntimeError, IndexError) as error:  # PyTorch refuses (max of nothing): so must we
        with pytest.raises((ValueError, IndexError), match=r"\w") as ours:
            _minigrad(case, arrays, dtype)
        assert str(ours.value), f"PyTorch raised {error}; minigrad's error says nothing"
        return
    out, grads, second = _minigrad(case, arrays, dtype)
    assert out.dtype == t_out.dtype, f"dtype {out.dtype}, PyTorch {t_out.dtype}"
    _close(out.data, t_out, t_out.shape, dtype, "forward")
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        _close(g, tg, shapes[i], dtype, f"gradient of input {i}")
    if case.second:
        for i, (g, tg) in enumerate(zip(second, t_second)):
            _close(g, tg, shapes[i], dtype, f"second derivative, input {i}")


def test_every_primitive_is_compared_with_pytorch():
    from minigrad import functions as F

    covered = {p for case in TORCH_CASES for p in case.primitives}
    missing = [p.__name__ for p in F.PRIMITIVES if p not in covered]
    assert not missing, f"primitives with no PyTorch twin in tests/ops.py: {missing}"
