"""Training recipes for the built-in data sets: the model, optimizer and stopping rule
``minigrad train`` uses for each (``RECIPES``), and ``train_recipe``, which runs one from
the data to the test score.  The command, ``minigrad demo`` and notebook 4 call it, so
they all train the very same way (and ``classic_neuron`` is the one neuron they all
draw)::

    from minigrad.recipes import train_recipe

    run = train_recipe("moons", seed=0, verbose=False)
    run.test["accuracy"], run.history.stop_reason
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad.data.builtin import load_dataset

__all__ = [
    "RECIPES",
    "classic_neuron",
    "RecipeResult",
    "train_recipe",
    "describe_mlp",
    "output_size",
    "loss_and_metrics",
]

#: The defaults of each data set: the hidden layers of the MLP, the optimizer and its
#: learning rate, the epochs and the early-stopping patience (0: none).  Classification
#: sets train on cross-entropy and report accuracy; ``linear`` (the apartment-price
#: example) is regression on the mean squared error, with a linear model and plain
#: gradient descent, as in the learning-rate experiment.
RECIPES: dict[str, dict[str, Any]] = {
    "linear": dict(hidden=[], optimizer="sgd", lr=5e-5, epochs=200, patience=0),
    "moons": dict(hidden=[16, 16], optimizer="adam", lr=0.02, epochs=300, patience=30),
    "circles": dict(hidden=[16, 16], optimizer="adam", lr=0.02, epochs=300, patience=30),
    "spirals": dict(hidden=[32, 32], optimizer="adam", lr=0.01, epochs=500, patience=50),
    "xor": dict(hidden=[16, 16], optimizer="adam", lr=0.02, epochs=300, patience=30),
    "digits": dict(hidden=[64], optimizer="adam", lr=0.005, epochs=40, patience=8,
                   batch_size=64),
}  # fmt: skip


@dataclass
class RecipeResult:
    """What ``train_recipe`` did: the trained model, its History, and the scores.

    ``train``, ``validation`` and ``test`` are ``evaluate``'s dictionaries ("loss" and the
    metric) on each part of the data, measured after training (``validation`` is empty
    without a validation split).  ``X_train`` etc. are the parts as the model saw them
    (standardised for the digits, by ``scaler``).
    """

    dataset: str
    task: str
    model: Any
    description: str
    optimizer: str
    lr: float
    loss: str
    metrics: list[str]
    history: Any = field(repr=False)
    seconds: float
    train: dict[str, float]
    validation: dict[str, float]
    test: dict[str, float]
    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    scaler: Any = field(default=None, repr=False)


def describe_mlp(nin: int, sizes: list[int], activation: str = "relu", dropout: float = 0.0) -> str:
    """The MLP in words, e.g. "MLP(2 -> 16 -> 16 -> 2), relu" ("(linear)" without hidden
    layers)."""
    arrows = " -> ".join(str(n) for n in [nin, *sizes])
    extra = f", {activation}" if len(sizes) > 1 else " (linear)"
    return f"MLP({arrows}){extra}" + (f", dropout {dropout:g}" if dropout else "")


def output_size(y: np.ndarray, classification: bool) -> int:
    """The model's number of outputs: one per class (the labels run 0 .. max), or one."""
    return int(np.max(y)) + 1 if classification else 1


def loss_and_metrics(classification: bool) -> tuple[str, list[str]]:
    """The loss and metrics of a task: cross-entropy and accuracy, or MSE and RMSE."""
    return ("cross_entropy", ["accuracy"]) if classification else ("mse", ["rmse"])


