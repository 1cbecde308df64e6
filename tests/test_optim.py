"""optim: updates computed by hand, step-by-step equality with torch.optim (SGD with
momentum/nesterov/weight decay, Adam, AdamW), gradient clipping, schedules, validation,
state round trips, and the rule that gradients are never modified in place."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Value, nn, optim
from minigrad.nn import functional as F


def _square_step(opt_cls, steps, w0=1.0, **kwargs):
    """Minimise f(w) = w² (gradient 2w) from w0; the trajectory of w."""
    w = Value(w0)
    opt = opt_cls([w], **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        (w * w).backward()
        opt.step()
        path.append(w.data)
    return path


# ============================================================================ by hand


def test_sgd_by_hand():
    assert np.allclose(_square_step(optim.SGD, 2, lr=0.1), [0.8, 0.64])


def test_sgd_momentum_by_hand():
    # v1 = 2, w1 = 1 - 0.1·2 = 0.8;  g2 = 1.6, v2 = 0.9·2 + 1.6 = 3.4, w2 = 0.8 - 0.34
    assert np.allclose(_square_step(optim.SGD, 2, lr=0.1, momentum=0.9), [0.8, 0.46])


def test_sgd_nesterov_by_hand():
    # v1 = 2, step 2 + 0.9·2 = 3.8 -> w1 = 0.62;  g2 = 1.24, v2 = 1.8 + 1.24 = 3.04,
    # step 1.24 + 0.9·3.04 = 3.976 -> w2 = 0.62 - 0.3976 = 0.2224
    path = _square_step(optim.SGD, 2, lr=0.1, momentum=0.9, nesterov=True)
    assert np.allclose(path, [0.62, 0.2224])


def test_sgd_weight_decay_and_dampening_by_hand():
    # g = 2·1 + 0.5·1 = 2.5 -> w = 1 - 0.25
    assert np.allclose(_square_step(optim.SGD, 1, lr=0.1, weight_decay=0.5), [0.75])
    # v1 = 2 (first step undamped), w1 = 0.8; v2 = 0.5·2 + 0.5·1.6 = 1.8, w2 = 0.62
    path = _square_step(optim.SGD, 2, lr=0.1, momentum=0.5, dampening=0.5)
    assert np.allclose(path, [0.8, 0.62])


def test_adam_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    w, m, v, expected = 1.0, 0.0, 0.0, []
    for t in (1, 2, 3):
        g = 2 * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        expected.append(w)
    assert np.allclose(_square_step(optim.Adam, 3, lr=lr), expected, rtol=1e-12)
    # The first Adam step has length lr whatever the gradient's scale.
    assert math.isclose(_square_step(optim.Adam, 1, w0=1000.0, lr=0.1)[0], 999.9, rel_tol=1e-9)


def test_adamw_decays_the_weights_directly():
    lr, wd = 0.1, 0.5
    w = 1.0 * (1 - lr * wd)  # decay first, then the Adam step on g = 2·1
    w -= lr * 2.0 / (2.0 + 1e-8)
    assert math.isclose(_square_step(optim.AdamW, 1, lr=lr, weight_decay=wd)[0], w)
    # Adam's weight_decay is L2 in the gradient instead: g = 2 + 0.5, step ≈ lr
    assert math.isclose(_square_step(optim.Adam, 1, lr=lr, weight_decay=wd)[0], 0.9, rel_tol=1e-7)


# ============================================================================ torch


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(12, 3)), rng.integers(0, 3, size=12)


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.03, betas=(0.85, 0.95), weight_decay=0.2)),
]


def steps_match_torch(name: str, kwargs: dict, steps: int) -> None:
    """``steps`` steps of ``optim.<name>(**kwargs)`` training a small MLP leave every
    parameter where ``torch.optim.<name>`` leaves it (skipped without torch); test_optim_more
    uses it too."""
    torch = pytest.importorskip("torch")
    x, t = _problem()
    model = nn.MLP(3, [5, 3], activation="tanh", seed=1)
    ours = getattr(optim, name)(model.parameters(), **kwargs)
    tparams = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    theirs = getattr(torch.optim, name)(tparams, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated loss: same descent

    def torch_loss():
        h = torch.tanh(torch.tensor(x) @ tparams[0] + tparams[1])
        return torch.nn.functional.cross_entropy(h @ tparams[2] + tparams[3], torch.tensor(t))

    for _ in range(steps):
        ours.zero_grad()
        (F.cross_entropy(model(x), t) * sign).backward()
        ours.step()
        theirs.zero_grad()
        (torch_loss() * sign).backward()
        theirs.step()
        for p, tp in zip(model.parameters(), tparams):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_matches_torch_step_by_step(name, kwargs):
    steps_match_torch(name, kwargs, steps=10)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(3, 4)) * 5, rng.normal(size=4)]
    params = [Value(np.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for tp, g in zip(tparams, grads):
        tp.grad = torch.tensor(g)
    total = optim.clip_grad_norm(params, 1.5)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.5)
    assert math.isclose(total, float(ttotal), rel_tol=1e-12)
    for p, tp in zip(params, tparams):
        assert np.allclose(p.grad, tp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda o: optim.StepLR(o, step_size=3, gamma=0.5), "StepLR(o, step_size=3, gamma=0.5)"),
        (lambda o: optim.ExponentialLR(o, gamma=0.9), "ExponentialLR(o, gamma=0.9)"),
        (
            lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
            "CosineAnnealingLR(o, T_max=10, eta_min=0.01)",
        ),
    ],
)
def test_schedules_match_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([Value(1.0)], lr=0.1)
    o = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    schedule = ours(opt)
    tschedule = eval("torch.optim.lr_scheduler." + theirs, {"torch": torch, "o": o})
    for _ in range(15):
        assert np.allclose(schedule.get_last_lr(), tschedule.get_last_lr(), rtol=1e-12)
        assert opt.lr == schedule.get_last_lr()[0]
        o.step()
        schedule.step()
        tschedule.step()


# ============================================================================ schedules by hand


def test_schedules_closed_forms():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    step = optim.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        lrs.append(step.get_last_lr()[0])
        step.step()
    assert np.allclose(lrs, [1, 1, 0.1, 0.1, 0.01])

    opt = optim.SGD([Value(1.0)], lr=2.0)
    cosine = optim.CosineAnnealingLR(opt, T_max=4)
    lrs = [cosine.get_last_lr()[0]]
    for _ in range(4):
        cosine.step()
        lrs.append(opt.lr)
    assert np.allclose(lrs, [2, 1 + math.sqrt(0.5), 1, 1 - math.sqrt(0.5), 0], atol=1e-12)

    opt = optim.SGD([Value(1.0)], lr=1.0)
    lam = optim.LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    lam.step()
    lam.step()
    assert math.isclose(opt.lr, 1 / 3)
    assert "LambdaLR(epoch=2" in repr(lam)

    # A schedule's state resumes it on a new optimizer.
    opt2 = optim.SGD([Value(1.0)], lr=5.0)
    resumed = optim.StepLR(opt2, step_size=2, gamma=0.1)
    resumed.load_state_dict(step.state_dict())
    assert resumed.last_epoch == 5 and math.isclose(opt2.lr, 0.01)


def test_schedule_validation():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma must be a positive finite number"):
        optim.ExponentialLR(opt, gamma=-1)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        optim.CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(TypeError, match="needs a minigrad optimizer"):
        optim.StepLR(object(), step_size=1)


# ============================================================================ conventions


def test_gradients_are_never_modified_in_place():
    for opt_cls, kwargs in [
        (optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
        (optim.Adam, dict(lr=0.1, weight_decay=0.1)),
        (optim.AdamW, dict(lr=0.1)),
    ]:
        p = Value(np.array([1.0, -2.0, 3.0]))
        shared = np.array([0.5, 0.5, -1.0])  # e.g. an array the engine shares between nodes
        opt = opt_cls([p], **kwargs)
        for _ in range(3):
            p.grad = shared
            opt.step()
        assert np.array_equal(shared, [0.5, 0.5, -1.0]), opt_cls.__name__
    q = Value(np.array([3.0, 4.0]))
    original = np.array([3.0, 4.0])
    q.grad = original
    optim.clip_grad_norm([q], 1.0)
    assert np.array_equal(original, [3.0, 4.0]) and q.grad is not original
    optim.clip_grad_value([q], 0.1)
    assert np.array_equal(original, [3.0, 4.0])


def test_step_updates_data_in_place_and_skips_parameters_without_grad():
    used, unused = Value(np.ones(3)), Value(np.ones(2))
    array = used.data
    opt = optim.Adam([used, unused], lr=0.1)
    (used * used).sum().backward()
    opt.step()
    assert used.data is array and not np.allclose(array, 1.0)
    assert np.array_equal(unused.data, np.ones(2)) and unused.grad is None
    assert id(unused) not in opt.state or not opt.state[id(unused)]


def test_step_records_no_graph_and_keeps_float32():
    model = nn.MLP(2, [3, 1], dtype=np.float32, seed=0)
    opt = optim.Adam(model, lr=0.01)  # a Module is accepted directly
    F.mse_loss(model(np.ones((4, 2))), np.zeros((4, 1))).backward()
    opt.step()
    for p in model.parameters():
        assert p.dtype == np.float32 and p.is_leaf and p.parents == ()


def test_zero_grad_and_lr_attribute_and_param_groups():
    a, b = Value(np.ones(2)), Value(np.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5] and opt.lr == 0.1
    (a.sum() + b.sum()).backward()
    opt.step()
    assert np.allclose(a.data, 0.9) and np.allclose(b.data, 0.5)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.lr = 0.2
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
    with pytest.raises(ValueError, match=r"lr .* must be a finite number >= 0, got -1.0"):
        opt.lr = -1
    opt.lr = 0  # allowed, as in PyTorch: the start of a warmup, a frozen group
    assert opt.lr == 0.0
    opt.lr = 0.2
    assert "SGD(lr=0.2" in repr(opt)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD(p, lr=-1), r"lr \(learning rate\) must be a finite number >= 0"),
        (lambda p: optim.SGD(p, lr=-0.1), "got -0.1"),
        (lambda p: optim.SGD(p, lr=float("nan")), "got nan"),
        (lambda p: optim.Adam(p, lr=float("inf")), "got inf"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum"),
        (
            lambda p: optim.SGD(p, lr=0.1, weight_decay=-1),
            "weight_decay must be a non-negative finite number, got -1.0",
        ),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), r"betas\[0\] must be in \[0.0, 1.0\)"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: optim.Adam(p, eps=-1e-8), "eps must be a non-negative"),
        (lambda p: optim.SGD([{"params": p, "momentun": 0.9}], lr=0.1), "unknown options"),
    ],
)
def test_hyperparameter_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)])


def test_parameter_validation():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    w = Value(1.0)
    with pytest.raises(ValueError, match="requires_grad=False"):
        optim.SGD([Value(1.0, requires_grad=False)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Values"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a real number"):
        optim.SGD([w], lr="0.1")


def test_clip_grad_norm_by_hand():
    a, b = Value(np.zeros(2)), Value(0.0)
    a.grad, b.grad = np.array([3.0, 0.0]), 4.0
    assert optim.grad_norm([a, b]) == 5.0
    assert optim.clip_grad_norm([a, b], 10.0) == 5.0  # below the limit: unchanged
    assert np.array_equal(a.grad, [3.0, 0.0])
    assert optim.clip_grad_norm([a, b], 1.0) == 5.0
    assert math.isclose(optim.grad_norm([a, b]), 1.0, rel_tol=1e-5)
    assert np.allclose(a.grad, [0.6, 0.0], rtol=1e-5) and math.isclose(b.grad, 0.8, rel_tol=1e-5)
    assert type(b.grad) is float  # a scalar parameter keeps a float gradient
    assert optim.grad_norm([a, b], norm_type=float("inf")) == pytest.approx(0.8, rel=1e-5)
    assert optim.grad_norm([Value(1.0)]) == 0.0  # no gradients at all


def test_clip_grad_norm_nonfinite():
    a = Value(np.zeros(2))
    a.grad = np.array([np.inf, 1.0])
    assert optim.clip_grad_norm([a], 1.0) == math.inf
    assert a.grad[1] == 1.0  # left alone
    with pytest.raises(RuntimeError, match="total gradient norm is inf"):
        optim.clip_grad_norm([a], 1.0, error_if_nonfinite=True)


# ============================================================================ state


def test_optimizer_state_dict_resumes_exactly():
    x, t = _problem(1)

    def run(steps, model, opt):
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), t).backward()
            opt.step()

    straight = nn.MLP(3, [4, 3], seed=2)
    run(6, straight, optim.Adam(straight, lr=0.05))

    first = nn.MLP(3, [4, 3], seed=2)
    opt = optim.Adam(first, lr=0.05)
    run(3, first, opt)
    saved_model, saved_opt = first.state_dict(), opt.state_dict()
    resumed = nn.MLP(3, [4, 3], seed=9).load_state_dict(saved_model)
    opt2 = optim.Adam(resumed, lr=0.05)
    opt2.load_state_dict(saved_opt)
    run(3, resumed, opt2)
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert np.allclose(p.data, q.data, rtol=1e-13)


def test_optimizer_load_state_dict_refuses_mismatch():
    opt = optim.SGD([Value(np.ones(2))], lr=0.1, momentum=0.9)
    other = optim.SGD([Value(np.ones(2)), Value(1.0)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="has 2 parameters in the state but 1 here"):
        opt.load_state_dict(other.state_dict())
    bad = {
        "state": {0: {"momentum_buffer": np.zeros(3)}},
        "param_groups": opt.state_dict()["param_groups"],
    }
    with pytest.raises(ValueError, match=r"has shape \(3,\), the parameter has shape \(2,\)"):
        opt.load_state_dict(bad)


def test_scalar_parameters_train_like_micrograd():
    # Fit y = 2x + 1 with two scalar Values and plain SGD.
    w, b = Value(0.0), Value(0.0)
    opt = optim.SGD([w, b], lr=0.1)
    xs = np.linspace(-1, 1, 9)
    for _ in range(300):
        opt.zero_grad()
        F.mse_loss(w * xs + b, 2 * xs + 1).backward()
        opt.step()
    assert type(w.data) is float
    assert math.isclose(w.data, 2.0, rel_tol=1e-6) and math.isclose(b.data, 1.0, rel_tol=1e-6)
