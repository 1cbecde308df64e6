"""minigrad.data: generators checked against their defining formulas, the bundled digits
against the UCI description, and the split/standardise/batch utilities."""

from __future__ import annotations

import math
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
import tomllib

from minigrad import data

GENERATORS = [data.linear, data.moons, data.circles, data.spirals, data.xor, data.glasses_vs_ring]
CLASSIFIERS = GENERATORS[1:]


# ----------------------------------------------------------------------------- generators


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_generators_are_reproducible_and_typed(make):
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=np.random.default_rng(3))
    X3, _ = make(50, seed=4)
    assert X1.dtype == np.float64 and X1.ndim == 2 and X1.shape[0] == 50
    assert y1.shape == (50,)
    assert y1.dtype == (np.float64 if make is data.linear else np.int64)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be a positive integer, got 0"),
        ({"n_samples": -5}, ValueError, "n_samples must be a positive integer, got -5"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be a positive integer"),
        ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0, got -0.1"),
        ({"noise": float("nan")}, ValueError, "noise must be a finite number >= 0"),
        ({"seed": None}, TypeError, "seed must be an integer or a numpy.random.Generator"),
        ({"seed": "1"}, TypeError, "seed must be an integer"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
    ],
)
def test_generators_refuse_bad_arguments(make, kwargs, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(")) as info:
        make(**kwargs)
    assert make.__name__ in str(info.value)


def test_other_bad_generator_arguments():
    with pytest.raises(ValueError, match="low must be smaller than high"):
        data.linear(low=5, high=5)
    with pytest.raises(ValueError, match=r"factor .* must be in \(0, 1\), got 1.0"):
        data.circles(factor=1.0)
    with pytest.raises(ValueError, match="classes must be at least 2, got 1"):
        data.spirals(classes=1)
    with pytest.raises(ValueError, match="turns must be positive"):
        data.spirals(turns=0)
    with pytest.raises(ValueError, match="slope must be finite"):
        data.linear(slope=[1.0, float("inf")])


def test_linear_default_is_the_apartment_example():
    X, y = data.linear()
    assert X.shape == (20, 1) and y.shape == (20,)
    assert np.all((X >= 30) & (X <= 150))
    # Without noise the formula holds exactly.
    Xc, yc = data.linear(noise=0.0, seed=7)
    np.testing.assert_allclose(yc, 2500 * Xc[:, 0] + 15000, rtol=1e-15)
    # With many samples, least squares recovers the coefficients and the noise level.
    Xb, yb = data.linear(200_000, seed=1)
    A = np.column_stack([Xb[:, 0], np.ones(len(Xb))])
    (slope, intercept), *_ = np.linalg.lstsq(A, yb, rcond=None)
    residual_std = np.std(yb - A @ [slope, intercept])
    assert abs(slope - 2500) < 5  # standard error ~ 12000 / (34.6 * sqrt(2e5)) ~ 0.8
    assert abs(intercept - 15000) < 500  # standard error ~ 80
    assert abs(residual_std - 12000) < 100  # standard error ~ 19


def test_linear_several_features():
    X, y = data.linear(30, slope=[1.0, -2.0, 0.5], intercept=3.0, noise=0.0, low=0, high=1)
    assert X.shape == (30, 3)
    np.testing.assert_allclose(y, X @ [1.0, -2.0, 0.5] + 3.0)


def test_moons_lie_on_their_half_circles():
    X, y = data.moons(400, noise=0.0, seed=2)
    up, low = X[y == 0], X[y == 1]
    assert len(up) == len(low) == 200
    np.testing.assert_allclose(np.hypot(up[:, 0], up[:, 1]), 1.0)
    assert np.all(up[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(low[:, 0] - 1, low[:, 1] - 0.5), 1.0)
    assert np.all(low[:, 1] <= 0.5)


def test_circles_radii():
    X, y = data.circles(301, noise=0.0, factor=0.3, seed=5)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert (y == 0).sum() == 151 and (y == 1).sum() == 150


def test_spirals_follow_their_arms():
    X, y = data.spirals(400, classes=4, turns=1.5, noise=0.0, seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    theta = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * y / 4 + 2 * np.pi * 1.5 * r
    wrapped = np.angle(np.exp(1j * (theta - expected)))  # difference modulo 2 pi
    np.testing.assert_allclose(wrapped, 0.0, atol=1e-9)
    assert np.bincount(y).tolist() == [100, 100, 100, 100]


def test_xor_labels_are_the_quadrant_parity():
    X, y = data.xor(500, noise=0.0, seed=9)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    assert np.all(np.abs(X) <= 1)
    # With noise, points move but keep the label of where they were drawn.
    Xn, yn = data.xor(500, noise=0.3, seed=9)
    assert 0 < np.mean(yn != (Xn[:, 0] * Xn[:, 1] < 0)) < 0.5


def test_glasses_vs_ring_geometry():
    X, y = data.glasses_vs_ring(2000, noise=0.0, seed=4)
    ring, glasses = X[y == 0], X[y == 1]
    assert len(glasses) == len(ring) == 1000
    r = np.hypot(ring[:, 0], ring[:, 1])
    assert np.all((r >= 0.9) & (r <= 1.0))
    assert np.all(np.hypot(glasses[:, 0], glasses[:, 1]) < 0.65)  # the ring encloses them
    left = np.isclose(np.hypot(glasses[:, 0] + 0.4, glasses[:, 1]), 0.25)
    right = np.isclose(np.hypot(glasses[:, 0] - 0.4, glasses[:, 1]), 0.25)
    bridge = ~(left | right)
    # The bridge: the arch through (+-x_end, y_end) and (0, 0.18), between the lenses.
    x_end, y_end = 0.4 - 0.25 * math.cos(math.pi / 6), 0.25 * math.sin(math.pi / 6)
    xb, yb = glasses[bridge, 0], glasses[bridge, 1]
    np.testing.assert_allclose(yb, 0.18 - (0.18 - y_end) / x_end**2 * xb**2)
    assert np.all(np.abs(xb) <= x_end + 1e-12)
    # Points are spread by length: lenses 2 * 2 pi 0.25 ~ 3.14, bridge ~ 0.39 (11 %).
    assert 0.06 < bridge.mean() < 0.17
    assert abs(left.sum() - right.sum()) < 100


@pytest.mark.parametrize("make", CLASSIFIERS, ids=lambda f: f.__name__)
def test_classes_come_interleaved(make):
    _, y = make(200, seed=0)
    first_half = y[:100]
    assert len(np.unique(first_half)) == len(np.unique(y))


# ----------------------------------------------------------------------------- digits

# The class distribution of optdigits.tes as published in the UCI description.
UCI_TEST_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
# The first record of optdigits.tes (a 0), copied from the UCI file.
UCI_FIRST_ROW = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0,
                 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0,
                 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]  # fmt: skip


def test_digits_match_the_uci_description():
    X, y = data.load_digits(scale=False)
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    assert np.bincount(y).tolist() == UCI_TEST_COUNTS
    assert X[0].tolist() == UCI_FIRST_ROW and y[0] == 0


def test_digits_scaling_and_images():
    raw, y0 = data.load_digits(scale=False)
    X, y, images = data.load_digits(return_images=True)
    np.testing.assert_array_equal(X, raw / 16)
    np.testing.assert_array_equal(y, y0)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    X[:] = -1  # every call returns fresh arrays
    assert data.load_digits()[0].min() == 0


def test_digits_file_is_compact_and_declared_as_package_data():
    from minigrad.data.digits import DIGITS_PATH

    assert DIGITS_PATH.stat().st_size < 100_000
    with np.load(DIGITS_PATH, allow_pickle=False) as stored:
        assert stored["pixels"].dtype == np.uint8 and stored["labels"].dtype == np.uint8
    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["minigrad"]
    relative = DIGITS_PATH.resolve().relative_to(root / "minigrad").as_posix()
    assert any(fnmatch(relative, pattern) for pattern in patterns)
    assert "CC BY 4.0" in data.DIGITS_CITATION and "Alpaydin" in data.DIGITS_CITATION


# ----------------------------------------------------------------------------- splitting


def numbered(n, features=2):
    """Rows whose first column is the row number, so rows can be tracked through a split."""
    X = np.column_stack([np.arange(n, dtype=float)] + [np.ones(n)] * (features - 1))
    return X, np.arange(n) * 10


def test_train_test_split_partitions_the_rows():
    X, y = numbered(101)
    X_before, y_before = X.copy(), y.copy()
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.2, seed=1)
    assert len(X_te) == math.ceil(0.2 * 101) == 21 and len(X_tr) == 80
    ids = np.concatenate([X_tr[:, 0], X_te[:, 0]])
    assert sorted(ids.tolist()) == list(range(101))
    np.testing.assert_array_equal(y_tr, X_tr[:, 0] * 10)  # rows stay paired
    np.testing.assert_array_equal(y_te, X_te[:, 0] * 10)
    np.testing.assert_array_equal(X, X_before)  # the inputs are untouched
    np.testing.assert_array_equal(y, y_before)
    again = data.train_test_split(X, y, test_size=0.2, seed=1)
    np.testing.assert_array_equal(again[1], X_te)
    X_tr, X_te, *_ = data.train_test_split(X, y, test_size=5, shuffle=False)
    assert X_te[:, 0].tolist() == [96, 97, 98, 99, 100]


def test_stratified_split_keeps_class_shares():
    X, y = data.load_digits()
    _, _, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    assert len(y_te) == math.ceil(0.25 * 1797)
    share = np.bincount(y_te) / np.bincount(y)
    assert np.all(np.abs(share - 0.25) < 0.01)


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((np.zeros((5, 2)), np.zeros(4)), {}, ValueError, "5 rows in X and 4 in y"),
        ((np.zeros((1, 2)), np.zeros(1)), {}, ValueError, "at least 2 samples"),
        ((np.zeros((5, 2)), np.zeros(5)), {"test_size": 0.0}, ValueError, r"fraction in \(0, 1\)"),
        ((np.zeros((5, 2)), np.zeros(5)), {"test_size": 1.0}, ValueError, r"fraction in \(0, 1\)"),
        ((np.zeros((5, 2)), np.zeros(5)), {"test_size": 5}, ValueError, "between 1 and 4"),
        ((np.zeros((5, 2)), np.zeros(5)), {"test_size": "a"}, TypeError, "test_size must be"),
        ((np.zeros((5, 2)), np.zeros(5)), {"test_size": 0.9}, ValueError, "no training data"),
    ],
)
def test_train_test_split_errors(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        data.train_test_split(*args, **kwargs)


# ----------------------------------------------------------------------------- scaling


def test_standardize_uses_training_statistics_for_test_data():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 3.0, size=(50, 3))
    X_test = rng.normal(5.0, 3.0, size=(20, 3))
    before = X_test.copy()
    Z, mean, std = data.standardize(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    Z_test, m2, s2 = data.standardize(X_test, mean, std)
    np.testing.assert_allclose(Z_test, (X_test - X_train.mean(0)) / X_train.std(0))
    np.testing.assert_array_equal(m2, mean)
    np.testing.assert_array_equal(X_test, before)
    scaler = data.Standardizer().fit(X_train)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X_test)), X_test)


