"""Metrics of a model's predictions: the classification scores (accuracy, precision, recall,
F1, the confusion matrix and its picture) and the regression errors (MAE, MSE, RMSE).

Each takes the model's outputs and the targets as numpy arrays and returns a number;
``fit(metrics=[...])`` and ``evaluate`` find them by name in ``METRICS``, and
``METRIC_DIRECTIONS`` tells early stopping which way each one improves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.plots import finish_figure, new_figure

__all__ = [
    "predicted_classes",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "confusion_matrix",
    "plot_confusion_matrix",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "METRICS",
    "METRIC_DIRECTIONS",
]


def predicted_classes(prediction: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, true class) per example, as 1-D integer arrays.

    Several output columns: the predicted class is the argmax (logits or probabilities).
    One output (shape (n,) or (n, 1)): a logit or score, class 1 when it is > 0; if the
    targets use the labels -1/+1 (hinge loss) the prediction is -1 or +1, otherwise 0 or 1.
    """
    prediction = np.asarray(prediction)
    target = np.asarray(target).reshape(len(prediction), -1)[:, 0]
    if prediction.ndim == 2 and prediction.shape[1] > 1:
        predicted = prediction.argmax(axis=1)
    else:
        positive = prediction.reshape(len(prediction)) > 0
        negative_label = -1 if np.any(target == -1) else 0
        predicted = np.where(positive, 1, negative_label)
    return predicted.astype(np.int64), target.astype(np.int64)


def accuracy(prediction: np.ndarray, target: np.ndarray) -> float:
    """The fraction of examples whose predicted class equals the target class (the class
    read from the outputs as ``predicted_classes`` says)."""
    predicted, target = predicted_classes(prediction, target)
    return float(np.mean(predicted == target)) if len(predicted) else math.nan


def confusion_matrix(
    prediction: np.ndarray, target: np.ndarray, labels: Sequence[int] | None = None
) -> np.ndarray:
    """C[i, j] = how many examples of true class labels[i] were predicted as labels[j]
    (rows: truth, columns: prediction; scikit-learn's layout).  ``labels`` defaults to
    every class seen in either, sorted."""
    predicted, target = predicted_classes(prediction, target)
    if labels is None:
        labels = np.union1d(predicted, target)
    labels = [int(label) for label in labels]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(target, predicted):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix


def _per_class(prediction: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """(true positives, predicted positives, actual positives) per class.  One output
    column (a binary classifier): class 1 only.  Several columns: every class seen in the
    targets or the predictions (scikit-learn's macro average)."""
    predicted, target = predicted_classes(prediction, target)
    prediction = np.asarray(prediction)
    several = prediction.ndim == 2 and prediction.shape[1] > 1
    labels = np.union1d(predicted, target) if several else np.array([1])
    tp = np.array([np.sum((predicted == c) & (target == c)) for c in labels], dtype=float)
    predicted_positive = np.array([np.sum(predicted == c) for c in labels], dtype=float)
    actual_positive = np.array([np.sum(target == c) for c in labels], dtype=float)
    return tp, predicted_positive, actual_positive


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's
    zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)  # fmt: skip


def precision(prediction: np.ndarray, target: np.ndarray) -> float:
    """TP / (TP + FP): of the examples predicted positive, the share that are.  One
    output (a binary classifier): of class 1 (scikit-learn's average="binary"); several
    outputs: the mean over the classes (average="macro").  0 when nothing is predicted
    positive (zero_division=0)."""
    tp, predicted_positive, _ = _per_class(prediction, target)
    return float(np.mean(_ratio(tp, predicted_positive)))


def recall(prediction: np.ndarray, target: np.ndarray) -> float:
    """TP / (TP + FN): of the positive examples, the share found.  Averaged as
    ``precision``; 0 for a class with no example."""
    tp, _, actual_positive = _per_class(prediction, target)
    return float(np.mean(_ratio(tp, actual_positive)))


def f1(prediction: np.ndarray, target: np.ndarray) -> float:
    """2 · precision · recall / (precision + recall) = 2 TP / (2 TP + FP + FN), per class
    and then averaged as ``precision`` (macro F1 averages the per-class F1 scores)."""
    tp, predicted_positive, actual_positive = _per_class(prediction, target)
    return float(np.mean(_ratio(2 * tp, predicted_positive + actual_positive)))


def mean_absolute_error(prediction: np.ndarray, target: np.ndarray) -> float:
    """mean |prediction - target| (targets reshaped to the prediction's shape)."""
    prediction = np.asarray(prediction, dtype=np.float64)
    return float(np.mean(np.abs(prediction - np.asarray(target).reshape(prediction.shape))))


def mean_squared_error(prediction: np.ndarray, target: np.ndarray) -> float:
    """mean (prediction - target)^2."""
    prediction = np.asarray(prediction, dtype=np.float64)
    return float(np.mean((prediction - np.asarray(target).reshape(prediction.shape)) ** 2))


def root_mean_squared_error(prediction: np.ndarray, target: np.ndarray) -> float:
    """sqrt(mean (prediction - target)^2), in the units of the target."""
    return math.sqrt(mean_squared_error(prediction, target))


#: Metric names accepted by ``fit(metrics=[...])``; any callable(prediction, target) works too.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
    "rmse": root_mean_squared_error,
}

#: Which way each built-in quantity improves, for ``fit(mode="auto")``.  A metric
#: function of your own may say so itself with an attribute: ``f1.direction = "max"``.
METRIC_DIRECTIONS: dict[str, str] = {
    "loss": "min",
    "accuracy": "max",
    "precision": "max",
    "recall": "max",
    "f1": "max",
    "mae": "min",
    "mse": "min",
    "rmse": "min",
}


def plot_confusion_matrix(
    prediction: np.ndarray,
    target: np.ndarray,
    path: str | None = None,
    labels: Sequence[int] | None = None,
) -> Any:
    """Draw ``confusion_matrix`` as a grid of counts (rows: true class, columns:
    predicted) and return the Figure; saved through Agg when ``path`` is given."""
    matrix = confusion_matrix(prediction, target, labels)
    if labels is None:
        labels = np.union1d(*predicted_classes(prediction, target))
    fig = new_figure(path, figsize=(1.2 + 0.6 * len(matrix), 1 + 0.6 * len(matrix)))
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), [str(v) for v in labels])
    ax.set_yticks(range(len(labels)), [str(v) for v in labels])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix")
    return finish_figure(fig, path)
