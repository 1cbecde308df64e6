"""Figures: the two helpers every minigrad picture is made with, and the decision-boundary
plot of a trained classifier (shared by the command, the notebooks and the docs).

matplotlib is imported only when a plot is made.  Without ``path`` the figure is made with
pyplot (``plt.show()`` and Jupyter display it); with ``path`` it is a standalone figure
rendered by the Agg backend (no display needed), saved there.  ``History.plot``,
``SweepResult.plot``, ``RangeTestResult.plot`` and ``plot_confusion_matrix`` follow the
same rule through ``new_figure`` and ``finish_figure``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np


def new_figure(path: Any, figsize: tuple[float, float]) -> Any:
    """A Figure: through pyplot for display (``path`` None), or a bare Agg-backed Figure
    to save at ``path`` (pyplot untouched, no display needed)."""
    if path is None:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def finish_figure(figure: Any, path: Any) -> Any:
    """Lay ``figure`` out, save it at ``path`` if one is given, and return it."""
    figure.tight_layout()
    if path is not None:
        figure.savefig(path)
    return figure


def plottable(values: Iterable[float]) -> np.ndarray:
    """Values as a float array with inf replaced by NaN, so a curve shows a gap there
    instead of failing to scale."""
    array = np.asarray(list(values), dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def plot_decision_boundary(
    model: Any,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    path: str | os.PathLike | None = None,
    resolution: int = 200,
    title: str = "decision boundary (regions: predicted class)",
    ax: Any = None,
) -> Any:
    """The classes ``model`` predicts over the plane, with the points; returns the Figure.

    Each point of a ``resolution`` x ``resolution`` grid covering the data gets the model's
    class (argmax of its outputs; a single output is read as a logit, class 1 above 0),
    drawn as coloured regions; training points are circles, test points crosses.  The
    data must have two features.  ``path``: save the figure there.  ``ax``: draw into
    this matplotlib Axes instead (a panel of a figure of your own; it is neither laid out
    nor saved here, and ``path`` must then be None); the Axes' Figure is returned.
    """
    from minigrad.train import predict

    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim != 2 or X_train.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs points with 2 features, got shape {X_train.shape}"
        )
    if ax is not None and path is not None:
        raise ValueError("plot_decision_boundary: give path or ax, not both (save the Axes' "
                         "figure yourself)")  # fmt: skip
    y_train = np.asarray(y_train)
    has_test = X_test is not None and y_test is not None
    X_all = np.vstack([X_train, X_test]) if has_test else X_train
    low, high = X_all.min(axis=0), X_all.max(axis=0)
    pad = 0.1 * (high - low) + 1e-9
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    outputs = np.asarray(predict(model, np.column_stack([gx.ravel(), gy.ravel()])))
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        classes = (outputs.reshape(-1) > 0).astype(int)
    else:
        classes = np.argmax(outputs, axis=1)
    classes = classes.reshape(gx.shape)
    labels = [int(classes.max()), int(y_train.max())]
    if has_test:
        labels.append(int(np.max(y_test)))
    n_classes = max(labels) + 1
    figure = new_figure(path, (6, 5)) if ax is None else None
    if figure is not None:
        ax = figure.subplots()
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(gx, gy, classes, levels=levels, cmap="coolwarm", alpha=0.35)
    style = {"cmap": "coolwarm", "vmin": 0, "vmax": max(n_classes - 1, 1)}
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, edgecolors="k", linewidths=0.4, s=18,
               label="train", **style)  # fmt: skip
    if has_test:
        ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, marker="x", s=30, label="test", **style)
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax.figure if figure is None else finish_figure(figure, path)
