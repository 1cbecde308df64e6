"""Reliability of the engine: depth, memory, anomaly mode, thread-local switches."""

from __future__ import annotations

import gc
import math
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def _chain(n: int) -> tuple[Value, Value]:
    x = Value(0.5, name="x")
    h = x
    for _ in range(n):
        h = h * 1.0
    return x, h


def test_functional_grad_and_ordering_on_a_million_node_chain():
    x, h = _chain(1_000_000)
    order = mg.autograd.topological_order(h)
    assert len(order) == 1_000_001 and order[0] is h and order[-1] is x
    del order
    assert mg.grad(h, x) == 1.0
    assert x.grad is None


# ------------------------------------------------------------------ memory


def test_graph_is_freed_by_reference_counting_after_backward():
    """No reference cycles: the graph disappears the moment the last name goes, gc off."""
    gc.disable()
    try:
        w = Value(np.ones((3, 3)), name="w")
        hidden = (Value(np.ones((2, 3))) @ w).tanh()
        loss = (hidden * hidden).sum()
        loss.backward()
        probes = [weakref.ref(hidden), weakref.ref(loss)]
        del hidden, loss
        assert all(p() is None for p in probes)
        assert w.grad is not None  # the parameter keeps its gradient
    finally:
        gc.enable()


def test_create_graph_false_keeps_no_gradient_graph():
    x = Value(np.array([0.3, -0.2]))
    y = (x.tanh() * x).sum()
    y.backward()
    assert isinstance(x.grad, np.ndarray)  # data, not a Value with a graph behind it
    x.grad = None
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.requires_grad


def _live_values() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Value)


def test_training_steps_leave_memory_flat():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    params = [
        Value(rng.normal(size=(2, 16)) * 0.5),
        Value(np.zeros(16)),
        Value(rng.normal(size=(16, 1)) * 0.5),
        Value(np.zeros(1)),
    ]

    def step():
        W1, b1, W2, b2 = params
        out = ((Value(X) @ W1 + b1).relu() @ W2 + b2).sigmoid()
        loss = ((out - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p.data -= 0.1 * p.grad

    for _ in range(100):  # warm up caches and allocator pools
        step()
    before_values = _live_values()
    tracemalloc.start()
    first = tracemalloc.take_snapshot()
    for _ in range(2000):
        step()
    second = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in second.compare_to(first, "filename"))
    assert growth < 256 * 1024, f"memory grew by {growth} bytes over 2,000 steps"
    assert _live_values() == before_values


# ------------------------------------------------------------------ anomaly mode


def test_anomaly_mode_names_the_forward_operation_and_the_user_line():
    x = Value(np.array([1.0, 0.0, 2.0]), name="x")
    with mg.detect_anomaly(), pytest.warns(RuntimeWarning):
        with pytest.raises(mg.AnomalyError) as info:
            x.log()  # the line the message must point at
    message = str(info.value)
    assert "forward" in message and "'log'" in message
    assert "shape (3,)" in message and "1 inf (of 3 elements)" in message
    assert "x shape (3,), range [0, 2]" in message
    assert "test_reliability.py" in message
    line = int(message.rsplit(":", 1)[1])
    source = open(__file__).read().splitlines()[line - 1]
    assert "x.log()" in source


def test_anomaly_mode_names_the_backward_operation():
    x = Value(0.0, name="x")
    with mg.detect_anomaly():
        y = x.sqrt()  # forward is fine: sqrt(0) = 0
        with pytest.raises(mg.AnomalyError, match=r"backward: operation 'pow'.*input 0"):
            with pytest.warns(RuntimeWarning):
                y.backward()
    assert x.grad is None


def test_anomaly_mode_is_off_by_default_and_thread_local():
    with pytest.warns(RuntimeWarning):
        assert Value(0.0).log().data == -math.inf  # IEEE answer, no exception
    seen = {}

    def other():
        seen["enabled"] = mg.anomaly.is_anomaly_enabled()

    with mg.detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert mg.anomaly.is_anomaly_enabled()
    assert seen == {"enabled": False}
    assert not mg.anomaly.is_anomaly_enabled()


def test_nan_data_is_allowed_but_anomaly_mode_catches_its_use():
    v = Value([1.0, float("nan")], name="v")
    assert np.isnan(v.data[1])
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match="1 NaN"):
        v * 2.0


