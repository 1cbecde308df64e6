"""gradcheck_module: every parameter by dotted name, dropout switched off and said so,
modes restored even on errors.

``Tiny*`` classes are stand-ins implementing the Module contract gradcheck_module relies on
(named_parameters, named_modules with the root as '', training, train(mode), eval(), a
dropout class named Dropout); the last tests use minigrad.nn itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad import functions as F


class TinyModule:
    def __init__(self):
        self.training = True

    def children(self):
        return [(k, v) for k, v in vars(self).items() if isinstance(v, TinyModule)]

    def named_modules(self):
        found, stack = [], [("", self)]
        while stack:  # parents before children, no recursion
            name, module = stack.pop(0)
            found.append((name, module))
            stack[0:0] = [(f"{name}.{k}" if name else k, m) for k, m in module.children()]
        return found

    def named_parameters(self):
        return [
            (f"{prefix}.{k}" if prefix else k, v)
            for prefix, module in self.named_modules()
            for k, v in vars(module).items()
            if isinstance(v, Value)
        ]

    def train(self, mode=True):
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)


class TinyLinear(TinyModule):
    def __init__(self, nin, nout, rng, relu_class=F.Relu):
        super().__init__()
        self.W = Value(rng.standard_normal((nin, nout)) * 0.5)
        self.b = Value(rng.standard_normal(nout) * 0.1)
        self.relu_class = relu_class

    def __call__(self, x):
        return self.relu_class.apply(x @ self.W + self.b)


class Dropout(TinyModule):
    def __init__(self, p, rng):
        super().__init__()
        self.p, self.rng = p, rng

    def __call__(self, x):
        if not self.training:
            return x
        mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * mask


class TinyNet(TinyModule):
    def __init__(self, seed=0, relu_class=F.Relu):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.encoder = TinyLinear(3, 5, rng, relu_class)
        self.drop = Dropout(0.5, rng)
        self.head = TinyLinear(5, 2, rng)

    def __call__(self, x):
        return self.head(self.drop(self.encoder(x)))


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.9, 0.1], [0.3, 0.3, -1.2]])
TARGET = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 1.0]])


def mse(model, x, target):
    return ((model(Value(x, requires_grad=False)) - target) ** 2).mean()


def test_every_parameter_by_dotted_name_with_dropout_switched_off():
    net = TinyNet()
    keep = {name: p.data for name, p in net.named_parameters()}
    report = mg.gradcheck_module(net, mse, X, TARGET)
    assert report.passed
    assert [r.name for r in report.inputs] == ["encoder.W", "encoder.b", "head.W", "head.b"]
    assert report.dropout_layers == ["drop"]
    assert report.switched_to_eval == ["(root)", "encoder", "drop", "head"]
    assert any("dropout layers 'drop' switched to eval mode" in n for n in report.notes)
    assert "note: dropout layers 'drop' switched to eval mode" in str(report)
    assert all(m.training for _, m in net.named_modules())  # restored
    for name, p in net.named_parameters():
        assert p.data is keep[name] and p.grad is None
    # without the switch, dropout draws a new mask at every evaluation: the check is useless
    params = [p for _, p in net.named_parameters()]
    plain = mg.gradcheck(lambda *_: mse(net, X, TARGET), *params, raise_exception=False)
    assert not plain.passed


def test_each_module_gets_its_own_mode_back():
    net = TinyNet()
    net.drop.training = False
    mg.gradcheck_module(net, mse, X, TARGET)
    assert net.training and net.encoder.training and net.head.training
    assert net.drop.training is False
    net.eval()
    report = mg.gradcheck_module(net, mse, X, TARGET)
    assert report.switched_to_eval == []
    assert any("already in eval mode" in n for n in report.notes)
    assert not any(m.training for _, m in net.named_modules())


def test_modes_and_data_restored_when_the_loss_raises():
    net = TinyNet()
    keep = {name: p.data for name, p in net.named_parameters()}
    calls = {"n": 0}

    def loss(model, x, target):
        calls["n"] += 1
        assert not model.training and not model.drop.training  # eval during the check
        if calls["n"] == 4:
            raise KeyError("broken batch")
        return mse(model, x, target)

    with pytest.raises(KeyError, match="broken batch"):
        mg.gradcheck_module(net, loss, X, TARGET)
    assert all(m.training for _, m in net.named_modules())
    for name, p in net.named_parameters():
        assert p.data is keep[name]


def test_a_wrong_backward_inside_the_model_is_named_and_localized():
    class WrongRelu(F.Relu):
        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return -grad * (out > 0)

    net = TinyNet(relu_class=WrongRelu)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck_module(net, mse, X, TARGET, localize=True)
    report = info.value.report
    assert {r.name for r in report.inputs if not r.passed} == {"encoder.W", "encoder.b"}
    assert "encoder.W" in str(info.value)
    assert report.localization.culprit.op == "WrongRelu"
    assert all(m.training for _, m in net.named_modules())


def test_fast_mode_and_frozen_parameters():
    net = TinyNet()
    net.head.b.requires_grad = False
    report = mg.gradcheck_module(net, mse, X, TARGET, fast=True)
    assert report.passed and report.mode == "fast"
    assert [r.name for r in report.inputs] == ["encoder.W", "encoder.b", "head.W"]
    assert any("skipped parameters with requires_grad=False: 'head.b'" in n for n in report.notes)


def test_bad_models_and_losses():
    net = TinyNet()
    with pytest.raises(
        TypeError, match="model must be a minigrad.nn.Module .* object has no named_parameters"
    ):
        mg.gradcheck_module(object(), mse, X, TARGET)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        mg.gradcheck_module(net, "mse", X, TARGET)
    with pytest.raises(
        TypeError, match=r"loss_fn\(model, \*batch\) must return a Value, got float"
    ):
        mg.gradcheck_module(net, lambda m, x, t: float(mse(m, x, t).data), X, TARGET)
    assert all(m.training for _, m in net.named_modules())
    for _, p in net.named_parameters():
        p.requires_grad = False
    with pytest.raises(ValueError, match="no parameters that require grad"):
        mg.gradcheck_module(net, mse, X, TARGET)
    with pytest.raises(ValueError, match="eps must be > 0"):
        mg.gradcheck_module(TinyNet(), mse, X, TARGET, eps=0)


# ============================================================================ minigrad.nn


def test_nn_mlp_with_dropout():
    nn = pytest.importorskip("minigrad.nn")
    from minigrad.nn.functional import cross_entropy

    model = nn.MLP(3, [6, 4, 3], dropout=0.5, seed=0)
    labels = np.array([0, 2, 1, 2])

    def loss(model, x, y):
        return cross_entropy(model(Value(x, requires_grad=False)), y)

    report = mg.gradcheck_module(model, loss, X, labels)
    assert report.passed
    names = [name for name, _ in model.named_parameters()]
    assert [r.name for r in report.inputs] == names
    assert names[0] == "layers.0.W"
    assert sorted(report.dropout_layers) == ["dropouts.0", "dropouts.1"]
    assert all(m.training for _, m in model.named_modules())
    assert mg.gradcheck_module(model, loss, X, labels, fast=True).passed
