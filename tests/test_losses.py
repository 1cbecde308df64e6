"""The loss options at their edges: ignored examples, class weights, smoothing, soft
targets, saturated probabilities, zero targets, and the bad arguments.  Values and
gradients on ordinary inputs are compared with PyTorch in tests/ops.py."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import Value
from minigrad.nn import functional as F

Z = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0]])


def test_float_one_hot_targets_are_probabilities_and_equal_class_indices():
    hard = F.cross_entropy(Z, [2, 0]).data
    soft = F.cross_entropy(Z, np.eye(3)[[2, 0]]).data
    assert soft == pytest.approx(hard)


def test_ignored_examples_add_nothing_and_all_ignored_is_nan():
    both = F.cross_entropy(Z, [2, -100]).data
    assert both == pytest.approx(F.cross_entropy(Z[:1], [2]).data)
    z = Value(Z)
    loss = F.cross_entropy(z, [-1, -1], ignore_index=-1, reduction="none")
    np.testing.assert_array_equal(loss.data, [0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad, np.zeros((2, 3)))
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(Z, [-1, -1], ignore_index=-1, weight=[1, 1, 1]).data)


def test_weighted_mean_divides_by_the_weights_of_the_targets():
    w = np.array([1.0, 2.0, 3.0])
    per = F.cross_entropy(Z, [2, 0], reduction="none").data
    expected = (3.0 * per[0] + 1.0 * per[1]) / 4.0
    assert F.cross_entropy(Z, [2, 0], weight=w).data == pytest.approx(expected)


def test_label_smoothing_of_one_is_the_uniform_target():
    uniform = -np.mean(np.log(np.exp(Z) / np.exp(Z).sum(1, keepdims=True)), axis=1).mean()
    assert F.cross_entropy(Z, [2, 0], label_smoothing=1.0).data == pytest.approx(uniform)


def test_float32_stays_float32_through_every_option():
    z = Value(Z.astype(np.float32))
    for loss in (
        F.cross_entropy(z, [2, -100], weight=[1, 2, 3], label_smoothing=0.1),
        F.cross_entropy(z, np.eye(3)[[2, 0]], label_smoothing=0.1),
        F.binary_cross_entropy(z.sigmoid(), np.ones((2, 3))),
        F.binary_cross_entropy_with_logits(z, np.ones((2, 3)), pos_weight=[1, 2, 3]),
        F.huber_loss(z, np.zeros((2, 3))),
        F.kl_div(F.log_softmax(z), F.softmax(z)),
        F.cosine_similarity(z, z),
    ):
        assert loss.dtype == np.float32


def test_binary_cross_entropy_saturated_probabilities_are_clamped_at_100():
    p = Value(np.array([0.0, 1.0]))
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0])
    loss.sum().backward()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])  # the clamped side has no slope


def test_kl_div_zero_targets_contribute_zero():
    log_q = F.log_softmax(Value(Z))
    target = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    loss = F.kl_div(log_q, target, reduction="sum")
    kept = target > 0
    expected = np.sum(target[kept] * (np.log(target[kept]) - log_q.data[kept]))
    assert loss.data == pytest.approx(expected)


def test_smooth_l1_with_beta_zero_is_l1():
    a, b = Value(Z), np.zeros((2, 3))
    assert F.smooth_l1_loss(a, b, beta=0).data == pytest.approx(F.l1_loss(a, b).data)


def test_cosine_similarity_of_a_zero_vector_is_zero_not_nan():
    out = F.cosine_similarity(Value(np.zeros((1, 3))), Value(np.ones((1, 3))))
    np.testing.assert_array_equal(out.data, [0.0])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.cross_entropy(Z, [2, 0], weight=[1, 2]),
            ValueError,
            r"one entry per class, shape \(3,\)",
        ),
        (
            lambda: F.cross_entropy(Z, [2, 0], weight=[1, -2, 1]),
            ValueError,
            r"finite and >= 0, got \[-2",
        ),
        (
            lambda: F.cross_entropy(Z, [2, 0], label_smoothing=1.5),
            ValueError,
            r"label_smoothing must be in \[0, 1\]",
        ),
        (
            lambda: F.cross_entropy(Z, [2, 0], ignore_index=0.5),
            TypeError,
            "ignore_index must be an integer",
        ),
        (
            lambda: F.cross_entropy(Z, [3, -100]),
            ValueError,
            r"targets \[3\] are out of range for 3 classes",
        ),
        (
            lambda: F.cross_entropy(Z, np.full((2, 3), np.nan)),
            ValueError,
            "probability targets must be finite",
        ),
        (
            lambda: F.binary_cross_entropy(np.array([1.5]), [1.0]),
            ValueError,
            r"input \(probabilities\) must lie in \[0, 1\]",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(Z, np.ones((2, 3)), pos_weight=[1, 2]),
            ValueError,
            r"pos_weight of shape \(2,\) does not broadcast",
        ),
        (
            lambda: F.huber_loss(Z, Z, delta=0),
            ValueError,
            "huber_loss: delta must be a positive number, got 0",
        ),
        (
            lambda: F.smooth_l1_loss(Z, Z, beta=-1),
            ValueError,
            "smooth_l1_loss: beta must be a positive number",
        ),
        (
            lambda: F.kl_div(Z, Z, reduction="avg"),
            ValueError,
            "'mean', 'batchmean', 'sum' or 'none'",
        ),
        (lambda: F.kl_div(Z, -np.abs(Z)), ValueError, "targets are probabilities and must be >= 0"),
        (
            lambda: F.cosine_similarity(Z, np.ones((3, 3))),
            ValueError,
            r"shapes \(2, 3\) and \(3, 3\) do not broadcast",
        ),
        (lambda: F.cosine_similarity(Z, Z, eps=0), ValueError, "eps must be a positive number"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------ loss modules


def test_loss_modules_call_their_function_with_their_settings():
    from minigrad import nn

    t = np.array([2, 0])
    pairs = [
        (nn.CrossEntropyLoss(label_smoothing=0.1), F.cross_entropy(Z, t, label_smoothing=0.1), t),
        (nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0]), F.cross_entropy(Z, t, weight=[1, 2, 3]), t),
        (nn.MSELoss(), F.mse_loss(Z, Z * 0), Z * 0),
        (nn.L1Loss(reduction="sum"), F.l1_loss(Z, Z * 0, "sum"), Z * 0),
        (nn.HuberLoss(delta=0.5), F.huber_loss(Z, Z * 0, delta=0.5), Z * 0),
        (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss(Z, Z * 0, beta=0.5), Z * 0),
        (
            nn.BCEWithLogitsLoss(pos_weight=[1, 2, 3]),
            F.binary_cross_entropy_with_logits(Z, Z * 0, pos_weight=[1, 2, 3]),
            Z * 0,
        ),
    ]
    for module, expected, target in pairs:
        assert module(Z, target).data == pytest.approx(expected.data), repr(module)
    p = 1 / (1 + np.exp(-Z))
    assert nn.BCELoss()(p, Z * 0).data == pytest.approx(F.binary_cross_entropy(p, Z * 0).data)
    log_p = F.log_softmax(Value(Z))
    assert nn.KLDivLoss(reduction="batchmean")(log_p, p / p.sum(1, keepdims=True)).data >= 0
    np.testing.assert_allclose(nn.CosineSimilarity()(Z, Z).data, [1.0, 1.0])
    assert repr(nn.HuberLoss(delta=0.5)) == "HuberLoss(reduction='mean', delta=0.5)"


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: __import__("minigrad").nn.CrossEntropyLoss(label_smoothing=2),
            "label_smoothing must be in",
        ),
        (lambda: __import__("minigrad").nn.MSELoss(reduction="avg"), "reduction must be one of"),
        (lambda: __import__("minigrad").nn.HuberLoss(delta=-1), "delta must be a positive number"),
    ],
)
def test_loss_modules_refuse_bad_settings_when_made(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_an_ignore_index_that_is_a_class_is_ignored():
    # ignore_index=2 names a real class: its examples must still count for nothing
    assert F.cross_entropy(Z, [2, 0], ignore_index=2).data == pytest.approx(
        F.cross_entropy(Z[1:], [0]).data
    )
