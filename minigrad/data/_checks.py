"""Argument checks shared by the data generators and utilities (one clear message each)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


# nn.init.make_rng reads a seed the same way, but not under the same contract: there None
# means fresh entropy, here it is refused; and the data package never imports nn.
def rng_from(seed: Any, where: str) -> np.random.Generator:
    """A numpy Generator from an integer seed or an existing Generator.

    ``None`` is refused on purpose: every random draw in minigrad is reproducible.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{where}: seed must be an integer or a numpy.random.Generator, got "
            f"{type(seed).__name__} {seed!r} (pass e.g. seed=0 so the result is reproducible)"
        )
    if seed < 0:
        raise ValueError(f"{where}: seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))


def positive_int(value: Any, name: str, where: str) -> int:
    """``value`` as an int, checking that it is an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{where}: {name} must be a positive integer, got {type(value).__name__} {value!r}"
        )
    if value <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value}")
    return int(value)


def non_negative(value: Any, name: str, where: str) -> float:
    """``value`` as a float, checking that it is a finite number >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value}")
    return value


def finite(value: Any, name: str, where: str) -> float:
    """``value`` as a finite float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value}")
    return value


def as_features(X: Any, where: str, name: str = "X") -> np.ndarray:
    """X as a numeric numpy array with at least one dimension (not copied when possible)."""
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must hold numbers, got an array of dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{where}: {name} must have one row per sample, got a scalar")
    return array


def same_length(X: np.ndarray, y: np.ndarray, where: str) -> None:
    if len(X) != len(y):
        raise ValueError(
            f"{where}: X and y must have the same number of samples, got {len(X)} rows in X "
            f"and {len(y)} in y"
        )


#: The largest ``noise`` the 2-D classification sets accept.  Their shapes lie within a
#: few units of the origin, so noise of 100 already hides the classes completely; more
#: is a typo (1e308 would overflow to inf).
MAX_NOISE_2D = 100.0


def noise_2d(value: Any, where: str) -> float:
    """``noise`` of a 2-D classification set: finite, >= 0 and at most ``MAX_NOISE_2D``."""
    noise = non_negative(value, "noise", where)
    if noise > MAX_NOISE_2D:
        raise ValueError(
            f"{where}: noise must be at most {MAX_NOISE_2D:g}, got {noise:g}; the points lie "
            "within a few units of the origin, so noise of even 10 hides the classes (noise "
            "is the standard deviation added to each coordinate; try 0.1)"
        )
    return noise


def finite_result(where: str, arrays: dict[str, np.ndarray], arguments: dict[str, Any]) -> None:
    """Refuse generated data that overflowed: name the array and the arguments used."""
    for name, array in arrays.items():
        bad = ~np.isfinite(array)
        if bad.any():
            given = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
            raise ValueError(
                f"{where}: with {given} the generated {name} holds {int(bad.sum())} "
                "non-finite values (the numbers overflow float64); use smaller arguments"
            )


def finite_columns(X: np.ndarray, where: str, name: str = "X") -> None:
    """Refuse NaN or infinite entries in the float array ``X``, naming the first column."""
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    rows, columns = np.nonzero(bad.reshape(len(X), -1))
    column = int(columns[0])
    count = int(bad.reshape(len(X), -1)[:, column].sum())
    value = X.reshape(len(X), -1)[rows[0], column]
    raise ValueError(
        f"{where}: column {column} of {name} holds {count} NaN or infinite value(s) (the "
        f"first, {value}, in row {int(rows[0])}); remove or impute them first (one NaN makes "
        "the column's mean and standard deviation NaN, and every value of the column with "
        "them)"
    )