def train_recipe(
    dataset: str,
    *,
    hidden: list[int] | None = None,
    activation: str = "relu",
    dropout: float = 0.0,
    optimizer: str | None = None,
    lr: float | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    patience: int | None = None,
    val_split: float = 0.2,
    seed: int = 0,
    verbose: bool = True,
    print_every: int | None = None,
    model_kind: str = "mlp",
) -> RecipeResult:
    """Train a model on a built-in data set with its recipe; any argument given replaces
    the recipe's default.

    The steps: ``load_dataset(dataset, seed)``; a stratified split (for classification)
    into 75% training and 25% test, then ``val_split`` of the training part kept for
    validation; the digits standardised with the training part's statistics; an
    ``nn.MLP`` of the recipe's hidden sizes (``model_kind="cnn"``: the library's CNN and
    its recipe, ``nn.models.cnn_recipe``, digits only, else ValueError); ``fit`` with
    "adam" or "sgd", early stopping after ``patience`` epochs without progress (0: none),
    restoring the best weights when there is validation data; last, ``evaluate`` on each
    part.  ``seed`` fixes the data, the split, the initial weights and the batch order.
    """
    from minigrad import data, nn, optim
    from minigrad.train import evaluate, fit

    if model_kind not in ("mlp", "cnn"):
        raise ValueError(f"train_recipe: model_kind must be 'mlp' or 'cnn', got {model_kind!r}")
    X, y, classification = load_dataset(dataset, seed)
    recipe = RECIPES[dataset]
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.25, seed=seed, stratify=classification
    )
    validation = None
    if val_split > 0:
        X_train, X_val, y_train, y_val = data.train_test_split(
            X_train, y_train, test_size=val_split, seed=seed, stratify=classification
        )
        validation = (X_val, y_val)
    scaler = None
    if dataset == "digits":
        scaler = data.Standardizer().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        if validation is not None:
            validation = (scaler.transform(validation[0]), validation[1])
    if model_kind == "cnn":
        model, recipe = nn.models.cnn_recipe(dataset, seed=seed)
        description = recipe["description"]
    else:
        sizes = [*(recipe["hidden"] if hidden is None else hidden), output_size(y, classification)]
        model = nn.MLP(X.shape[1], sizes, activation=activation, dropout=dropout, seed=seed)
        description = describe_mlp(X.shape[1], sizes, activation, dropout)
    optimizer = optimizer or recipe["optimizer"]
    lr = lr if lr is not None else recipe["lr"]
    maker = optim.Adam if optimizer == "adam" else optim.SGD
    patience = recipe["patience"] if patience is None else patience
    loss, metrics = loss_and_metrics(classification)
    started = time.perf_counter()
    history = fit(
        model,
        X_train,
        y_train,
        loss=loss,
        optimizer=maker(model.parameters(), lr=lr),
        epochs=epochs or recipe["epochs"],
        batch_size=batch_size if batch_size is not None else recipe.get("batch_size"),
        seed=seed,
        validation_data=validation,
        metrics=metrics,
        patience=patience or None,
        restore_best_weights=bool(patience) and val_split > 0,
        verbose=verbose,
        print_every=print_every,
    )
    seconds = time.perf_counter() - started

    def scores(X_part: np.ndarray, y_part: np.ndarray) -> dict[str, float]:
        return evaluate(model, X_part, y_part, loss=loss, metrics=metrics)

    return RecipeResult(
        dataset=dataset,
        task="classification" if classification else "regression",
        model=model,
        description=description,
        optimizer=optimizer,
        lr=lr,
        loss=loss,
        metrics=metrics,
        history=history,
        seconds=seconds,
        train=scores(X_train, y_train),
        validation=scores(*validation) if validation else {},
        test=scores(X_test, y_test),
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        scaler=scaler,
    )


def classic_neuron(backward: bool = True) -> Any:
    """The neuron every backprop lecture draws: ``o = tanh(x1*w1 + x2*w2 + b)`` with
    x1 = 2, x2 = 0, w1 = -3, w2 = 1 and b chosen so that n = 0.8814 and o = 0.7071, every
    Value named.  With ``backward=True`` its gradients are filled in (do/dw1 = 1.0)."""
    from minigrad.value import Value

    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    n = x1 * w1 + x2 * w2 + b
    n.name = "n"
    o = n.tanh()
    o.name = "o"
    if backward:
        o.backward()
    return o
