"""The apartment-price example, computed rather than believed.

price = w * sqm + b, trained by plain gradient descent on the mean squared error over the
20 apartments of ``data.linear()``.  Every number below is computed inside the test from
the data (least squares, the Hessian and its eigenvalues, the gradient-descent recurrence);
nothing is a hard-coded expected result.  docs/training.md reports the values.

For this model the loss is quadratic in (w, b), so its Hessian is constant:
H = (2/n) A^T A with A = [sqm, 1], and one gradient-descent step multiplies the error
(w, b) - (w*, b*) by (I - lr H).  Along the eigenvector of eigenvalue lambda the error is
multiplied by (1 - lr lambda) per step: stable iff lr < 2 / lambda_max.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Value, data, nn, optim
from minigrad.curvature import critical_learning_rate, dataset_loss, largest_hessian_eigenvalue
from minigrad.learning_rate import lr_sweep
from minigrad.train import fit


def apartments():
    X, y = data.linear()  # the default: 20 apartments, seed 0
    return X, y


def design(x):
    return np.column_stack([x, np.ones(len(x))])


def hessian(x):
    A = design(x)
    return 2 / len(x) * A.T @ A


def least_squares(x, y):
    return np.linalg.lstsq(design(x), y, rcond=None)[0]  # (w*, b*)


def model_at(w=0.0, b=0.0):
    model = nn.Neuron(1, activation=None, seed=0)
    model.w.data[...] = w
    model.b.data = float(b)
    return model


def gd_closed_form(x, y, lr, steps, w=0.0, b=0.0):
    """The gradient-descent update formulas, written out (no autograd)."""
    n = len(x)
    out = []
    for _ in range(steps):
        residual = w * x + b - y
        w, b = w - lr * (2 / n) * np.sum(residual * x), b - lr * (2 / n) * np.sum(residual)
        out.append((w, b))
    return np.array(out)


def gd_path(x, y, lr, steps, w=0.0, b=0.0):
    """The same recurrence with the sums precomputed (plain floats, fast): the arrays of
    w and b after each of ``steps`` steps."""
    n = len(x)
    sx, sxx, sy, sxy = float(x.sum()), float(x @ x), float(y.sum()), float(x @ y)
    ws, bs = np.empty(steps), np.empty(steps)
    for step in range(steps):
        grad_w = 2 / n * (w * sxx + b * sx - sxy)
        grad_b = 2 / n * (w * sx + b * n - sy)
        w, b = w - lr * grad_w, b - lr * grad_b
        ws[step], bs[step] = w, b
    return ws, bs


def settling_epoch(close):
    """The first epoch from which ``close`` (a boolean per epoch) stays True."""
    assert close[-1], "not settled within the steps computed"
    failing = np.flatnonzero(~close)
    return int(failing[-1]) + 2 if failing.size else 1


# ----------------------------------------------------------------------------- trajectory


def test_autograd_trajectory_equals_the_closed_form_updates():
    X, y = apartments()
    x = X[:, 0]
    lr = 1e-4  # just below the critical rate: the slope oscillates, the run still converges
    model = model_at()
    steps = []
    fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=lr), epochs=300,
        verbose=False, callbacks=[lambda h, m: steps.append((m.w.data[0], m.b.data))])  # fmt: skip
    expected = gd_closed_form(x, y, lr, 300)
    np.testing.assert_allclose(np.array(steps), expected, rtol=1e-10)


def test_scalar_values_give_the_same_steps():
    """The micrograd way: scalar Values, a loss summed example by example, manual updates."""
    X, y = apartments()
    x = X[:, 0]
    lr = 5e-5
    w, b = Value(0.0, name="w"), Value(0.0, name="b")
    expected = gd_closed_form(x, y, lr, 10)
    for step in range(10):
        loss = sum((w * float(xi) + b - float(yi)) ** 2 for xi, yi in zip(x, y)) / len(x)
        w.grad = b.grad = None
        loss.backward()
        w.data -= lr * w.grad
        b.data -= lr * b.grad
        assert (w.data, b.data) == pytest.approx(tuple(expected[step]), rel=1e-12)


# ----------------------------------------------------------------------------- stability


def test_the_curvature_helper_finds_the_hessian_of_the_raw_feature():
    X, y = apartments()
    lam_max = np.linalg.eigvalsh(hessian(X[:, 0])).max()
    model = model_at()
    loss = dataset_loss(model, X, y, "mse")
    assert largest_hessian_eigenvalue(loss, model.parameters()) == pytest.approx(lam_max, 1e-9)
    critical = critical_learning_rate(loss, model.parameters())
    assert critical == pytest.approx(2 / lam_max, rel=1e-9)
    # The Hessian of a quadratic does not depend on where it is evaluated, nor on y.
    elsewhere = model_at(w=3000.0, b=-5e4)
    loss_elsewhere = dataset_loss(elsewhere, X, 3 * y, "mse")
    assert critical_learning_rate(loss_elsewhere, elsewhere.parameters()) == pytest.approx(
        critical, rel=1e-9
    )


def test_divergence_begins_at_two_over_lambda_max():
    X, y = apartments()
    critical = 2 / np.linalg.eigvalsh(hessian(X[:, 0])).max()
    below, above = model_at(), model_at()
    h_below = fit(below, X, y, optimizer=optim.SGD(below.parameters(), lr=0.98 * critical),
                  epochs=1000, verbose=False)  # fmt: skip
    h_above = fit(above, X, y, optimizer=optim.SGD(above.parameters(), lr=1.02 * critical),
                  epochs=1000, verbose=False)  # fmt: skip
    # Below: every epoch lowers the loss (each eigen-component shrinks by |1 - lr lambda| < 1).
    assert h_below.stop_reason == "finished"
    # (Full batch: an epoch's loss is measured before its step, so loss[0] is the initial loss.)
    assert h_below.loss[0] == h_below.initial_loss
    assert all(b < a for a, b in zip(h_below.loss, h_below.loss[1:]))
    # Above: the steep direction grows by |1 - 1.02 * 2| = 1.04 per epoch until fit stops it.
    assert h_above.stop_reason == "diverged"
    assert h_above.message.startswith(f"diverged at epoch {h_above.diverged_at}")
    assert h_above.loss[-1] > 1000 * min(h_above.loss)


def test_the_intercept_needs_of_the_order_of_kappa_epochs():
    X, y = apartments()
    x = X[:, 0]
    lam_min, lam_max = np.linalg.eigvalsh(hessian(x))
    kappa = lam_max / lam_min
    w_star, b_star = least_squares(x, y)
    lr = 0.99 * 2 / lam_max  # the largest stable learning rate, with a 1 % margin
    # Epochs until b stays within 1 % of b* (starting from b = 0, that is also 1 % of the
    # initial error), counted on the update formulas themselves.
    # Prediction: the intercept error lives in the slow direction, which shrinks by
    # (1 - lr lambda_min) per epoch: ln(100) / -ln(1 - lr lambda_min) ~ ln(100) kappa / 1.98.
    predicted = math.log(100) / -math.log(1 - lr * lam_min)
    ws, bs = gd_path(x, y, lr, int(1.3 * predicted))
    epochs_b = settling_epoch(np.abs(bs - b_star) <= 0.01 * abs(b_star))
    assert epochs_b == pytest.approx(predicted, rel=0.02)
    assert epochs_b == pytest.approx(math.log(100) * kappa / 1.98, rel=0.02)
    # The loss misleads: 99 % of the initial loss is gone within a few hundred epochs (the
    # steep direction), while b has hardly moved; the slope compensates for the missing
    # intercept, and the loss then creeps down for as many epochs again as b needs.
    losses = np.mean((ws[:, None] * x + bs[:, None] - y) ** 2, axis=1)
    initial_loss = np.mean(y**2)
    epochs_99 = settling_epoch(losses <= 0.01 * initial_loss)
    assert epochs_99 < epochs_b / 100
    assert abs(bs[epochs_99 - 1] - b_star) > 0.9 * abs(b_star)
    loss_star = np.mean((design(x) @ [w_star, b_star] - y) ** 2)
    plateau = losses[10 * epochs_99]
    assert plateau > 1.5 * loss_star  # still far above the least-squares loss
    epochs_loss = settling_epoch(losses <= 1.01 * loss_star)
    epochs_w = settling_epoch(np.abs(ws - w_star) <= 0.01 * abs(w_star))
    assert epochs_99 < epochs_w < epochs_b and epochs_99 < epochs_loss < epochs_b
    assert epochs_loss > epochs_b / 4  # the same order as kappa: the loss is slow too


def test_standardising_the_feature_makes_the_problem_round():
    X, y = apartments()
    x = X[:, 0]
    Z, mean, std = data.standardize(X)
    z = Z[:, 0]
    lam_raw = np.linalg.eigvalsh(hessian(x))
    lam_std = np.linalg.eigvalsh(hessian(z))
    # Mean 0 and variance 1 make (2/n) A^T A = 2 I: both eigenvalues 2, condition number 1.
    np.testing.assert_allclose(lam_std, [2.0, 2.0], rtol=1e-12)
    assert lam_raw[1] / lam_raw[0] > 1000 * (lam_std[1] / lam_std[0])
    model = model_at()
    critical_std = critical_learning_rate(dataset_loss(model, Z, y), model.parameters())
    assert critical_std == pytest.approx(1.0, rel=1e-9)
    assert critical_std / (2 / lam_raw[1]) == pytest.approx(lam_raw[1] / 2, rel=1e-9)
    # At lr = 1 / lambda = 0.5 one step of gradient descent lands on the optimum.
    model = model_at()
    h = fit(model, Z, y, optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=1,
            verbose=False)  # fmt: skip
    w_std, b_std = model.w.data[0], model.b.data
    np.testing.assert_allclose([w_std, b_std], least_squares(z, y), rtol=1e-12)
    # Mapped back to square metres, it is the least-squares line of the raw data.
    w_raw, b_raw = w_std / std[0], b_std - w_std * mean[0] / std[0]
    np.testing.assert_allclose([w_raw, b_raw], least_squares(x, y), rtol=1e-9)
    assert h.epochs_run == 1
    # Any stable lr converges in few epochs: the error shrinks by |1 - 2 lr| per epoch.
    b_star = least_squares(z, y)[1]
    for lr in (0.1, 0.3, 0.9):
        _, bs = gd_path(z, y, lr, 100)
        epochs = settling_epoch(np.abs(bs - b_star) <= 0.01 * abs(b_star))
        assert epochs == math.ceil(math.log(100) / -math.log(abs(1 - 2 * lr)))
        assert epochs < 25


def test_a_learning_rate_sweep_judges_the_loss_not_the_intercept():
    X, y = apartments()
    x = X[:, 0]
    critical = 2 / np.linalg.eigvalsh(hessian(x)).max()
    b_star = least_squares(x, y)[1]
    lrs = [0.01 * critical, 0.5 * critical, 0.98 * critical, 1.02 * critical, 2 * critical]
    result = lr_sweep(model_at, X, y, lrs, epochs=200)
    assert [row.verdict for row in result] == ["converges"] * 3 + ["diverges"] * 2
    # Every converging run ends on the same plateau of the loss, with the intercept still
    # below 1 % of its optimum: the loss-based verdict cannot see the flat direction.
    for row in result.rows[:3]:
        model = model_at()
        fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=row.lr), epochs=200,
            verbose=False)  # fmt: skip
        assert abs(model.b.data) < 0.01 * abs(b_star)
    # Standardised, the same sweep tells the whole story: small rates are too small, the
    # ones near 2 / lambda_max = 1 overshoot, and the rest converge to the optimum.
    Z, _, _ = data.standardize(X)
    result = lr_sweep(model_at, Z, y, [0.001, 0.5, 0.98, 1.02], epochs=20)
    assert [row.verdict for row in result] == ["too small", "converges", "converges", "diverges"]
    assert "overshoot" in result[2].note and result.best.lr == 0.5
    assert result[1].final_loss == pytest.approx(
        np.mean((design(x) @ least_squares(x, y) - y) ** 2)
    )