# ------------------------------------------------------------------ numerics


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "relu", "abs"])
def test_activations_finite_across_the_range(op):
    x = Value(np.linspace(-1e4, 1e4, 2001))
    y = getattr(x, op)()
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


def test_power_at_zero_has_the_ieee_gradient_for_the_exponent():
    base = Value(np.array([0.0, 2.0]))
    exponent = Value(2.0)
    (base**exponent).sum().backward()
    assert np.allclose(base.grad, [0.0, 4.0])
    assert math.isclose(exponent.grad, 4.0 * math.log(2.0))  # the 0 ** 2 term adds 0, not nan


# ------------------------------------------------------------------ every traversal, big graphs


def _long_chain(x: Value, n: int = 1_000_000) -> Value:
    h = x
    for _ in range(n):
        h = h * 1.0000001
    return h


def _wide(x: Value, n: int = 100_000) -> Value:
    """One node feeding 100,000 others, gathered by a concat and one sum."""
    return mg.concat([(x * float(i % 5)).reshape(1) for i in range(n)]).sum()


@pytest.mark.parametrize("build, expected", [(_long_chain, 1.0000001**1_000_000), (_wide, 200_000)])
def test_every_traversal_handles_big_graphs(build, expected):
    x = Value(0.5, name="x")
    out = build(x)
    assert math.isclose(mg.grad(out, x), expected, rel_tol=1e-9)
    assert mg.gradcheck(build, x).passed
    limit = 100
    assert len(mg.to_dot(out, max_nodes=limit).splitlines()) < 6 * limit
    assert "more Values not drawn" in mg.to_dot(out, max_nodes=limit)
    assert mg.draw(out, max_nodes=limit).source == mg.to_dot(out, max_nodes=limit)
    lines = mg.trace(out, max_lines=50).splitlines()
    assert 50 <= len(lines) <= 52
    out.backward()
    assert math.isclose(x.grad, expected, rel_tol=1e-9)


# ------------------------------------------------------------------ checkpoints under faults


def _raiser(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


class _FailAfter:
    """A file that accepts ``limit`` bytes, then fails like a full disk."""

    def __init__(self, file, limit: int):
        self._file, self._left = file, limit

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self._left:
            self._file.write(data[: self._left])
            self._left = 0
            raise OSError("simulated: disk full")
        self._left -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_a_save_interrupted_at_any_point_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import os

    from minigrad.nn import checkpoint

    path = tmp_path / "model.npz"
    previous = mg.nn.MLP(3, [8, 2], seed=0)
    previous.save(path)
    saved_bytes = path.read_bytes()
    newer = mg.nn.MLP(3, [8, 2], seed=1)
    write = checkpoint._write_arrays

    points = sorted({0, 1, 10, 100} | set(range(0, len(saved_bytes) + 200, 50)))
    for limit in points:
        monkeypatch.setattr(
            checkpoint, "_write_arrays", lambda f, arrays, n=limit: write(_FailAfter(f, n), arrays)
        )
        try:
            newer.save(path)
        except OSError:
            pass
        else:  # the limit was beyond the file's size: that save completed; put the old one back
            previous.save(path)
            continue
        assert path.read_bytes() == saved_bytes, f"failing after {limit} bytes changed the file"
        assert os.listdir(tmp_path) == ["model.npz"], "a temporary file was left behind"
    monkeypatch.setattr(checkpoint, "_write_arrays", write)

    for step in ("fsync", "replace"):
        with monkeypatch.context() as patch:
            patch.setattr(os, step, _raiser(OSError(step)))
            with pytest.raises(OSError, match=step):
                newer.save(path)
        assert path.read_bytes() == saved_bytes and os.listdir(tmp_path) == ["model.npz"]

    restored = mg.nn.MLP(3, [8, 2], seed=5).load(path)
    assert all(
        np.array_equal(a.data, b.data) for a, b in zip(previous.parameters(), restored.parameters())
    )
    print(f"{len(points)} interrupted writes + fsync + replace failures simulated")
