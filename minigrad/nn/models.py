"""Ready-made models with their training recipes, shared by the command, the notebooks,
the tests and the benchmarks (so that each runs the very same network)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.nn.conv_layers import Conv2d, Flatten, Linear, MaxPool2d, Unflatten
from minigrad.nn.layers import ReLU
from minigrad.nn.module import Sequential

__all__ = ["digits_cnn", "DIGITS_CNN_RECIPE", "cnn_recipe"]

#: How the digits CNN is trained: the recipe measured in PyTorch (mean test accuracy
#: 97.4%, standard deviation 0.9%, over 200 initialisations).
DIGITS_CNN_RECIPE: dict[str, Any] = dict(optimizer="adam", lr=0.01, epochs=15, batch_size=64)


def digits_cnn(seed: Any = None, rng: Any = None, dtype: Any = np.float32) -> Sequential:
    """A small CNN for the bundled 8x8 digits: rows of 64 pixels -> 10 class scores.

    Unflatten to (1, 8, 8) -> Conv2d(1, 8, 3, padding=1) -> ReLU -> MaxPool2d(2) (8x4x4)
    -> Conv2d(8, 16, 3, padding=1) -> ReLU -> MaxPool2d(2) (16x2x2) -> Flatten (64) ->
    Linear(64, 10).  1,898 parameters, PyTorch's initialisation; float32 by default.
    Train it with ``DIGITS_CNN_RECIPE`` (Adam, lr 0.01, 15 epochs, batch 64).
    """
    from minigrad.nn.init import make_rng

    if seed is not None and rng is not None:
        raise ValueError("digits_cnn: pass either seed or rng, not both")
    gen = make_rng(rng if rng is not None else seed, what="seed/rng")
    return Sequential(
        Unflatten(1, (1, 8, 8)),
        Conv2d(1, 8, 3, padding=1, rng=gen, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Conv2d(8, 16, 3, padding=1, rng=gen, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(64, 10, rng=gen, dtype=dtype),
    )


def cnn_recipe(dataset: str, seed: Any = None) -> tuple[Sequential, dict[str, Any]]:
    """The CNN for a built-in data set and its training recipe (optimizer, lr, epochs,
    batch_size, patience, description), for ``minigrad train --model cnn``.

    Only the 8x8 digits are images; any other data set raises ValueError saying so.
    """
    if dataset != "digits":
        raise ValueError(
            f"--model cnn needs images; of the built-in data sets only 'digits' has them, "
            f"not {dataset!r}"
        )
    recipe = dict(
        DIGITS_CNN_RECIPE,
        patience=0,  # a fixed 15 epochs, as the PyTorch measurement
        description="CNN(conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2, "
        "linear 64->10), float32",
    )
    return digits_cnn(seed=seed), recipe
