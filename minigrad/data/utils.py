"""Splitting, standardising and batching numpy data sets.

None of these functions changes the arrays it is given: they return new arrays.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad.data._checks import (
    as_features,
    finite_columns,
    positive_int,
    rng_from,
    same_length,
)

__all__ = [
    "train_test_split",
    "standardize",
    "Standardizer",
    "DataLoader",
    "batches",
    "iterations_per_epoch",
    "one_hot",
]


# ----------------------------------------------------------------------------- splitting


def train_test_split(
    X: Any,
    y: Any,
    *,
    test_size: float | int = 0.25,
    seed: int | np.random.Generator = 0,
    shuffle: bool = True,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` into a training and a test part: ``X_train, X_test, y_train, y_test``.

    ``test_size`` is a fraction in (0, 1) (the test part gets ``ceil(test_size * n)``
    samples) or a number of samples in ``1 .. n-1``.  The rows are drawn at random with
    ``seed`` (``shuffle=False`` keeps the order and takes the last rows as the test part).
    ``stratify=True`` keeps each class's share of ``y`` the same in both parts (each class
    is split on its own, the rounding spread over the classes).

    Raises ValueError when X and y differ in length, when there are fewer than two
    samples, or when ``test_size`` leaves either part empty.
    """
    where = "train_test_split"
    X = as_features(X, where)
    y = as_features(y, where, "y")
    same_length(X, y, where)
    n = len(X)
    if n < 2:
        raise ValueError(f"{where}: need at least 2 samples to split, got {n}")
    n_test = _test_count(test_size, n, where)
    rng = rng_from(seed, where)
    if stratify:
        if not shuffle:
            raise ValueError(f"{where}: stratify=True needs shuffle=True")
        test_index = _stratified_test_rows(y, n_test, rng, where)
        is_test = np.zeros(n, dtype=bool)
        is_test[test_index] = True
        train_index = rng.permutation(np.flatnonzero(~is_test))
        test_index = rng.permutation(test_index)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train_index, test_index = order[: n - n_test], order[n - n_test :]
    return X[train_index], X[test_index], y[train_index], y[test_index]


def _test_count(test_size: Any, n: int, where: str) -> int:
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise TypeError(
            f"{where}: test_size must be a fraction in (0, 1) or a number of samples, "
            f"got {test_size!r}"
        )
    if isinstance(test_size, numbers.Integral):
        count = int(test_size)
        if not 1 <= count <= n - 1:
            raise ValueError(
                f"{where}: test_size={count} samples leaves an empty part; with {n} samples "
                f"it must be between 1 and {n - 1}"
            )
        return count
    fraction = float(test_size)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{where}: test_size must be a fraction in (0, 1), got {fraction}")
    count = math.ceil(fraction * n)
    if count >= n:
        raise ValueError(f"{where}: test_size={fraction} of {n} samples leaves no training data")
    return count


def _stratified_test_rows(
    y: np.ndarray, n_test: int, rng: np.random.Generator, where: str
) -> np.ndarray:
    if y.ndim != 1:
        raise ValueError(f"{where}: stratify=True needs 1-D class labels, got y of shape {y.shape}")
    classes, codes = np.unique(y, return_inverse=True)
    counts = np.bincount(codes, minlength=len(classes))
    share = counts * (n_test / len(y))
    take = np.floor(share).astype(int)
    # Hand the rows still missing to the classes with the largest rounding remainders.
    missing = n_test - int(take.sum())
    for k in np.argsort(-(share - take), kind="stable")[:missing]:
        take[k] += 1
    rows = []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(codes == k))
        rows.append(members[: take[k]])
    return np.concatenate(rows)


# ----------------------------------------------------------------------------- scaling


