"""Data sets for training: seeded synthetic problems, the bundled digits, and the tools
to split, standardise and batch them.  Nothing here ever uses the network.

>>> from minigrad import data
>>> X, y = data.linear()          # the apartment-price example: 20 apartments
>>> X.shape, y.shape
((20, 1), (20,))
>>> X, y = data.load_digits()     # 1,797 handwritten digits, 8 x 8 pixels
>>> X.shape
(1797, 64)

The digits are the UCI "Optical Recognition of Handwritten Digits" data set by
E. Alpaydin and C. Kaynak (UCI Machine Learning Repository, CC BY 4.0).
"""

from minigrad.data.builtin import DATASETS, load_dataset
from minigrad.data.digits import DIGITS_CITATION, load_digits
from minigrad.data.synthetic import circles, glasses_vs_ring, linear, moons, spirals, xor
from minigrad.data.utils import (
    DataLoader,
    Standardizer,
    batches,
    iterations_per_epoch,
    one_hot,
    standardize,
    train_test_split,
)

# Spelled out, as in minigrad/__init__.py (utils.py lists some of the same names).
__all__ = [
    "linear",
    "moons",
    "circles",
    "spirals",
    "xor",
    "glasses_vs_ring",
    "load_digits",
    "DIGITS_CITATION",
    "load_dataset",
    "DATASETS",
    "train_test_split",
    "standardize",
    "Standardizer",
    "DataLoader",
    "batches",
    "iterations_per_epoch",
    "one_hot",
]
