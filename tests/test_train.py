"""minigrad.train: the loop replayed by hand in numpy, History, early stopping, divergence,
the learning-rate sweep, the curvature helper, and the headline results (digits, moons)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad import Value, data, nn, optim
from minigrad.curvature import (
    critical_learning_rate,
    dataset_loss,
    hessian_vector_product,
    largest_hessian_eigenvalue,
)
from minigrad.learning_rate import lr_sweep
from minigrad.train import EarlyStopping, History, evaluate, fit, predict

# ----------------------------------------------------------------------------- helpers


def linear_model(nin, w=0.0, b=0.0):
    """y = x . w + b, starting from the given weights (a Neuron without activation)."""
    model = nn.Neuron(nin, activation=None, seed=0)
    model.w.data[...] = w
    model.b.data = float(b)
    return model


def params_of(model):
    return [np.array(p.data, copy=True) for p in model.parameters()]


def regression_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + 0.1 * rng.normal(size=n)
    return X, y


def numpy_sgd(X, y, theta, lr, batches):
    """Mini-batch gradient descent on MSE written out in numpy; theta = (w..., b)."""
    A = np.column_stack([X, np.ones(len(X))])
    thetas = []
    for index in batches:
        residual = A[index] @ theta - y[index]
        theta = theta - lr * (2 / len(index)) * A[index].T @ residual
        thetas.append(theta)
    return thetas


def theta_of(model):
    return np.append(model.w.data, model.b.data)


# ----------------------------------------------------------------------------- the loop


def test_iterations_per_epoch_1000_samples_batch_100_is_10():
    X, y = regression_data(n=1000, d=2)
    model = linear_model(2)
    calls = []
    original = model.forward
    model.forward = lambda x: (calls.append(model.training), original(x))[1]
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.01), epochs=3,
            batch_size=100, verbose=False)  # fmt: skip
    assert h.iterations_per_epoch == 10
    assert h.iterations == 30
    assert calls.count(True) == 30  # forward passes in training mode: 10 per epoch


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_trajectory_equals_numpy_minibatch_gd(batch_size):
    """fit = forward, loss, zero_grad, backward, step, batch by batch in the shuffled order."""
    X, y = regression_data(n=23)
    model = linear_model(3)
    trajectory = []
    h = fit(
        model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.05), epochs=3,
        batch_size=batch_size, seed=5, verbose=False,
        callbacks=[lambda history, m: trajectory.append(theta_of(m))],
    )  # fmt: skip
    rng = np.random.default_rng(5)
    size = batch_size or len(X)
    batches = []
    for _ in range(3):
        order = rng.permutation(len(X)) if size < len(X) else np.arange(len(X))
        batches += [order[i : i + size] for i in range(0, len(X), size)]
    expected = numpy_sgd(X, y, np.zeros(4), 0.05, batches)
    per_epoch = len(batches) // 3
    assert h.iterations_per_epoch == per_epoch == math.ceil(23 / size)
    for epoch in range(3):
        np.testing.assert_allclose(trajectory[epoch], expected[(epoch + 1) * per_epoch - 1],
                                   rtol=1e-12, atol=1e-12)  # fmt: skip


def test_history_records_losses_lr_and_gradient_norms():
    X, y = regression_data(n=30)
    Xv, yv = regression_data(n=10, seed=1)
    model = linear_model(3)
    thetas = [theta_of(model)]
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=4,
            validation_data=(Xv, yv), metrics=["mae", "rmse"], verbose=False,
            callbacks=[lambda history, m: thetas.append(theta_of(m))])  # fmt: skip
    A = np.column_stack([X, np.ones(30)])
    Av = np.column_stack([Xv, np.ones(10)])
    assert h.keys() == ["loss", "val_loss", "mae", "val_mae", "rmse", "val_rmse", "lr",
                        "grad_norm", "time"]  # fmt: skip
    assert h.epochs == [1, 2, 3, 4] and h.epochs_run == 4 and h.stop_reason == "finished"
    for k in range(4):
        before, after = thetas[k], thetas[k + 1]
        residual = A @ before - y  # full batch: the epoch loss is measured before the step
        assert h.loss[k] == pytest.approx(np.mean(residual**2), rel=1e-12)
        assert h["mae"][k] == pytest.approx(np.mean(np.abs(residual)), rel=1e-12)
        gradient = 2 / 30 * A.T @ residual
        assert h.grad_norm[k] == pytest.approx(np.linalg.norm(gradient), rel=1e-12)
        val_residual = Av @ after - yv  # validation is measured after the epoch
        assert h.val_loss[k] == pytest.approx(np.mean(val_residual**2), rel=1e-12)
        assert h["val_rmse"][k] == pytest.approx(np.sqrt(np.mean(val_residual**2)), rel=1e-12)
    assert h.lr == [0.1] * 4
    assert h.initial_loss == pytest.approx(np.mean(y**2))
    assert h.best_epoch == 4 and h.monitor == "val_loss"
    assert "4 of 4 epochs" in h.summary() and "stop reason: finished" in h.summary()
    assert "val_loss" in h.table()
    with pytest.raises(KeyError, match="no series 'accuracy'"):
        h["accuracy"]


def test_accuracy_metric_and_validation_split():
    X, y = data.moons(200, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    h = fit(model, X, y, loss="bce", optimizer=optim.Adam(model.parameters(), lr=0.05),
            epochs=3, validation_split=0.25, metrics=["accuracy"], verbose=False)  # fmt: skip
    assert h.n_train == 150 and h.n_val == 50
    assert h.iterations_per_epoch == 1
    assert set(h.keys()) >= {"accuracy", "val_accuracy", "val_loss"}
    # The reported accuracy matches a hand computation on the model's outputs.
    logits = predict(model, X)
    manual = np.mean((logits[:, 0] > 0) == y)
    assert evaluate(model, X, y, loss="bce", metrics=["accuracy"])["accuracy"] == manual


def test_accuracy_metric_rules():
    from minigrad.metrics import accuracy

    assert accuracy(np.array([[0.1, 0.9], [2.0, 1.0]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.3], [-0.2]]), np.array([1, 0])) == 1.0
    assert accuracy(np.array([0.3, -0.2, 0.1]), np.array([1, -1, -1])) == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- stopping


def diverging_validation_setup():
    """Train y = 2x while validating on y = x: the validation loss falls while w < 1, then
    rises, so the best epoch is the one whose w is closest to 1."""
    x = np.linspace(-1, 1, 21)[:, None]
    return x, 2 * x[:, 0], x, x[:, 0]


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y, Xv, yv = diverging_validation_setup()
    model = linear_model(1)
    seen = []
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.05), epochs=200,
            validation_data=(Xv, yv), patience=4, restore_best_weights=True, verbose=False,
            callbacks=[lambda history, m: seen.append(theta_of(m))])  # fmt: skip
    val = np.array(h.val_loss)
    best = int(np.argmin(val)) + 1
    assert h.stop_reason == "early-stopped"
    assert h.best_epoch == best and h.epochs_run == best + 4
    assert np.all(np.diff(val[best - 1 :]) > 0)  # it really stopped improving
    assert "early-stopped at epoch" in h.message
    # The weights now are the best epoch's, not the last epoch's.
    np.testing.assert_array_equal(theta_of(model), seen[best - 1])
    assert not np.array_equal(seen[-1], seen[best - 1])
    assert h.restored_best_weights
    # Without restoring, the last weights stay.
    model2 = linear_model(1)
    fit(model2, X, y, optimizer=optim.SGD(model2.parameters(), lr=0.05), epochs=200,
        validation_data=(Xv, yv), patience=4, verbose=False)  # fmt: skip
    np.testing.assert_array_equal(theta_of(model2), seen[-1])


def test_min_delta_counts_small_improvements_as_none():
    X, y, Xv, yv = diverging_validation_setup()
    runs = {}
    for min_delta in (0.0, 0.01):
        model = linear_model(1)
        runs[min_delta] = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.05),
                              epochs=200, validation_data=(Xv, yv), patience=2,
                              min_delta=min_delta, verbose=False)  # fmt: skip
    plain, strict = runs[0.0], runs[0.01]
    assert strict.epochs_run < plain.epochs_run
    # Replay the rule by hand on the strict run's validation losses.
    best, wait, stop_at = math.inf, 0, None
    for epoch, value in enumerate(strict.val_loss, start=1):
        if value < best - 0.01:
            best, wait = value, 0
        else:
            wait += 1
        if wait >= 2:
            stop_at = epoch
            break
    assert stop_at == strict.epochs_run


def test_early_stopping_helper():
    stopper = EarlyStopping(patience=2, min_delta=0.5)
    assert stopper.update(10.0, 1) and not stopper.update(9.6, 2) and not stopper.should_stop
    assert not stopper.update(9.7, 3) and stopper.should_stop and stopper.best_epoch == 1
    maximiser = EarlyStopping(patience=1, mode="max")
    assert maximiser.update(0.5, 1) and maximiser.update(0.6, 2) and not maximiser.update(0.6, 3)
    assert maximiser.should_stop
    with pytest.raises(ValueError, match="patience must be None or an integer >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="min_delta must be a finite number >= 0"):
        EarlyStopping(min_delta=-0.1)


def test_monitor_accuracy_is_maximised():
    X, y = data.moons(120, noise=0.1, seed=1)
    model = nn.MLP(2, [8, 1], seed=0)
    h = fit(model, X, y, loss="bce", optimizer=optim.Adam(model.parameters(), lr=0.05),
            epochs=15, validation_split=0.3, metrics=["accuracy"], monitor="val_accuracy",
            verbose=False)  # fmt: skip
    val_accuracy = h["val_accuracy"]
    assert h.best_value == max(val_accuracy)
    assert h.best_epoch == val_accuracy.index(max(val_accuracy)) + 1


def test_converged_stop_reason():
    X, y = regression_data()
    model = linear_model(3)
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=500,
            tol=1e-6, verbose=False)  # fmt: skip
    assert h.stop_reason == "converged" and h.epochs_run < 500
    losses = h.loss
    assert abs(losses[-1] - losses[-2]) <= 1e-6 * losses[-2]
    assert all(abs(a - b) > 1e-6 * a for a, b in zip(losses[:-2], losses[1:-1]))


def divergence_epoch(losses, initial, factor):
    """The documented rule replayed: the first epoch whose loss exceeds both the initial
    loss and ``factor`` times the best loss so far (initial loss included)."""
    best = initial
    for epoch, loss in enumerate(losses, start=1):
        best = min(best, loss)
        if not math.isfinite(loss) or (loss > factor * best and loss > initial):
            return epoch
    return None


def test_divergence_is_detected_at_the_first_blown_up_epoch():
    X, y = data.linear()
    A = np.column_stack([X, np.ones(len(X))])
    lam = np.linalg.eigvalsh(2 / len(X) * A.T @ A).max()
    lr = 3 * 2 / lam  # three times the critical learning rate
    theta, losses = np.zeros(2), []
    for _ in range(60):
        losses.append(np.mean((A @ theta - y) ** 2))  # full batch: loss before the step
        theta = theta - lr * 2 / len(X) * A.T @ (A @ theta - y)
    expected = divergence_epoch(losses, losses[0], 1e3)
    model = linear_model(1)
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=lr), epochs=60,
            verbose=False)  # fmt: skip
    assert h.stop_reason == "diverged"
    assert h.diverged_at == expected == h.epochs_run < 60
    assert h.message.startswith(f"diverged at epoch {expected}")
    assert all(math.isfinite(v) for v in h.loss)  # no NaN recorded after the blow-up


def test_nan_loss_stops_at_once_without_updating():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = Value(np.ones(2))

        def forward(self, x):  # log of a negative number: NaN
            return (x @ self.w).log()

    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([0.0, 0.0])
    model = Broken()
    model.w.data[...] = -1.0
    before = params_of(model)
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=50,
            verbose=False)  # fmt: skip
    assert h.stop_reason == "diverged" and h.diverged_at == 0 and h.epochs_run == 0
    assert "before any update" in h.message
    np.testing.assert_array_equal(params_of(model)[0], before[0])


def test_nan_in_the_middle_of_an_epoch():
    class GoesNaN(nn.Module):
        """A linear model whose output becomes NaN once w exceeds 1."""

        def __init__(self):
            super().__init__()
            self.w = Value(np.zeros(1))

        def forward(self, x):
            z = x @ self.w
            return z + (1.0 - self.w.sum()).sqrt() * 0.0  # NaN when w > 1

    X = np.ones((4, 1))
    y = np.full(4, 10.0)
    model = GoesNaN()
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=20,
            batch_size=1, shuffle=False, verbose=False)  # fmt: skip
    # Replay: w <- w - 0.1 * 2 (w - 10) per example until w > 1.
    w, step = 0.0, 0
    while w <= 1:
        w -= 0.1 * 2 * (w - 10)
        step += 1
    epoch, iteration = divmod(step, 4)
    assert h.stop_reason == "diverged"
    assert h.message.startswith(f"diverged at epoch {epoch + 1} (iteration {iteration + 1} of 4)")
    assert "the training loss became nan" in h.message
    assert h.iterations == step  # no step was taken after the NaN


# ----------------------------------------------------------------------------- bad inputs


def good_arguments():
    X, y = regression_data(n=12)
    return X, y


BAD_INPUTS = [
    ({"X": np.zeros((5, 3)), "y": np.zeros(4)}, ValueError, "same number of samples, got 5 and 4"),
    ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, ValueError, "the data set is empty"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
    ({"batch_size": -3}, ValueError, "batch_size must be a positive integer, got -3"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be a positive integer"),
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": -1}, ValueError, "epochs must be a positive integer, got -1"),
    ({"validation_split": 0.0}, ValueError, r"validation_split must be a fraction in \(0, 1\)"),
    ({"validation_split": 1.5}, ValueError, r"validation_split must be a fraction in \(0, 1\)"),
    ({"validation_split": 0.99}, ValueError, "leaves no training data"),
    ({"X": "nan-x"}, ValueError, r"X contains 2 NaN or infinite values \(in 1 rows"),
    ({"y": "nan-y"}, ValueError, "y contains 1 NaN or infinite values"),
    ({"validation_data": "nan"}, ValueError, "X_val contains 1 NaN"),
    ({"validation_data": (np.zeros((2, 3)), np.zeros(2)), "validation_split": 0.2}, ValueError,
     "not both"),
    ({"loss": "mystery"}, ValueError, "unknown loss 'mystery'"),
    ({"metrics": ["precison"]}, ValueError, "unknown metric 'precison'"),
    ({"monitor": "val_loss"}, ValueError, "cannot monitor 'val_loss'"),
    ({"patience": -2}, ValueError, "patience must be None or an integer >= 0"),
    ({"optimizer": None}, ValueError, "pass an optimizer"),
    ({"optimizer": object()}, TypeError, "optimizer must have step"),
    ({"seed": None}, TypeError, "seed must be an integer"),
    ({"X": np.array([["a"] * 3] * 12)}, TypeError, "X must hold numbers"),
    ({"clip_grad_norm": 0}, ValueError, "clip_grad_norm must be None or > 0"),
]  # fmt: skip


@pytest.mark.parametrize("change, error, words", BAD_INPUTS)
def test_bad_inputs_raise_and_change_nothing(change, error, words):
    X, y = good_arguments()
    if isinstance(change.get("X"), str):
        X = X.copy()
        X[3, 0] = np.nan
        X[3, 1] = np.inf
        change = {**change, "X": X}
    if isinstance(change.get("y"), str):
        y = y.copy()
        y[5] = np.nan
        change = {**change, "y": y}
    if isinstance(change.get("validation_data"), str):
        Xv = np.zeros((3, 3))
        Xv[1, 1] = np.nan
        change = {**change, "validation_data": (Xv, np.zeros(3))}
    model = nn.MLP(3, [4, 1], seed=0)
    arguments = {"X": X, "y": y, "optimizer": optim.SGD(model.parameters(), lr=0.1),
                 "epochs": 3, "verbose": False, **change}  # fmt: skip
    model.eval()
    weights = params_of(model)
    arrays = {k: np.array(v, copy=True) for k, v in arguments.items() if isinstance(v, np.ndarray)}
    with pytest.raises(error, match=words):
        fit(model, **arguments)
    for before, after in zip(weights, params_of(model)):
        np.testing.assert_array_equal(before, after)
    assert all(p.grad is None for p in model.parameters())
    assert model.training is False
    for key, before in arrays.items():
        np.testing.assert_array_equal(arguments[key], before)


def test_fit_leaves_data_untouched_and_restores_the_mode():
    X, y = regression_data(n=20)
    X_before, y_before = X.copy(), y.copy()
    model = nn.MLP(3, [4, 1], dropout=0.5, seed=0)
    model.eval()
    fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.01), epochs=2, batch_size=5,
        validation_split=0.2, verbose=False)  # fmt: skip
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert model.training is False


def test_model_without_parameters_and_non_scalar_loss():
    class Empty(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="has no parameters to train"):
        fit(Empty(), np.zeros((3, 1)), np.zeros(3), lr=0.1, verbose=False)
    model = linear_model(1)
    with pytest.raises(TypeError, match="must return a scalar Value"):
        fit(model, np.zeros((3, 1)), np.zeros(3), lr=0.1, verbose=False,
            loss=lambda p, t: (p - t) ** 2)  # fmt: skip


# ----------------------------------------------------------------------------- options


def test_default_optimizer_is_plain_gradient_descent():
    X, y = regression_data()
    a, b = linear_model(3), linear_model(3)
    fit(a, X, y, lr=0.05, epochs=5, verbose=False)
    fit(b, X, y, optimizer=optim.SGD(b.parameters(), lr=0.05), epochs=5, verbose=False)
    np.testing.assert_array_equal(theta_of(a), theta_of(b))


def test_schedules_set_the_learning_rate_per_epoch():
    X, y = regression_data()
    model = linear_model(3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, X, y, optimizer=opt, scheduler=optim.StepLR(opt, step_size=2, gamma=0.5),
            epochs=5, verbose=False)  # fmt: skip
    assert h.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    model = linear_model(3)
    opt = optim.SGD(model.parameters(), lr=1.0)
    h = fit(model, X, y, optimizer=opt, scheduler=lambda epoch: 0.1 / epoch, epochs=3,
            verbose=False)  # fmt: skip
    assert h.lr == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_gradient_clipping_rescales_the_step():
    X, y = regression_data(n=10)
    model = linear_model(3)
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1,
            clip_grad_norm=0.5, verbose=False)  # fmt: skip
    A = np.column_stack([X, np.ones(10)])
    gradient = 2 / 10 * A.T @ (A @ np.zeros(4) - y)
    norm = np.linalg.norm(gradient)
    assert norm > 0.5 and h.grad_norm[0] == pytest.approx(norm)  # recorded before clipping
    # PyTorch's formula, the one optim.clip_grad_norm uses: c / (norm + 1e-6), not c / norm.
    np.testing.assert_allclose(theta_of(model), -0.1 * gradient * 0.5 / (norm + 1e-6), rtol=1e-12)
    # ... and fit's step is the step of the hand-written loop with optim.clip_grad_norm.
    by_hand = linear_model(3)
    opt = optim.SGD(by_hand.parameters(), lr=0.1)
    loss = ((by_hand(Value(X)).reshape(-1) - y) ** 2).mean()
    loss.backward()
    optim.clip_grad_norm(by_hand.parameters(), 0.5)
    opt.step()
    np.testing.assert_array_equal(theta_of(model), theta_of(by_hand))


def test_restore_best_weights_without_patience():
    X, y, Xv, yv = diverging_validation_setup()
    model = linear_model(1)
    seen = []
    h = fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.05), epochs=30,
            validation_data=(Xv, yv), restore_best_weights=True, verbose=False,
            callbacks=[lambda history, m: seen.append(theta_of(m))])  # fmt: skip
    assert h.stop_reason == "finished" and h.best_epoch < 30
    np.testing.assert_array_equal(theta_of(model), seen[h.best_epoch - 1])


# ----------------------------------------------------------------------------- output


def test_progress_bar_quiet_mode_and_printed_table(capsys):
    X, y = regression_data(n=20)
    model = linear_model(3)
    fit(model, X, y, lr=0.05, epochs=3, validation_split=0.25, verbose=True)
    out, err = capsys.readouterr()
    assert "3/3" in err and "loss=" in err and "val_loss=" in err  # the bar, on stderr
    assert "15 samples, batch size 15: 1 iteration per epoch" in out  # log lines, on stdout
    fit(model, X, y, lr=0.05, epochs=3, verbose=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    fit(model, X, y, lr=0.05, epochs=7, verbose=False, print_every=3)
    out, _ = capsys.readouterr()
    rows = [line.split()[0] for line in out.splitlines()[2:]]
    # No schedule: the lr column would be constant, so it is left out.
    assert out.splitlines()[1].split() == ["epoch", "loss", "grad_norm"]
    assert rows == ["1", "3", "6", "7"]


def test_divergence_message_is_printed(capsys):
    X, y = data.linear()
    model = linear_model(1)
    fit(model, X, y, lr=1e-3, epochs=100, verbose=False, print_every=1000)
    out, _ = capsys.readouterr()
    assert "diverged at epoch" in out
    assert "nan" not in out.lower()


def test_plots(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = regression_data(n=20)
    model = linear_model(3)
    h = fit(model, X, y, lr=0.05, epochs=5, validation_split=0.2, metrics=["mae"], verbose=False)
    path = tmp_path / "curves.png"
    fig = h.plot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 4 and fig.axes[0].get_yscale() == "log"
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "loss" in labels and "val_loss" in labels
    model = linear_model(1)
    Xa, ya = data.linear()
    diverged = fit(model, Xa, ya, lr=1e-3, epochs=100, verbose=False)
    diverged.plot(str(tmp_path / "diverged.png"))
    with pytest.raises(ValueError, match="nothing to plot"):
        History().plot(str(tmp_path / "empty.png"))


def test_predict_and_evaluate_use_eval_mode():
    X, y = regression_data(n=16)
    model = nn.MLP(3, [32, 1], dropout=0.5, seed=0)
    first, second = predict(model, X), predict(model, X)
    np.testing.assert_array_equal(first, second)  # dropout off
    assert model.training is True  # mode restored
    loss = evaluate(model, X, y)["loss"]
    assert loss == pytest.approx(np.mean((first[:, 0] - y) ** 2))
    assert dataset_loss(model.eval(), X, y).item() == pytest.approx(loss)


# ----------------------------------------------------------------------------- lr sweep


def test_lr_sweep_sorts_learning_rates():
    X, y = regression_data(n=30)
    A = np.column_stack([X, np.ones(30)])
    critical = 2 / np.linalg.eigvalsh(2 / 30 * A.T @ A).max()
    lrs = [1e-4 * critical, 0.5 * critical, 1.5 * critical]
    result = lr_sweep(lambda: linear_model(3), X, y, lrs, epochs=30)
    assert [row.verdict for row in result] == ["too small", "converges", "diverges"]
    assert result.lrs("converges") == [lrs[1]]
    assert result.best.lr == lrs[1]
    # The verdicts follow the documented rule, replayed on numpy gradient descent.
    finals = []
    for lr in lrs:
        theta = np.zeros(4)
        for _ in range(30):
            theta = theta - lr * 2 / 30 * A.T @ (A @ theta - y)
        finals.append(np.mean((A @ theta - y) ** 2))
    initial = np.mean(y**2)
    gains = [math.log(initial / f) for f in finals[:2]]
    assert gains[0] < 0.5 * gains[1] and finals[2] > initial
    table = str(result)
    assert "too small" in table and "converges" in table and "diverges" in table


def test_lr_sweep_needs_the_same_initial_model(tmp_path):
    X, y = regression_data(n=10)
    seeds = iter(range(10))
    with pytest.raises(ValueError, match="different initial parameters"):
        lr_sweep(lambda: nn.MLP(3, [2, 1], seed=next(seeds)), X, y, [0.01, 0.02], epochs=1)
    with pytest.raises(ValueError, match="lrs must be positive"):
        lr_sweep(lambda: linear_model(3), X, y, [0.1, -1.0])
    result = lr_sweep(lambda: linear_model(3), X, y, [0.01, 0.1], epochs=3, optimizer="adam")
    fig = result.plot(str(tmp_path / "sweep.png"))
    assert len(fig.axes[0].get_lines()) == 2


# ----------------------------------------------------------------------------- curvature


def test_largest_eigenvalue_matches_numpy_for_linear_regression():
    X, y = regression_data(n=30, d=4, seed=3)
    X = X * np.array([1.0, 3.0, 0.3, 10.0])  # unequal scales: a spread-out spectrum
    model = linear_model(4)
    loss = dataset_loss(model, X, y, "mse")
    A = np.column_stack([X, np.ones(30)])
    hessian = 2 / 30 * A.T @ A
    lam = np.linalg.eigvalsh(hessian).max()
    assert largest_hessian_eigenvalue(loss, model.parameters()) == pytest.approx(lam, rel=1e-9)
    assert critical_learning_rate(loss, model.parameters()) == pytest.approx(2 / lam, rel=1e-9)
    # And each Hessian-vector product is the matrix product.
    v = np.random.default_rng(0).normal(size=5)
    hv = hessian_vector_product(loss, model.parameters(), [v[:4], v[4]])
    np.testing.assert_allclose(np.append(hv[0], hv[1]), hessian @ v, rtol=1e-12)


def test_hessian_vector_product_of_an_mlp_matches_finite_differences():
    X, y = data.moons(20, seed=0)
    model = nn.MLP(2, [5, 1], activation="tanh", seed=1)
    params = model.parameters()
    loss = dataset_loss(model, X, y, "bce")
    rng = np.random.default_rng(2)
    v = [rng.normal(size=p.shape) for p in params]
    hv = hessian_vector_product(loss, params, v)

    def gradient_at(shift):
        for p, d in zip(params, v):
            p.data = p.data + shift * d
        g = minigrad.grad(dataset_loss(model, X, y, "bce"), params)
        for p, d in zip(params, v):
            p.data = p.data - shift * d
        return [np.asarray(gi) for gi in g]

    eps = 1e-5
    plus, minus = gradient_at(eps), gradient_at(-eps)
    for h_i, a, b in zip(hv, plus, minus):
        np.testing.assert_allclose(h_i, (a - b) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_indefinite_and_negative_hessians():
    p, q = Value(1.0), Value(2.0)
    saddle = -3.0 * p * p + 0.5 * q * q  # eigenvalues -6 and 1
    assert largest_hessian_eigenvalue(saddle, [p, q]) == pytest.approx(1.0, rel=1e-8)
    concave = -(p * p)
    assert largest_hessian_eigenvalue(concave, [p]) == pytest.approx(-2.0)
    assert critical_learning_rate(concave, [p]) == math.inf
    flat = 3.0 * p + q  # linear: zero Hessian
    assert largest_hessian_eigenvalue(flat, [p, q]) == 0.0


# ----------------------------------------------------------------------------- headlines


def test_mlp_reaches_97_percent_on_the_bundled_digits():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.25, seed=0, stratify=True
    )
    Z_train, mean, std = data.standardize(X_train)
    Z_test, _, _ = data.standardize(X_test, mean, std)
    model = nn.MLP(64, [128, 10], dropout=0.2, seed=0)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    h = fit(model, Z_train, y_train, loss="cross_entropy", optimizer=opt, epochs=30,
            batch_size=32, scheduler=optim.CosineAnnealingLR(opt, 30), seed=0,
            verbose=False)  # fmt: skip
    assert h.iterations_per_epoch == math.ceil(len(X_train) / 32)
    result = evaluate(model, Z_test, y_test, loss="cross_entropy", metrics=["accuracy"])
    assert result["accuracy"] >= 0.97, result


def test_mlp_reaches_97_percent_on_moons():
    X, y = data.moons(1000, noise=0.15, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.3, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    fit(model, X_train, y_train, loss="bce", optimizer=optim.Adam(model.parameters(), lr=1e-2),
        epochs=60, batch_size=32, seed=0, verbose=False)  # fmt: skip
    result = evaluate(model, X_test, y_test, loss="bce", metrics=["accuracy"])
    assert result["accuracy"] >= 0.97, result


def test_names_that_moved_out_of_train_are_still_importable_from_it():
    """The metrics, the learning-rate sweep and the curvature helpers have their own
    modules; ``from minigrad.train import ...``, as the docs first wrote it, still works."""
    import minigrad.train as train
    from minigrad import curvature, learning_rate, metrics

    for module in (metrics, learning_rate, curvature):
        for name in module.__all__:
            if hasattr(train, name) or name in train._MOVED:
                assert getattr(train, name) is getattr(module, name), name
    for name in ("accuracy", "confusion_matrix", "lr_sweep", "lr_range_test",
                 "critical_learning_rate", "hessian_vector_product"):  # fmt: skip
        assert getattr(train, name) is not None
    assert set(train._MOVED) == set(learning_rate.__all__) | set(curvature.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        train.no_such_name  # noqa: B018