class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1, with statistics learned once.

    ``fit(X_train)`` stores ``mean = X_train.mean(0)`` and ``std = X_train.std(0)``
    (population standard deviation, ddof=0); ``transform(X) = (X - mean) / std``;
    ``inverse_transform(Z) = Z * std + mean``.  Fit on the training data only and apply
    the same statistics to validation and test data, so no information leaks from them.
    A constant feature has std 0; its std is stored as 1 so it maps to 0 instead of NaN.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn the mean and standard deviation of each column of ``X``; returns self.

        Raises ValueError for NaN or infinite entries (impute them first) and for columns
        whose statistics overflow float64."""
        return self._fit(X, "Standardizer.fit")

    def _fit(self, X: Any, where: str) -> Standardizer:
        X = _float_rows(X, where)
        if len(X) == 0:
            raise ValueError(f"{where}: X has no rows")
        finite_columns(X, where)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = X.mean(axis=0), X.std(axis=0)
        overflowed = ~(np.isfinite(mean) & np.isfinite(std))
        if overflowed.any():
            column = tuple(int(i) for i in np.argwhere(overflowed)[0])
            column_text = column[0] if len(column) == 1 else column
            largest = np.max(np.abs(X[(slice(None), *column)]))
            raise ValueError(
                f"{where}: the mean or standard deviation of column {column_text} of X "
                f"overflows float64 (its values reach {largest:g}); divide the column by a "
                "large constant first"
            )
        self.mean = mean
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean) / std`` with the fitted statistics (a new array); NaN or infinite
        entries are refused, as in ``fit``."""
        X = self._checked(X, "transform")
        finite_columns(X, "Standardizer.transform")
        return (X - self.mean) / self.std

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * std + mean``: back to the original units."""
        Z = self._checked(Z, "inverse_transform")
        return Z * self.std + self.mean

    def _checked(self, X: Any, method: str) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{method}: call fit(X_train) first")
        X = _float_rows(X, f"Standardizer.{method}")
        if X.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardizer.{method}: X has rows of shape {X.shape[1:]}, but the "
                f"statistics were fitted on rows of shape {self.mean.shape}"
            )
        return X

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean={self.mean}, std={self.std})"


def standardize(
    X: Any, mean: Any = None, std: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(Z, mean, std)`` with ``Z = (X - mean) / std`` column by column.

    Without ``mean`` and ``std`` they are computed from ``X`` (std with ddof=0; a constant
    column gets std 1).  Pass the training set's ``mean`` and ``std`` to standardise
    validation or test data with the *training* statistics::

        Z_train, mean, std = standardize(X_train)
        Z_test, _, _ = standardize(X_test, mean, std)
    """
    if (mean is None) != (std is None):
        raise ValueError("standardize: pass both mean and std, or neither")
    finite_columns(_float_rows(X, "standardize"), "standardize")
    scaler = Standardizer()
    if mean is None:
        scaler._fit(X, "standardize")
    else:
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        if mean.shape != std.shape:
            raise ValueError(
                f"standardize: mean has shape {mean.shape} but std has shape {std.shape}"
            )
        if np.any(~np.isfinite(std)) or np.any(std <= 0):
            raise ValueError("standardize: std must be finite and positive")
        if np.any(~np.isfinite(mean)):
            raise ValueError("standardize: mean must be finite")
        scaler.mean, scaler.std = mean, std
    return scaler.transform(X), scaler.mean.copy(), scaler.std.copy()