def test_standardize_constant_column_and_errors():
    X = np.column_stack([np.full(4, 7.0), [1.0, 2.0, 3.0, 4.0]])
    Z, _, std = data.standardize(X)
    assert std[0] == 1.0 and np.all(Z[:, 0] == 0)
    with pytest.raises(ValueError, match="1-D array of shape"):
        data.standardize(np.arange(4.0))
    with pytest.raises(ValueError, match="both mean and std"):
        data.standardize(X, mean=np.zeros(2))
    with pytest.raises(ValueError, match="rows of shape"):
        data.standardize(np.zeros((3, 3)), np.zeros(2), np.ones(2))
    with pytest.raises(RuntimeError, match="call fit"):
        data.Standardizer().transform(X)
    with pytest.raises(ValueError, match="std must be finite and positive"):
        data.standardize(X, np.zeros(2), np.zeros(2))


# ----------------------------------------------------------------------------- batching


def test_iterations_per_epoch():
    assert data.iterations_per_epoch(1000, 100) == 10
    assert len(data.DataLoader(np.zeros((1000, 2)), np.zeros(1000), 100)) == 10
    assert data.iterations_per_epoch(1001, 100) == 11
    assert data.iterations_per_epoch(1001, 100, drop_last=True) == 10
    assert data.iterations_per_epoch(1000, None) == 1
    assert data.iterations_per_epoch(7, 1) == 7
    assert data.iterations_per_epoch(7, 50) == 1


