"""The convolution benchmarks in smoke mode: every side computes the same losses and
gradients before anything is timed (no timing is asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import conv
from benchmarks.harness import Config

SMOKE = Config.smoke_mode()


def test_the_digits_cnn_step_is_the_same_in_minigrad_and_pytorch():
    torch = pytest.importorskip("torch")
    x, labels, model = conv.cnn_problem(4)
    ours = conv.minigrad_cnn_step(x, labels, model)
    theirs = conv.torch_cnn_step(torch, x, labels, conv.cnn_problem(4)[2])
    for _ in range(3):
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-5)
    named = dict(theirs.model.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, named[name].detach().numpy(), rtol=1e-4, atol=1e-6)


def test_the_conv_layer_gradients_equal_pytorchs():
    torch = pytest.importorskip("torch")
    arrays = conv.layer_problem(smoke=True)
    ours = conv.minigrad_layer(*arrays)()
    theirs = conv.torch_layer(torch, *arrays)()
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_the_rows_carry_their_targets():
    rows = conv.run(SMOKE)
    targets = {(r.benchmark, r.target) for r in rows}
    assert ("digits CNN step", "< 1.0") in targets and ("digits CNN step", "< 0.5") in targets
    assert ("conv 16->32 3x3 28x28", "<= 2.5") in targets