def _float_rows(X: Any, where: str) -> np.ndarray:
    X = as_features(X, where)
    if X.ndim == 1:
        raise ValueError(
            f"{where}: X must have one row per sample, shape (n_samples, n_features); got a "
            f"1-D array of shape {X.shape} (use X.reshape(-1, 1) for a single feature)"
        )
    return X.astype(np.float64, copy=False)


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Integer labels ``y`` (shape (n,)) as a float64 matrix of shape (n, num_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iub":
        raise ValueError(
            f"one_hot: y must be a 1-D array of integer labels, got a {y.dtype} array of "
            f"shape {y.shape}"
        )
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot: labels must be >= 0, got {y.min()}")
    if num_classes is None:
        k = int(y.max()) + 1 if y.size else 0
    else:
        k = positive_int(num_classes, "num_classes", "one_hot")
    if y.size and y.max() >= k:
        raise ValueError(f"one_hot: label {y.max()} does not fit num_classes={k}")
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


# ----------------------------------------------------------------------------- batching


def iterations_per_epoch(n_samples: int, batch_size: int | None, drop_last: bool = False) -> int:
    """How many parameter updates one pass over ``n_samples`` makes: ``ceil(n / batch_size)``.

    ``batch_size=None`` means full batch (1 iteration); ``drop_last=True`` drops the last,
    incomplete batch (``floor(n / batch_size)``).  1000 samples with batch 100 -> 10.
    """
    n = positive_int(n_samples, "n_samples", "iterations_per_epoch")
    if batch_size is None:
        return 1
    b = positive_int(batch_size, "batch_size", "iterations_per_epoch")
    return n // b if drop_last else -(-n // b)


class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` pairs, one epoch per ``for`` loop.

    ``batch_size=None`` gives the whole set as one batch (full-batch gradient descent),
    ``batch_size=1`` one example at a time (stochastic gradient descent), anything in
    between mini-batches; the last batch may be smaller unless ``drop_last=True``.
    ``len(loader)`` is the number of iterations per epoch.

    With ``shuffle=True`` every epoch visits the rows in a new random order drawn from one
    Generator made from ``seed``, so the sequence of epochs is reproducible.  A single
    batch that holds every row is not shuffled (the order inside a batch does not change
    the mean gradient, and skipping it keeps full-batch runs bit-for-bit reproducible).
    The batches are new arrays; ``X`` and ``y`` are never changed.  ``y`` may be None.
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int | None = None,
        *,
        shuffle: bool = True,
        seed: int | np.random.Generator = 0,
        drop_last: bool = False,
    ) -> None:
        where = "DataLoader"
        self.X = as_features(X, where)
        self.y = None if y is None else as_features(y, where, "y")
        if self.y is not None:
            same_length(self.X, self.y, where)
        if len(self.X) == 0:
            raise ValueError(f"{where}: the data set is empty (X has 0 rows)")
        self.batch_size = (
            len(self.X) if batch_size is None else positive_int(batch_size, "batch_size", where)
        )
        self.drop_last = bool(drop_last)
        if self.drop_last and self.batch_size > len(self.X):
            raise ValueError(
                f"{where}: drop_last=True with batch_size={self.batch_size} > {len(self.X)} "
                "samples would give no batch at all"
            )
        self.shuffle = bool(shuffle)
        self.rng = rng_from(seed, where)

    def __len__(self) -> int:
        return iterations_per_epoch(len(self.X), self.batch_size, self.drop_last)

    def skip_epochs(self, epochs: int) -> None:
        """Advance the shuffling as if ``epochs`` epochs had been iterated, without making
        a batch: the next ``for`` loop visits the rows in the order epoch ``epochs + 1``
        would have.  ``fit(..., initial_epoch=k)`` resumes the shuffling this way."""
        if self.shuffle and self.batch_size < len(self.X):
            for _ in range(epochs):
                self.rng.permutation(len(self.X))  # the draw __iter__ makes per epoch

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        n, b = len(self.X), self.batch_size
        order = self.rng.permutation(n) if self.shuffle and b < n else np.arange(n)
        for start in range(0, len(self) * b, b):
            index = order[start : start + b]
            yield self.X[index], (None if self.y is None else self.y[index])

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.X)} samples, batch_size={self.batch_size}, "
            f"{len(self)} iterations per epoch, shuffle={self.shuffle})"
        )


# DataLoader's arguments spelled out again, so that help(batches) shows them.
def batches(
    X: Any,
    y: Any = None,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    seed: int | np.random.Generator = 0,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """One epoch of ``(X_batch, y_batch)`` pairs; see ``DataLoader`` for the arguments."""
    return iter(DataLoader(X, y, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last))
