"""Synthetic data sets with seeds: small problems whose answer you know.

Every generator returns ``(X, y)`` as numpy arrays: ``X`` float64 of shape
``(n_samples, n_features)``; ``y`` float64 of shape ``(n_samples,)`` for regression
(``linear``) or int64 class labels ``0 .. k-1`` for classification.  ``seed`` is an integer
or a ``numpy.random.Generator``; the same seed always gives the same data.  Classification
sets come shuffled (the classes are interleaved, not sorted), so that taking the first or
last rows as a validation set is not a trap.

``noise`` is always the standard deviation of Gaussian noise: added to the target for
``linear``, added to each coordinate of each point for the 2-D classification sets (which
accept at most 100: their shapes lie within a few units of the origin).  Arguments whose
data would overflow float64 (``moons(noise=1e308)``, ``linear(slope=1e308)``) are refused.

=================  ======================================================================
``linear``         the apartment-price example: price = 2500 * sqm + 15000 + N(0, 12000^2)
``moons``          two interleaving half circles
``circles``        a small circle inside a large one
``spirals``        k interleaved spiral arms
``xor``            the four quadrants, labelled by whether the signs of x0 and x1 differ
``glasses_vs_ring``  a pair of glasses (two lens frames and a bridge) inside a ring
=================  ======================================================================
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from minigrad.data._checks import (
    finite,
    finite_result,
    noise_2d,
    non_negative,
    positive_int,
    rng_from,
)

__all__ = ["linear", "moons", "circles", "spirals", "xor", "glasses_vs_ring"]


def linear(
    n_samples: int = 20,
    *,
    slope: float | Sequence[float] = 2500.0,
    intercept: float = 15000.0,
    noise: float = 12000.0,
    low: float = 30.0,
    high: float = 150.0,
    seed: int | np.random.Generator = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A linear regression problem; by default the apartment-price example.

    Each feature is drawn uniformly, ``x ~ U(low, high)``, then
    ``y = x @ slope + intercept + N(0, noise^2)``.  With the defaults, ``x`` is the floor
    area in square metres (30 to 150) and ``y`` the price: 2500 per square metre plus 15000,
    with a noise of standard deviation 12000; 20 apartments.

    ``slope`` may be a sequence, one coefficient per feature.  Returns ``X`` float64 of
    shape ``(n_samples, n_features)`` and ``y`` float64 of shape ``(n_samples,)``.  The
    features are drawn first, then the noise, from the same generator.

    Raises TypeError/ValueError for a non-positive ``n_samples``, a negative ``noise``,
    ``low >= high``, non-finite numbers, or numbers so large that the data overflow.
    """
    where = "linear"
    n = positive_int(n_samples, "n_samples", where)
    noise = non_negative(noise, "noise", where)
    low, high = finite(low, "low", where), finite(high, "high", where)
    if not low < high:
        raise ValueError(f"{where}: low must be smaller than high, got low={low}, high={high}")
    if not math.isfinite(high - low):
        raise ValueError(
            f"{where}: high - low overflows float64 (low={low:g}, high={high:g}); use a "
            "narrower range"
        )
    intercept = finite(intercept, "intercept", where)
    if isinstance(slope, numbers.Real) and not isinstance(slope, bool):
        slopes = np.array([finite(slope, "slope", where)])
    else:
        try:
            slopes = np.asarray(slope, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(
                f"{where}: slope must be a number or a sequence of numbers, got {slope!r}"
            ) from None
        if slopes.size == 0 or not np.all(np.isfinite(slopes)):
            raise ValueError(f"{where}: slope must be finite numbers, one per feature")
    rng = rng_from(seed, where)
    with np.errstate(over="ignore", invalid="ignore"):
        X = rng.uniform(low, high, size=(n, slopes.size))
        y = X @ slopes + intercept + rng.normal(0.0, noise, size=n)
    arguments = dict(slope=slope, intercept=intercept, noise=noise, low=low, high=high)
    finite_result(where, {"X": X, "y": y}, arguments)
    return X, y


def _two_classes(n: int) -> tuple[int, int]:
    """Sizes of two classes that share ``n`` samples (the first gets the extra one)."""
    return n - n // 2, n // 2


def _finish(
    points: list[np.ndarray], noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stack the classes, add coordinate noise, shuffle; labels are the list positions."""
    X = np.concatenate(points)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(points)])
    X = X + rng.normal(0.0, noise, size=X.shape) if noise > 0 else X
    order = rng.permutation(len(X))
    return np.ascontiguousarray(X[order], dtype=np.float64), y[order]


def moons(
    n_samples: int = 200, *, noise: float = 0.1, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles ("moons"), a classic non-linear two-class problem.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)``, with
    ``t ~ U(0, pi)``; then Gaussian noise of standard deviation ``noise`` on each
    coordinate.  Returns ``X`` (n_samples, 2) float64 and ``y`` (n_samples,) int64 in {0, 1}.
    """
    where = "moons"
    n = positive_int(n_samples, "n_samples", where)
    noise = noise_2d(noise, where)
    rng = rng_from(seed, where)
    n0, n1 = _two_classes(n)
    t0 = rng.uniform(0.0, math.pi, size=n0)
    t1 = rng.uniform(0.0, math.pi, size=n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return _finish([upper, lower], noise, rng)


def circles(
    n_samples: int = 200,
    *,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | np.random.Generator = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1).

    Angles are uniform; Gaussian noise of standard deviation ``noise`` is added to each
    coordinate.  ``factor`` must lie strictly between 0 and 1.  Returns ``X``
    (n_samples, 2) float64 and ``y`` (n_samples,) int64 in {0, 1}.
    """
    where = "circles"
    n = positive_int(n_samples, "n_samples", where)
    noise = noise_2d(noise, where)
    factor = finite(factor, "factor", where)
    if not 0.0 < factor < 1.0:
        raise ValueError(
            f"{where}: factor (inner radius / outer radius) must be in (0, 1), got {factor}"
        )
    rng = rng_from(seed, where)
    n0, n1 = _two_classes(n)
    a0 = rng.uniform(0.0, 2 * math.pi, size=n0)
    a1 = rng.uniform(0.0, 2 * math.pi, size=n1)
    outer = np.column_stack([np.cos(a0), np.sin(a0)])
    inner = factor * np.column_stack([np.cos(a1), np.sin(a1)])
    return _finish([outer, inner], noise, rng)


# n_samples, the shape of the problem, noise and seed, in that order, as in every generator
# here: the signatures are alike by design.
def spirals(
    n_samples: int = 300,
    *,
    classes: int = 3,
    turns: float = 1.0,
    noise: float = 0.02,
    seed: int | np.random.Generator = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms winding out of the origin, one class per arm.

    Arm ``k`` is ``r * (cos theta, sin theta)`` with ``r ~ U(0, 1)`` and
    ``theta = 2 pi k / classes + 2 pi turns r``; Gaussian noise of standard deviation
    ``noise`` is added to each coordinate.  Near the origin the arms meet, so a few points
    there are ambiguous whatever the noise.  Returns ``X`` (n_samples, 2) float64 and ``y``
    (n_samples,) int64 in ``0 .. classes-1``.
    """
    where = "spirals"
    n = positive_int(n_samples, "n_samples", where)
    k = positive_int(classes, "classes", where)
    if k < 2:
        raise ValueError(f"{where}: classes must be at least 2, got {k}")
    turns = finite(turns, "turns", where)
    if turns <= 0:
        raise ValueError(f"{where}: turns must be positive, got {turns}")
    noise = noise_2d(noise, where)
    rng = rng_from(seed, where)
    sizes = [n // k + (1 if c < n % k else 0) for c in range(k)]
    arms = []
    with np.errstate(over="ignore", invalid="ignore"):
        for c, size in enumerate(sizes):
            r = rng.uniform(0.0, 1.0, size=size)
            theta = 2 * math.pi * c / k + 2 * math.pi * turns * r
            arms.append(r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))
    X, y = _finish(arms, noise, rng)
    finite_result(where, {"X": X}, dict(turns=turns, noise=noise))
    return X, y


def xor(
    n_samples: int = 200, *, noise: float = 0.05, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points uniform in the square [-1, 1]^2, labelled 1 when the signs
    of ``x0`` and ``x1`` differ (second and fourth quadrants), 0 otherwise.

    No single line separates the classes; one hidden layer does.  The labels are decided
    first, then Gaussian noise of standard deviation ``noise`` moves the points, so points
    near the axes may end up on the "wrong" side.  Returns ``X`` (n_samples, 2) float64
    and ``y`` (n_samples,) int64 in {0, 1}.
    """
    where = "xor"
    n = positive_int(n_samples, "n_samples", where)
    noise = noise_2d(noise, where)
    rng = rng_from(seed, where)
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    labels = (np.sign(points[:, 0]) != np.sign(points[:, 1])).astype(np.int64)
    if noise > 0:
        points = points + rng.normal(0.0, noise, size=points.shape)
    return points, labels


#: The geometry of ``glasses_vs_ring`` (in units of the outer ring's radius).
GLASSES = {
    "lens_centres": (-0.4, 0.4),  # x of the two lens centres (y = 0)
    "lens_radius": 0.25,
    "bridge_attach_angle": math.pi / 6,  # where the bridge leaves each lens (from +x, inward)
    "bridge_height": 0.18,  # y of the top of the bridge
    "ring_radii": (0.9, 1.0),
}


def glasses_vs_ring(
    n_samples: int = 300, *, noise: float = 0.02, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A pair of glasses inside a ring: class 1 is the glasses, class 0 the ring.

    The glasses are two lens frames (circles of radius 0.25 centred at (-0.4, 0) and
    (0.4, 0)) joined by a bridge (a parabolic arch from the top inner edge of one frame,
    at 30 degrees from the horizontal, to the other, peaking at y = 0.18).  The ring is
    the annulus 0.9 <= |x| <= 1.0 around the origin; it encloses the glasses, so no line
    separates the classes but a small MLP does (the glasses sit within radius 0.65).

    Half the samples (rounded up) are glasses, spread over the frames and the bridge in
    proportion to their lengths, so the drawing has an even density; Gaussian noise of
    standard deviation ``noise`` is added to each coordinate.  Returns ``X``
    (n_samples, 2) float64 and ``y`` (n_samples,) int64 (1 = glasses, 0 = ring).
    """
    where = "glasses_vs_ring"
    n = positive_int(n_samples, "n_samples", where)
    noise = noise_2d(noise, where)
    rng = rng_from(seed, where)
    n_glasses, n_ring = _two_classes(n)
    glasses = _glasses_points(n_glasses, rng)
    inner, outer = GLASSES["ring_radii"]
    angle = rng.uniform(0.0, 2 * math.pi, size=n_ring)
    radius = rng.uniform(inner, outer, size=n_ring)
    ring = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish([ring, glasses], noise, rng)


def _glasses_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points spread along the two lens frames and the bridge, by arc length."""
    left, right = GLASSES["lens_centres"]
    radius = GLASSES["lens_radius"]
    attach = GLASSES["bridge_attach_angle"]
    # The bridge: y = top - c * x^2 through both attachment points.
    x_end = right - radius * math.cos(attach)
    y_end = radius * math.sin(attach)
    top = GLASSES["bridge_height"]
    c = (top - y_end) / x_end**2
    xs = np.linspace(-x_end, x_end, 201)
    bridge_length = float(np.sum(np.hypot(np.diff(xs), np.diff(top - c * xs**2))))
    lens_length = 2 * math.pi * radius
    p_bridge = bridge_length / (bridge_length + 2 * lens_length)
    part = rng.choice(3, size=n, p=[(1 - p_bridge) / 2, (1 - p_bridge) / 2, p_bridge])
    points = np.empty((n, 2))
    for which, centre in ((0, left), (1, right)):
        mask = part == which
        angle = rng.uniform(0.0, 2 * math.pi, size=int(mask.sum()))
        points[mask] = np.column_stack([centre + radius * np.cos(angle), radius * np.sin(angle)])
    mask = part == 2
    # Uniform in arc length along the arch: invert the cumulative length numerically.
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(c * xs**2)))])
    x = np.interp(rng.uniform(0.0, cumulative[-1], size=int(mask.sum())), cumulative, xs)
    points[mask] = np.column_stack([x, top - c * x**2])
    return points
