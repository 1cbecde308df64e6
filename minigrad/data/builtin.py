"""The built-in data sets by name: what ``minigrad train --dataset NAME`` trains on, and
what the training recipes (``minigrad.recipes``) and the notebooks load.

>>> from minigrad import data
>>> X, y, classification = data.load_dataset("moons", seed=0)
>>> X.shape, classification
((300, 2), True)
"""

from __future__ import annotations

import numpy as np

from minigrad.data.digits import load_digits
from minigrad.data.synthetic import circles, linear, moons, spirals, xor

__all__ = ["DATASETS", "TASKS", "load_dataset"]

#: The task of each named data set: ``linear`` is the apartment-price example (regression,
#: 20 apartments); the others are classification.
TASKS: dict[str, str] = {
    "linear": "regression",
    "moons": "classification",
    "circles": "classification",
    "spirals": "classification",
    "xor": "classification",
    "digits": "classification",
}

#: The names ``load_dataset`` knows, in the order the command lists them.
DATASETS: tuple[str, ...] = tuple(TASKS)

#: How many points the generated classification sets have.
SAMPLES = 300


def load_dataset(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, bool]:
    """``X, y, classification`` for the data set called ``name`` (one of ``DATASETS``).

    The generated sets are drawn with ``seed``: "moons" (300 points, noise 0.2),
    "circles" (300, noise 0.1), "spirals" (300, three arms), "xor" (300, noise 0.05)
    and "linear" (the 20 apartments).  "digits" is the bundled 8 x 8 handwritten digits
    (1,797 images as rows of 64 pixels; ``seed`` does not apply).  Raises ValueError for
    any other name.
    """
    if name not in TASKS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "linear":
        X, y = linear(seed=seed)
    elif name == "digits":
        X, y = load_digits()
    elif name == "moons":
        X, y = moons(SAMPLES, noise=0.2, seed=seed)
    elif name == "circles":
        X, y = circles(SAMPLES, noise=0.1, seed=seed)
    elif name == "spirals":
        X, y = spirals(SAMPLES, seed=seed)
    else:
        X, y = xor(SAMPLES, noise=0.05, seed=seed)
    return X, y, TASKS[name] == "classification"