def test_loader_visits_every_row_once_per_epoch_in_a_new_order():
    X, y = numbered(23)
    loader = data.DataLoader(X, y, 5, seed=3)
    epochs = []
    for _ in range(2):
        rows = [xb[:, 0] for xb, _ in loader]
        assert [len(r) for r in rows] == [5, 5, 5, 5, 3]
        order = np.concatenate(rows)
        assert sorted(order.tolist()) == list(range(23))
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1])
    again = data.DataLoader(X, y, 5, seed=3)
    np.testing.assert_array_equal(np.concatenate([xb[:, 0] for xb, _ in again]), epochs[0])
    for xb, yb in data.batches(X, y, 4, seed=0):
        np.testing.assert_array_equal(yb, xb[:, 0] * 10)


def test_loader_modes():
    X, y = numbered(6)
    full = list(data.DataLoader(X, y, None))
    assert len(full) == 1 and full[0][0][:, 0].tolist() == list(range(6))  # not shuffled
    single = list(data.DataLoader(X, y, 1, shuffle=False))
    assert [b[0][0, 0] for b in single] == list(range(6))
    dropped = list(data.DataLoader(X, y, 4, drop_last=True, shuffle=False))
    assert len(dropped) == 1 and len(dropped[0][0]) == 4
    assert all(yb is None for _, yb in data.DataLoader(X, None, 2))


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((np.zeros((5, 1)), np.zeros(5), 0), {}, ValueError, "batch_size must be a positive"),
        ((np.zeros((5, 1)), np.zeros(5), -2), {}, ValueError, "got -2"),
        ((np.zeros((5, 1)), np.zeros(5), 2.5), {}, TypeError, "batch_size must be a positive"),
        ((np.zeros((0, 1)), np.zeros(0), 2), {}, ValueError, "empty"),
        ((np.zeros((5, 1)), np.zeros(4), 2), {}, ValueError, "5 rows in X and 4 in y"),
        ((np.zeros((5, 1)), np.zeros(5), 8), {"drop_last": True}, ValueError, "no batch"),
        ((np.array(["a", "b"]),), {}, TypeError, "must hold numbers"),
    ],
)
def test_loader_errors(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        data.DataLoader(*args, **kwargs)


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    assert data.one_hot(np.array([1]), 4).shape == (1, 4)
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        data.one_hot(np.array([2]), 2)
    with pytest.raises(ValueError, match="integer labels"):
        data.one_hot(np.array([0.5]))


# ----------------------------------------------------------------------------- hostile arguments

TWO_D = [data.moons, data.circles, data.spirals, data.xor, data.glasses_vs_ring]


@pytest.mark.parametrize("make", TWO_D, ids=lambda f: f.__name__)
@pytest.mark.parametrize("noise", [1e308, 1e5, 100.5])
def test_2d_sets_refuse_absurd_noise(make, noise):
    with pytest.raises(ValueError) as info:
        make(50, noise=noise, seed=0)
    message = str(info.value)
    assert message.startswith(f"{make.__name__}: noise must be at most 100, got {noise:g}")
    assert "try 0.1" in message
    X, _ = make(50, noise=100.0, seed=0)  # the largest accepted noise stays finite
    assert np.isfinite(X).all()


@pytest.mark.parametrize(
    "make, kwargs, words",
    [
        (data.linear, {"slope": 1e308}, "linear: with slope=1e+308, intercept=15000.0"),
        (data.linear, {"slope": [1e308, 1e308]}, "the generated y holds 20 non-finite"),
        (data.linear, {"intercept": 1.7e308, "noise": 1e308}, "the generated y holds"),
        (data.spirals, {"turns": 1e308}, "spirals: with turns=1e+308, noise=0.02"),
    ],
)
def test_generators_refuse_arguments_whose_data_overflow(make, kwargs, words):
    with pytest.raises(ValueError, match=r"overflow float64\); use smaller arguments") as info:
        make(**kwargs)
    assert words in str(info.value)


def test_linear_refuses_a_range_wider_than_float64():
    with pytest.raises(ValueError, match=r"high - low overflows float64 \(low=-1e\+308"):
        data.linear(low=-1e308, high=1e308)


def test_standardize_refuses_a_nan_column_naming_it():
    X = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, np.nan]])
    for action, where in [
        (lambda: data.standardize(X), "standardize"),
        (lambda: data.standardize(X, np.zeros(2), np.ones(2)), "standardize"),
        (lambda: data.Standardizer().fit(X), "Standardizer.fit"),
        (lambda: data.Standardizer().fit(X[:1]).transform(X), "Standardizer.transform"),
    ]:
        with pytest.raises(ValueError) as info:
            action()
        assert str(info.value).startswith(
            f"{where}: column 1 of X holds 2 NaN or infinite value(s) (the first, nan, in row 1)"
        )
    with pytest.raises(ValueError, match=r"column 0 of X holds 1 .* \(the first, inf, in row 0"):
        data.standardize(np.array([[np.inf], [1.0]]))
    with pytest.raises(ValueError, match="mean must be finite"):
        data.standardize(np.ones((2, 1)), np.array([np.nan]), np.ones(1))


def test_standardize_refuses_a_column_whose_statistics_overflow():
    X = np.array([[1.0, 1e308], [2.0, -1e308], [3.0, 1.5e308]])
    with pytest.raises(ValueError) as info:
        data.standardize(X)
    assert str(info.value) == (
        "standardize: the mean or standard deviation of column 1 of X overflows float64 "
        "(its values reach 1.5e+308); divide the column by a large constant first"
    )
