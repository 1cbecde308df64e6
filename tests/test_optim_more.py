"""The optimizers and schedules users reach for after SGD and Adam (issue 19), each
checked step for step against the PyTorch class of the same name (skipped when torch is
not installed), and by hand where a formula is short."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Value, nn, optim
from minigrad.train import fit
from tests.test_optim import steps_match_torch

CONFIGS = [
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8)),
    ("RMSprop", dict(lr=0.005, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, eps=1e-6, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.3)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.02, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True)),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=str)
def test_matches_torch_step_by_step(name, kwargs):
    steps_match_torch(name, kwargs, steps=25)


def test_rmsprop_and_adagrad_by_hand():
    w = Value(np.array([1.0, -2.0]))
    opt = optim.RMSprop([w], lr=0.1, alpha=0.5)
    (w * w).sum().backward()  # g = 2w = (2, -4)
    opt.step()
    v = 0.5 * np.array([4.0, 16.0])
    np.testing.assert_allclose(w.data, [1.0, -2.0] - 0.1 * np.array([2.0, -4.0]) / (
        np.sqrt(v) + 1e-8))  # fmt: skip
    w = Value(np.array([3.0]))
    opt = optim.Adagrad([w], lr=1.0, eps=0.0)
    for expected in (2.0, 2.0 - 4.0 / math.sqrt(36 + 16)):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        np.testing.assert_allclose(w.data, [expected])


def test_maximize_climbs():
    w = Value(0.0)
    opt = optim.SGD([w], lr=0.1, maximize=True)
    for _ in range(200):
        opt.zero_grad()
        (-((w - 3.0) ** 2)).backward()  # maximum at w = 3
        opt.step()
    assert abs(w.data - 3.0) < 1e-9


def test_new_optimizers_validate_and_keep_float32(tmp_path):
    with pytest.raises(ValueError, match=r"alpha must be in \[0.0, 1.0\]"):
        optim.RMSprop([Value(1.0)], alpha=1.5)
    with pytest.raises(ValueError, match="lr_decay must be a non-negative"):
        optim.Adagrad([Value(1.0)], lr_decay=-1)
    with pytest.raises(TypeError, match="maximize must be True or False"):
        optim.Adam([Value(1.0)], maximize="yes")
    w = Value(np.ones(3, dtype=np.float32))
    for opt in (optim.RMSprop([w], momentum=0.9, centered=True), optim.Adagrad([w]),
                optim.Adam([w], amsgrad=True)):  # fmt: skip
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        assert w.dtype == np.float32 and all(
            v.dtype == np.float32 for s in opt.state.values() for v in s.values()
            if isinstance(v, np.ndarray)
        )  # fmt: skip
        # ... and their state goes through the safe checkpoint format.
        nn.save(opt.state_dict(), tmp_path / "o.npz")
        again = type(opt)([Value(np.ones(3, dtype=np.float32))])
        again.load_state_dict(nn.load(tmp_path / "o.npz"))
        assert again.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


# ============================================================================ schedules

SCHEDULES = [
    (lambda o: optim.MultiStepLR(o, milestones=[3, 7, 7], gamma=0.5),
     "MultiStepLR(o, milestones=[3, 7, 7], gamma=0.5)"),
    (lambda o: optim.LinearLR(o), "LinearLR(o)"),
    (lambda o: optim.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=8),
     "LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=8)"),
    (lambda o: optim.CosineAnnealingWarmRestarts(o, T_0=4),
     "CosineAnnealingWarmRestarts(o, T_0=4)"),
    (lambda o: optim.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
     "CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01)"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.5, total_steps=30),
     "OneCycleLR(o, max_lr=0.5, total_steps=30)"),
    (lambda o: optim.OneCycleLR(o, max_lr=0.5, epochs=6, steps_per_epoch=5, pct_start=0.25,
                                anneal_strategy="linear", three_phase=True),
     "OneCycleLR(o, max_lr=0.5, epochs=6, steps_per_epoch=5, pct_start=0.25, "
     "anneal_strategy='linear', three_phase=True)"),
]  # fmt: skip


@pytest.mark.parametrize("ours, theirs", SCHEDULES, ids=[t for _, t in SCHEDULES])
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_schedules_match_torch(ours, theirs, kind):
    torch = pytest.importorskip("torch")
    extra = {"momentum": 0.9} if kind == "SGD" else {}
    opt = getattr(optim, kind)([Value(1.0)], lr=0.1, **extra)
    o = getattr(torch.optim, kind)([torch.zeros(1, requires_grad=True)], lr=0.1, **extra)
    schedule = ours(opt)
    tschedule = eval("torch.optim.lr_scheduler." + theirs, {"torch": torch, "o": o})
    steps = 29 if "OneCycle" in theirs else 25
    for _ in range(steps):
        np.testing.assert_allclose(schedule.get_last_lr(), tschedule.get_last_lr(), rtol=1e-12)
        ours_m = opt.param_groups[0].get("momentum", opt.param_groups[0].get("betas", [0])[0])
        theirs_m = o.param_groups[0].get("momentum", o.param_groups[0].get("betas", [0])[0])
        assert math.isclose(ours_m, theirs_m, rel_tol=1e-12)
        o.step()
        schedule.step()
        tschedule.step()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs"),
        dict(factor=0.5, patience=0, cooldown=2, min_lr=0.02),
    ],
    ids=str,
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([Value(1.0)], lr=0.1)
    o = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ours = optim.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs)
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 5), 0.5 + 0.01 * rng.normal(size=40)])
    for metric in metrics:
        ours.step(metric)
        theirs.step(metric)
        assert opt.lr == pytest.approx(o.param_groups[0]["lr"], rel=1e-12)
        assert ours.num_bad_epochs == theirs.num_bad_epochs
    assert opt.lr < 0.1  # the plateau was found


def test_fit_steps_plateau_with_the_metric_and_one_cycle_per_batch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -1.0])
    model = nn.MLP(2, [1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.0)
    plateau = optim.ReduceLROnPlateau(opt, patience=1)
    # lr 0: the loss never improves after epoch 1, so the rate is cut... from 0 to 0.
    h = fit(model, X, y, optimizer=opt, scheduler=plateau, epochs=4, verbose=False)
    assert plateau.last_epoch == 4 and plateau.best == h.loss[0]
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cycle = optim.OneCycleLR(opt, max_lr=0.1, epochs=3, steps_per_epoch=4)
    h = fit(model, X, y, optimizer=opt, scheduler=cycle, epochs=3, batch_size=10, verbose=False)
    assert cycle.last_epoch == 12 and h.lr[0] == pytest.approx(0.1 / 25)


def test_schedule_validation():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    with pytest.raises(ValueError, match="a milestone must be a positive integer"):
        optim.MultiStepLR(opt, [0, 3])
    with pytest.raises(ValueError, match=r"start_factor must be in \(0, 1\]"):
        optim.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="T_0 must be a positive integer"):
        optim.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="needs total_steps"):
        optim.OneCycleLR(opt, max_lr=1.0)
    cycle = optim.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    cycle.step()
    cycle.step()
    with pytest.raises(ValueError, match="past total_steps=2"):
        cycle.step()
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        optim.ReduceLROnPlateau(opt, factor=2)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        optim.ReduceLROnPlateau(opt, mode="up")


@pytest.mark.parametrize(
    "make",
    [
        lambda o: optim.MultiStepLR(o, [2, 5]),
        lambda o: optim.LinearLR(o, total_iters=4),
        lambda o: optim.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
        lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=20),
    ],
)
def test_new_schedules_resume_from_a_checkpoint_file(make, tmp_path):
    opt = optim.SGD([Value(1.0)], lr=0.5, momentum=0.9)
    schedule = make(opt)
    for _ in range(6):
        schedule.step()
    nn.save(schedule.state_dict(), tmp_path / "s.npz")
    opt2 = optim.SGD([Value(1.0)], lr=0.5, momentum=0.9)
    resumed = make(opt2)
    resumed.load_state_dict(nn.load(tmp_path / "s.npz"))
    for _ in range(5):
        assert resumed.get_last_lr() == schedule.get_last_lr()
        assert opt2.param_groups[0]["momentum"] == opt.param_groups[0]["momentum"]
        schedule.step()
        resumed.step()


def test_plateau_state_round_trips(tmp_path):
    opt = optim.SGD([Value(1.0)], lr=1.0)
    plateau = optim.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for metric in (3.0, 2.0, 2.0, 2.0):
        plateau.step(metric)
    nn.save(plateau.state_dict(), tmp_path / "p.npz")
    again = optim.ReduceLROnPlateau(optim.SGD([Value(1.0)], lr=opt.lr), patience=1, cooldown=1)
    again.load_state_dict(nn.load(tmp_path / "p.npz"))
    assert again.state_dict() == plateau.state_dict()
