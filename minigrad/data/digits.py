"""The UCI optical recognition of handwritten digits data set, bundled with minigrad.

1,797 grey-scale images of handwritten digits, 8 x 8 pixels, each pixel an integer
0..16 (the number of "on" pixels in a 4 x 4 block of the original 32 x 32 bitmap), with
their labels 0..9.  It is the test part ("optdigits.tes") of the data set.

Source and licence: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten
Digits", UCI Machine Learning Repository, 1998, https://doi.org/10.24432/C50P49,
licensed under Creative Commons Attribution 4.0 International (CC BY 4.0).
minigrad stores the numbers unchanged in ``digits.npz`` (uint8 pixels of shape
(1797, 8, 8) and uint8 labels of shape (1797,)) and loads them without network access.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_digits", "DIGITS_PATH", "DIGITS_CITATION"]

#: Where the bundled file lives (installed with the package as package data).
DIGITS_PATH = Path(__file__).with_name("digits.npz")

#: How to credit the data set (CC BY 4.0 requires attribution).
DIGITS_CITATION = (
    "Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits. "
    "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (CC BY 4.0)"
)


def load_digits(
    *, scale: bool = True, return_images: bool = False
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load the bundled handwritten digits: ``X, y`` (or ``X, y, images``).

    ``X`` is float64 of shape (1797, 64), each row an image read row by row; with
    ``scale=True`` (the default) the pixels are divided by 16 so they lie in [0, 1],
    with ``scale=False`` they are the raw counts 0..16.  ``y`` is int64 of shape (1797,)
    with the digit 0..9.  With ``return_images=True`` a third array, the images as float64
    of shape (1797, 8, 8) (scaled like ``X``), is returned as well.  Every call returns
    new arrays.

    Raises FileNotFoundError if the bundled file is missing (a broken installation).
    """
    if not DIGITS_PATH.exists():
        raise FileNotFoundError(
            f"load_digits: the bundled data file {DIGITS_PATH} is missing; reinstall minigrad "
            "(the file is package data and needs no network)"
        )
    with np.load(DIGITS_PATH, allow_pickle=False) as stored:
        pixels = stored["pixels"]
        labels = stored["labels"]
    images = pixels.astype(np.float64)
    if scale:
        images /= 16.0
    X = images.reshape(len(images), 64)
    y = labels.astype(np.int64)
    if return_images:
        return X, y, images.copy()
    return X, y
