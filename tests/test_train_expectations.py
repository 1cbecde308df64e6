"""fit, the optimizers and checkpoints as PyTorch and Keras users expect them (issue 19):
one clipping formula, a learning rate of 0, the model's dtype, the direction of early
stopping, optimizer state in the safe checkpoint format, resuming, and callbacks that stop.
Each test here failed on the code before the change it checks."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import Value, nn, optim
from minigrad.train import Callback, StopTraining, evaluate, fit, predict


def regression_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + 0.1 * rng.normal(size=n)
    return X, y


def weights(model):
    return [np.array(p.data, copy=True) for p in model.parameters()]


def assert_same_weights(a, b):
    for x, y in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(x, y)


# ============================================================================ 2. lr = 0


def test_linear_warmup_from_zero_trains_and_records_the_rates():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    warmup = optim.LambdaLR(opt, lambda e: min(1.0, e / 5))  # the usual warmup idiom
    h = fit(model, X, y, optimizer=opt, scheduler=warmup, epochs=8, verbose=False)
    assert h.stop_reason == "finished"
    np.testing.assert_allclose(h.lr, [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1])


def test_lr_zero_is_allowed_and_changes_nothing_negative_stays_an_error():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    before = weights(model)
    fit(model, X, y, lr=0, epochs=2, verbose=False)
    for a, b in zip(before, weights(model)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        fit(model, X, y, lr=-0.1, verbose=False)
    opt = optim.Adam(model.parameters(), lr=0.0)
    assert opt.lr == 0.0
    with pytest.raises(ValueError, match=r"lr_lambda\(0\) = -1.0"):
        optim.LambdaLR(opt, lambda e: -1.0)
    with pytest.raises(ValueError, match=r"lr_lambda\(0\) = nan"):
        optim.LambdaLR(opt, lambda e: float("nan"))


def test_an_error_mid_run_carries_the_history():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)

    def breaks_at_epoch_3(history, m):
        if history.epochs[-1] == 3:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full") as caught:
        fit(model, X, y, lr=0.01, epochs=10, callbacks=[breaks_at_epoch_3], verbose=False)
    history = caught.value.history
    assert history.epochs == [1, 2, 3] and len(history.loss) == 3
    assert history.stop_reason == "error" and "disk full" in history.message
    assert any(".history" in note for note in caught.value.__notes__)


# ============================================================================ 3. dtype


def test_float32_model_runs_in_float32():
    X, y = regression_data()
    model = nn.MLP(3, [8, 1], seed=0, dtype=np.float32)
    seen = []
    original = model.forward

    def spy(x):
        out = original(x)
        seen.append(out.dtype)
        return out

    model.forward = spy
    fit(model, X, y, lr=0.01, epochs=2, validation_split=0.25, verbose=False)
    assert set(seen) == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert predict(model, X).dtype == np.float32
    seen.clear()
    evaluate(model, X, y)
    assert set(seen) == {np.dtype(np.float32)}


# ============================================================================ 4. direction


def f1_like(prediction, target):
    """A score that improves every epoch in these tests: 1 / (1 + mse)."""
    return 1.0 / (1.0 + float(np.mean((prediction.reshape(-1) - target.reshape(-1)) ** 2)))


def test_auto_mode_refuses_a_metric_it_cannot_read():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match="mode='auto' cannot tell whether 'f1_like'"):
        fit(model, X, y, lr=0.01, metrics=[f1_like], monitor="f1_like", patience=2,
            verbose=False)  # fmt: skip


def test_mode_max_follows_a_score_that_improves_every_epoch():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    h = fit(model, X, y, lr=0.01, epochs=10, metrics=[f1_like], monitor="f1_like", mode="max",
            patience=2, verbose=False)  # fmt: skip
    assert all(b > a for a, b in zip(h["f1_like"], h["f1_like"][1:]))  # improves every epoch
    assert h.stop_reason == "finished" and h.best_epoch == 10


def test_direction_attribute_and_builtin_directions():
    X, y = regression_data()
    f1_like.direction = "max"
    try:
        model = nn.MLP(3, [4, 1], seed=0)
        h = fit(model, X, y, lr=0.01, epochs=6, metrics=[f1_like], monitor="f1_like",
                patience=2, verbose=False)  # fmt: skip
        assert h.stop_reason == "finished" and h.best_epoch == 6
    finally:
        del f1_like.direction
    model = nn.MLP(3, [4, 1], seed=0)
    h = fit(model, X, y, lr=0.01, epochs=6, metrics=["mae"], monitor="mae", patience=2,
            verbose=False)  # fmt: skip
    assert h.best_value == min(h["mae"])
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        fit(model, X, y, lr=0.01, mode="up", verbose=False)


def test_baseline_stops_a_run_that_never_beats_it():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    # The loss improves every epoch but never gets below 1e-9: patience 3 stops at epoch 3.
    h = fit(model, X, y, lr=0.001, epochs=20, monitor="loss", patience=3, baseline=1e-9,
            verbose=False)  # fmt: skip
    assert h.stop_reason == "early-stopped" and h.epochs_run == 3
    assert h.best_epoch == 3  # the best is still tracked
    model = nn.MLP(3, [4, 1], seed=0)
    h = fit(model, X, y, lr=0.001, epochs=5, monitor="loss", patience=3, baseline=1e9,
            verbose=False)  # fmt: skip
    assert h.stop_reason == "finished"


def test_start_from_epoch_ignores_the_first_epochs():
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    h = fit(model, X, y, lr=0.001, epochs=6, start_from_epoch=4, verbose=False)
    assert h.best_epoch == 6
    model = nn.MLP(3, [4, 1], seed=0)
    # A loss that only rises: without start_from_epoch the best would be epoch 1.
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.0), epochs=6,
            start_from_epoch=4, verbose=False)  # fmt: skip
    assert h.best_epoch == 5
    with pytest.raises(ValueError, match="start_from_epoch must be an integer >= 0"):
        fit(model, X, y, lr=0.1, start_from_epoch=-1, verbose=False)


# ============================================================================ 5. checkpoints


def trained_adam(seed=0):
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=seed)
    opt = optim.Adam([{"params": model.parameters()[:2]},
                      {"params": model.parameters()[2:], "lr": 0.05}], lr=0.01)  # fmt: skip
    fit(model, X, y, optimizer=opt, epochs=3, verbose=False)
    return model, opt, X, y


def test_optimizer_state_in_the_safe_checkpoint_format(tmp_path):
    model, opt, X, y = trained_adam()
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    nn.save(model, tmp_path / "model.npz")
    fresh = nn.MLP(3, [4, 1], seed=1)
    fresh.load_state_dict(nn.load(tmp_path / "model.npz"))
    fresh_opt = optim.Adam([{"params": fresh.parameters()[:2]},
                            {"params": fresh.parameters()[2:], "lr": 0.5}], lr=0.5)  # fmt: skip
    fresh_opt.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert [g["lr"] for g in fresh_opt.param_groups] == [0.01, 0.05]
    assert fresh_opt.param_groups[0]["betas"] == (0.9, 0.999)
    fit(model, X, y, optimizer=opt, epochs=2, verbose=False)
    fit(fresh, X, y, optimizer=fresh_opt, epochs=2, verbose=False)
    assert_same_weights(model, fresh)


def test_sgd_momentum_of_a_scalar_parameter_round_trips(tmp_path):
    w = Value(2.0)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(2):
        opt.zero_grad()
        (w * w).backward()
        opt.step()
    nn.save(opt.state_dict(), tmp_path / "sgd.npz")
    w2 = Value(float(w.data))
    opt2 = optim.SGD([w2], lr=0.5)
    opt2.load_state_dict(nn.load(tmp_path / "sgd.npz"))
    assert opt2.param_groups[0]["nesterov"] is True
    for a, o in ((w, opt), (w2, opt2)):
        o.zero_grad()
        (a * a).backward()
        o.step()
    assert w.data == w2.data


def test_scheduler_state_round_trips(tmp_path):
    model = nn.MLP(3, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=1.0)
    schedule = optim.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        schedule.step()
    nn.save(schedule.state_dict(), tmp_path / "s.npz")
    opt2 = optim.SGD(model.parameters(), lr=1.0)
    schedule2 = optim.StepLR(opt2, step_size=2, gamma=0.5)
    schedule2.load_state_dict(nn.load(tmp_path / "s.npz"))
    assert schedule2.last_epoch == 5 and opt2.lr == opt.lr == 0.25


def test_a_tampered_optimizer_file_is_refused_and_changes_nothing(tmp_path):
    model, opt, _, _ = trained_adam()
    state = nn.checkpoint.flatten_state(opt.state_dict())
    state["param_groups.0.lr"] = -1.0
    nn.save(state, tmp_path / "bad.npz")
    before = opt.state_dict()
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(nn.load(tmp_path / "bad.npz"))
    assert opt.param_groups[0]["lr"] == before["param_groups"][0]["lr"]


def test_one_call_checkpoint_of_everything(tmp_path):
    model, opt, X, y = trained_adam()
    schedule = optim.ExponentialLR(opt, gamma=0.5)
    schedule.step()
    rng = np.random.default_rng(7)
    rng.random(3)
    path = tmp_path / "run.npz"
    nn.save_checkpoint(path, model, opt, schedule, epoch=3, rng=rng)
    expected_draw = np.random.default_rng(7)
    expected_draw.random(3)

    fresh = nn.MLP(3, [4, 1], seed=5)
    fresh_opt = optim.Adam([{"params": fresh.parameters()[:2]},
                            {"params": fresh.parameters()[2:]}], lr=1.0)  # fmt: skip
    fresh_schedule = optim.ExponentialLR(fresh_opt, gamma=0.5)
    fresh_rng = np.random.default_rng(123)
    epoch = nn.load_checkpoint(path, fresh, fresh_opt, fresh_schedule, rng=fresh_rng)
    assert epoch == 3
    assert_same_weights(model, fresh)
    assert fresh_schedule.last_epoch == 1 and fresh_opt.lr == opt.lr
    assert fresh_rng.random() == expected_draw.random()


def test_load_checkpoint_is_all_or_nothing(tmp_path):
    model, opt, _, _ = trained_adam()
    nn.save_checkpoint(tmp_path / "run.npz", model, opt, epoch=3)
    other = nn.MLP(3, [4, 1], seed=9)
    before = weights(other)
    wrong_opt = optim.Adam(other.parameters()[:1], lr=0.1)  # another parameter list
    with pytest.raises(ValueError):
        nn.load_checkpoint(tmp_path / "run.npz", other, wrong_opt)
    for a, b in zip(before, weights(other)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(nn.CheckpointError, match="holds no scheduler state"):
        nn.load_checkpoint(tmp_path / "run.npz", other, None, optim.StepLR(wrong_opt, 1))


# ============================================================================ 6. resuming


def run(epochs, *, initial_epoch=0, model=None, opt=None, seed=3, **kwargs):
    X, y = regression_data(n=60)
    model = model or nn.MLP(3, [8, 1], seed=0)
    opt = opt or optim.Adam(model.parameters(), lr=0.01)
    h = fit(model, X, y, optimizer=opt, epochs=epochs, initial_epoch=initial_epoch,
            batch_size=16, seed=seed, verbose=False, **kwargs)  # fmt: skip
    return model, opt, h


@pytest.mark.parametrize("seed", [3, "generator"])
def test_a_resumed_run_equals_the_uninterrupted_one(seed):
    make_seed = (lambda: np.random.default_rng(11)) if seed == "generator" else (lambda: 3)
    whole_model, _, whole = run(10, seed=make_seed(), validation_split=0.25)
    shared = make_seed()  # the same Generator object for both halves
    model, opt, first = run(5, seed=shared, validation_split=0.25)
    model, opt, second = run(10, initial_epoch=5, model=model, opt=opt, seed=shared,
                             validation_split=0.25)  # fmt: skip
    assert second.epochs == [6, 7, 8, 9, 10]
    assert first.loss + second.loss == whole.loss
    assert first.val_loss + second.val_loss == whole.val_loss
    assert_same_weights(model, whole_model)


def test_a_generator_seed_is_not_advanced():
    rng = np.random.default_rng(4)
    state = rng.bit_generator.state
    run(2, seed=rng, validation_split=0.25)
    assert rng.bit_generator.state == state


def test_resuming_from_a_checkpoint_equals_the_uninterrupted_run(tmp_path):
    whole_model, _, whole = run(8)
    model, opt, first = run(4)
    schedule_free_path = tmp_path / "ckpt.npz"
    nn.save_checkpoint(schedule_free_path, model, opt, epoch=4)
    fresh = nn.MLP(3, [8, 1], seed=42)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.01)
    epoch = nn.load_checkpoint(schedule_free_path, fresh, fresh_opt)
    _, _, second = run(8, initial_epoch=epoch, model=fresh, opt=fresh_opt)
    assert first.loss + second.loss == whole.loss
    assert_same_weights(fresh, whole_model)


def test_initial_epoch_is_checked():
    with pytest.raises(ValueError, match="epochs is the number of the last epoch"):
        run(5, initial_epoch=5)
    with pytest.raises(TypeError, match="initial_epoch must be an integer"):
        run(5, initial_epoch=1.5)


# ============================================================================ 7. callbacks


def test_a_callback_stops_the_run_and_the_history_is_returned():
    def stop_at_3(history, model):
        if history.epochs[-1] == 3:
            raise StopTraining("good enough")

    _, _, h = run(10, callbacks=[stop_at_3])
    assert h.epochs == [1, 2, 3] and h.stop_reason == "stopped"
    assert h.message == "stopped at epoch 3: good enough"


def test_batch_end_hooks_see_every_step_and_can_stop():
    class Recorder(Callback):
        def __init__(self):
            self.batches, self.epochs = [], []

        def on_batch_end(self, history, model, logs):
            self.batches.append((logs["epoch"], logs["iteration"]))
            if logs["epoch"] == 2 and logs["iteration"] == 2:
                raise StopTraining("two batches into epoch 2")

        def on_epoch_end(self, history, model):
            self.epochs.append(history.epochs[-1])

    recorder = Recorder()
    _, _, h = run(10, callbacks=[recorder])  # 60 rows, batch 16: 4 iterations per epoch
    assert recorder.batches == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)]
    assert recorder.epochs == [1]  # epoch 2 was cut short
    assert h.epochs == [1, 2] and h.iterations == 6 and h.stop_reason == "stopped"


def test_callbacks_are_checked():
    with pytest.raises(TypeError, match="a callback must be a function"):
        run(2, callbacks=[42])


# ============================================================================ output


def test_tables_fit_80_columns_and_show_lr_only_when_it_changes(capsys):
    from minigrad import data

    X, y = data.moons(120, noise=0.2, seed=0)
    model = nn.MLP(2, [8, 2], seed=0)
    h = fit(model, X, y, loss="cross_entropy", lr=0.1, epochs=3, validation_split=0.25,
            metrics=["accuracy"], verbose=False, print_every=1)  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    table = h.table().splitlines()
    header = table[0].split()
    assert header == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm"]
    assert printed[1].split() == header
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=3, validation_split=0.25,
            metrics=["accuracy"], scheduler=optim.StepLR(opt, 1, 0.5), verbose=False,
            print_every=1)  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert "lr" in h.table().splitlines()[0].split() and "lr" in printed[1].split()
    for line in h.table().splitlines() + printed[1:-1]:
        assert len(line) <= 80, line
    # Every number is separated from the next, even the widest ones.
    from minigrad.train import _table_row

    row = _table_row(1, [-1.23456789e10] * 3, ["loss", "lr", "val_accuracy"])
    assert row.split() == ["1", "-1.2346e+10", "-1.2346e+10", "-1.2346e+10"]


def test_messages_in_words(capsys):
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    h = fit(model, X, y, lr=0.0, epochs=10, patience=2, verbose=False)
    assert "has not improved for 2 epochs" in h.message  # not "by more than 0"
    h = fit(model, X, y, lr=0.0, epochs=10, patience=1, min_delta=0.5, verbose=False)
    assert "has not improved by more than 0.5 for 1 epoch " in h.message
    assert "1 iteration per epoch" in h.summary() and "1 iterations" not in h.summary()
    assert h.message not in h.summary(message=False) and h.message in h.summary()


# ============================================================================ weights, drop_last


def test_sample_weight_replays_keras_weighted_mean_by_hand():
    X, y = regression_data(n=12, d=2)
    w = np.linspace(0.0, 2.0, 12)
    model = nn.Neuron(2, activation=None, seed=0)
    start = weights(model)
    h = fit(model, X, y, lr=0.05, epochs=1, sample_weight=w, verbose=False)
    # One full-batch step on  sum_i w_i (x_i . a + b - y_i)^2 / n, in numpy.
    a, b = start[0], float(start[1])
    residual = X @ a + b - y
    assert h.initial_loss == pytest.approx(np.sum(w * residual**2) / 12, rel=1e-12)
    grad_a = 2 * X.T @ (w * residual) / 12
    grad_b = 2 * np.sum(w * residual) / 12
    np.testing.assert_allclose(model.w.data, a - 0.05 * grad_a, rtol=1e-12)
    assert float(model.b.data) == pytest.approx(b - 0.05 * grad_b, rel=1e-12)


def test_class_weight_is_a_sample_weight_per_class_and_follows_the_shuffle():
    from minigrad import data

    X, y = data.moons(60, noise=0.2, seed=1)
    a, b = nn.MLP(2, [4, 2], seed=0), nn.MLP(2, [4, 2], seed=0)
    kwargs = dict(loss="cross_entropy", epochs=3, batch_size=8, validation_split=0.25,
                  verbose=False)  # fmt: skip
    ha = fit(a, X, y, optimizer=optim.SGD(a.parameters(), lr=0.1), class_weight={0: 1.0, 1: 3.0},
             **kwargs)  # fmt: skip
    hb = fit(b, X, y, optimizer=optim.SGD(b.parameters(), lr=0.1),
             sample_weight=np.where(y == 1, 3.0, 1.0), **kwargs)  # fmt: skip
    assert ha.loss == hb.loss and ha.val_loss == hb.val_loss
    assert_same_weights(a, b)
    unweighted = nn.MLP(2, [4, 2], seed=0)
    hu = fit(unweighted, X, y, optimizer=optim.SGD(unweighted.parameters(), lr=0.1), **kwargs)
    assert hu.loss != ha.loss
    # Weight 1 everywhere is the unweighted run.
    ones = nn.MLP(2, [4, 2], seed=0)
    h1 = fit(ones, X, y, optimizer=optim.SGD(ones.parameters(), lr=0.1),
             sample_weight=np.ones(60), **kwargs)  # fmt: skip
    np.testing.assert_allclose(h1.loss, hu.loss, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(sample_weight=np.ones(3)), ValueError, "sample_weight must be 40 numbers"),
        (dict(sample_weight=-np.ones(40)), ValueError, "finite and >= 0"),
        (dict(class_weight=[1, 2]), TypeError, "class_weight must be a dict"),
        (dict(loss=lambda p, t: ((p - t) ** 2).mean(), sample_weight=np.ones(40)), TypeError,
         "reduction='none'"),
    ],
)  # fmt: skip
def test_weights_are_checked(kwargs, error, words):
    X, y = regression_data()
    model = nn.MLP(3, [4, 1], seed=0)
    before = weights(model)
    with pytest.raises(error, match=words):
        fit(model, X, y, lr=0.1, verbose=False, **kwargs)
    for p, q in zip(before, weights(model)):
        np.testing.assert_array_equal(p, q)


def test_class_weight_needs_every_class():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"no weight for the classes \[2\]"):
        fit(nn.MLP(2, [3], seed=0), X, np.array([0, 1, 2, 1]), loss="cross_entropy", lr=0.1,
            class_weight={0: 1.0, 1: 2.0}, verbose=False)  # fmt: skip


def test_drop_last_skips_the_incomplete_batch():
    _, _, h = run(2, drop_last=True)  # 60 rows, batch 16: 3 full batches, 12 rows dropped
    assert h.iterations_per_epoch == 3 and h.iterations == 6
    _, _, h = run(2)
    assert h.iterations_per_epoch == 4


# ============================================================================ metrics


def classification_outputs(seed=0, classes=3, n=50):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, classes)), rng.integers(0, classes, size=n)


def test_precision_recall_f1_by_hand_binary():
    from minigrad.metrics import confusion_matrix, f1, precision, recall

    logits = np.array([2.0, -1.0, 0.5, 0.3, -0.2, -3.0, 1.0])  # predicted 1 1? see below
    target = np.array([1, 0, 0, 1, 1, 0, 1])
    # predicted: 1, 0, 1, 1, 0, 0, 1  ->  TP = 3, FP = 1, FN = 1, TN = 2
    assert precision(logits, target) == 3 / 4
    assert recall(logits, target) == 3 / 4
    assert f1(logits, target) == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    np.testing.assert_array_equal(confusion_matrix(logits, target), [[2, 1], [1, 3]])
    assert precision(np.full(3, -1.0), np.array([1, 0, 1])) == 0.0  # nothing predicted


def test_macro_metrics_against_a_hand_computation_and_sklearn():
    from minigrad.metrics import confusion_matrix, f1, precision, recall

    outputs, target = classification_outputs()
    predicted = outputs.argmax(axis=1)
    matrix = confusion_matrix(outputs, target)
    by_hand = np.zeros((3, 3), dtype=int)
    for t, p in zip(target, predicted):
        by_hand[t, p] += 1
    np.testing.assert_array_equal(matrix, by_hand)
    tp = np.diag(by_hand).astype(float)
    p_k, r_k = tp / by_hand.sum(axis=0), tp / by_hand.sum(axis=1)
    assert precision(outputs, target) == pytest.approx(np.mean(p_k), rel=1e-12)
    assert recall(outputs, target) == pytest.approx(np.mean(r_k), rel=1e-12)
    assert f1(outputs, target) == pytest.approx(np.mean(2 * p_k * r_k / (p_k + r_k)), rel=1e-12)
    try:
        from sklearn import metrics as sk
    except ImportError:
        return
    assert f1(outputs, target) == pytest.approx(sk.f1_score(target, predicted, average="macro"))
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(target, predicted))


def test_f1_is_monitored_upwards_in_fit(tmp_path):
    from minigrad import data
    from minigrad.metrics import plot_confusion_matrix

    X, y = data.moons(80, noise=0.2, seed=0)
    model = nn.MLP(2, [8, 2], seed=0)
    h = fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters(), 0.05),
            epochs=8, validation_split=0.25, metrics=["f1", "precision", "recall"],
            monitor="val_f1", patience=3, verbose=False)  # fmt: skip
    assert h.best_value == max(h["val_f1"][: h.epochs_run])
    pytest.importorskip("matplotlib")
    fig = plot_confusion_matrix(predict(model, X), y, str(tmp_path / "cm.png"))
    assert (tmp_path / "cm.png").stat().st_size > 0 and fig.axes[
        0
    ].get_xlabel() == "predicted class"


# ============================================================================ lr range test


def test_lr_range_test_replays_gradient_descent_with_a_growing_rate():
    from minigrad.learning_rate import lr_range_test

    X, y = regression_data(n=30)
    model = nn.Neuron(3, activation=None, seed=0)
    before = weights(model)
    result = lr_range_test(model, X, y, start_lr=1e-4, end_lr=10.0, num_iter=60)
    for p, q in zip(before, weights(model)):  # the model is given back unchanged
        np.testing.assert_array_equal(p, q)
    # The same run in numpy: full-batch gradient descent, lr_i geometric.
    A = np.column_stack([X, np.ones(30)])
    theta = np.append(before[0], before[1])
    lrs = 1e-4 * (10.0 / 1e-4) ** (np.arange(60) / 59)
    losses = []
    for lr in lrs[: len(result.losses)]:
        residual = A @ theta - y
        losses.append(np.mean(residual**2))
        theta = theta - lr * 2 / 30 * A.T @ residual
    np.testing.assert_allclose(result.lrs, lrs[: len(result.lrs)], rtol=1e-12)
    np.testing.assert_allclose(result.losses, losses, rtol=1e-9)
    # Plain gradient descent diverges above 2 / lambda_max: the test stops past it, and
    # suggests a rate below it.
    critical = 2 / np.linalg.eigvalsh(2 / 30 * A.T @ A).max()
    assert result.stopped_early and result.lrs[-1] > critical
    assert 1e-4 < result.suggestion < critical
    assert "suggested lr" in str(result)


def test_lr_range_test_is_checked_and_plots(tmp_path):
    from minigrad.learning_rate import lr_range_test

    X, y = regression_data(n=30)
    model = nn.MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match="start_lr=1.0 must be below end_lr=0.1"):
        lr_range_test(model, X, y, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter must be at least 2"):
        lr_range_test(model, X, y, num_iter=1)
    result = lr_range_test(model, X, y, optimizer="adam", batch_size=8, num_iter=20,
                           start_lr=1e-5, end_lr=1e-2)  # fmt: skip
    assert len(result.lrs) == 20 and not result.stopped_early
    pytest.importorskip("matplotlib")
    result.plot(str(tmp_path / "range.png"))
    assert (tmp_path / "range.png").stat().st_size > 0


def test_resuming_with_dropout_from_a_checkpoint_equals_the_uninterrupted_run(tmp_path):
    def dropout_model(seed):
        return nn.MLP(3, [8, 8, 1], dropout=0.3, seed=seed)

    whole_model, _, whole = run(6, model=dropout_model(0))
    model, opt, first = run(3, model=dropout_model(0))
    nn.save_checkpoint(tmp_path / "ckpt.npz", model, opt, epoch=3)
    fresh = dropout_model(7)  # other weights and other dropout masks, until loaded
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.01)
    epoch = nn.load_checkpoint(tmp_path / "ckpt.npz", fresh, fresh_opt)
    _, _, second = run(6, initial_epoch=epoch, model=fresh, opt=fresh_opt)
    assert first.loss + second.loss == whole.loss
    assert_same_weights(fresh, whole_model)
