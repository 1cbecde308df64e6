"""The training loop: ``fit``, its record (``History``), early stopping, callbacks,
``evaluate`` and ``predict``.

``fit`` is the loop every course draws on the board, written so you can read it top to
bottom::

    for epoch in 1 .. epochs:
        for X_batch, y_batch in loader:            # one iteration per batch
            prediction = model(X_batch)            # forward
            loss = loss_fn(prediction, y_batch)    # loss
            optimizer.zero_grad()                  # forget the previous gradients
            loss.backward()                        # backward: d loss / d parameter
            optimizer.step()                       # update the parameters
        evaluate on the validation data, record the epoch, decide whether to stop

Around that core it records everything a learner wants to look at (per-epoch training and
validation loss, metrics, learning rate, gradient norm), stops early when the validation
loss stops improving (restoring the best weights if asked), stops at once when the loss
diverges, and says why it stopped.

Beside it: the metrics are in ``minigrad.metrics``, the learning-rate sweep and range test
in ``minigrad.learning_rate``, the curvature helpers (``critical_learning_rate``) in
``minigrad.curvature``.
"""

from __future__ import annotations

import copy
import importlib
import math
import numbers
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.data.utils import DataLoader

# The metrics are also importable from here, where the docs first put them.
from minigrad.metrics import (  # noqa: F401
    METRIC_DIRECTIONS,
    METRICS,
    accuracy,
    confusion_matrix,
    f1,
    plot_confusion_matrix,
    precision,
    recall,
)
from minigrad.optim import clip_coefficient
from minigrad.plots import finish_figure, new_figure, plottable
from minigrad.value import Value, data_of

__all__ = [
    "fit",
    "Callback",
    "StopTraining",
    "evaluate",
    "predict",
    "History",
    "EarlyStopping",
    "STOP_REASONS",
    "progress_bar_class",
]

#: Names that moved to their own modules and are still importable from here, where the
#: docs first put them (``from minigrad.train import lr_sweep`` keeps working).  Loaded
#: on first use: those modules import this one.
_MOVED = {
    "lr_sweep": "minigrad.learning_rate",
    "lr_range_test": "minigrad.learning_rate",
    "SweepResult": "minigrad.learning_rate",
    "SweepRow": "minigrad.learning_rate",
    "RangeTestResult": "minigrad.learning_rate",
    "dataset_loss": "minigrad.curvature",
    "hessian_vector_product": "minigrad.curvature",
    "largest_hessian_eigenvalue": "minigrad.curvature",
    "critical_learning_rate": "minigrad.curvature",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Why a ``fit`` run ended (``History.stop_reason``): "stopped" is a callback's
#: ``StopTraining``, "error" an exception raised mid-run (the History rides on it).
STOP_REASONS = ("converged", "early-stopped", "diverged", "finished", "stopped", "error")


class StopTraining(Exception):  # noqa: N818 (a signal, like StopIteration, not an error)
    """Raise it in a callback to end ``fit`` cleanly: the History is returned with
    ``stop_reason == "stopped"`` and the exception's text as ``message``.

    Raised from ``on_epoch_end`` the epoch is complete (recorded, schedule stepped);
    raised from ``on_batch_end`` the epoch ends after that batch and is recorded with the
    batches it ran.
    """


class Callback:
    """Base class of ``fit`` callbacks; override the hooks you need (both do nothing).

    A plain function ``callback(history, model)`` works too: it is called as
    ``on_epoch_end``.  Raise ``StopTraining`` in a hook to stop the run.
    """

    def on_batch_end(self, history: History, model: Any, logs: dict[str, float]) -> None:
        """After each optimizer step.  ``logs``: "epoch", "iteration" (within the epoch,
        from 1), "loss" (the batch's), "grad_norm" (before clipping), "lr"."""

    def on_epoch_end(self, history: History, model: Any) -> None:
        """After the epoch is recorded in ``history`` (before the schedule steps)."""


#: Loss names accepted by ``fit`` and where they live in ``minigrad.nn.functional``.
LOSSES = {
    "mse": "mse_loss",
    "mse_loss": "mse_loss",
    "l1": "l1_loss",
    "l1_loss": "l1_loss",
    "mae": "l1_loss",
    "bce": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "cross_entropy": "cross_entropy",
    "hinge": "hinge_loss",
    "hinge_loss": "hinge_loss",
}


# ============================================================================ History


class History:
    """What happened during ``fit``, epoch by epoch.

    ``history["loss"]`` (also ``history.loss``) is the training loss of each epoch, the
    mean of the batch losses weighted by batch size, measured while training (the model
    changes during the epoch, and Dropout is active).  ``"val_loss"`` is the loss on the
    validation data at the end of the epoch, in evaluation mode.  Each metric ``m`` has
    ``"m"`` (training) and ``"val_m"``; ``"lr"`` is the learning rate used in the epoch,
    ``"grad_norm"`` the mean over the epoch's iterations of the global gradient norm
    sqrt(sum of squared gradient entries) before clipping, ``"time"`` the seconds it took.

    ``stop_reason`` is one of ``STOP_REASONS``: "converged" (the training loss changed by
    less than ``tol``), "early-stopped" (the monitored quantity did not improve for
    ``patience`` epochs), "diverged" (the loss became NaN/inf or blew up; ``message``
    says "diverged at epoch k") or "finished" (all epochs ran).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.stop_reason: str = "finished"
        self.message: str = ""
        self.best_epoch: int | None = None
        self.best_value: float = math.nan
        self.monitor: str = "loss"
        self.restored_best_weights: bool = False
        self.diverged_at: int | None = None
        self.initial_loss: float = math.nan
        self.n_train: int = 0
        self.n_val: int = 0
        self.batch_size: int = 0
        self.iterations_per_epoch: int = 0
        self.iterations: int = 0
        self.epochs_requested: int = 0
        self.initial_epoch: int = 0

    # ----------------------------------------------------------------- access

    @property
    def epochs_run(self) -> int:
        """How many epochs were started (the diverging one included)."""
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(
                f"History has no series {key!r}; it has {sorted(self.history)} "
                "(validation series exist only with validation data)"
            )
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self) -> list[str]:
        return list(self.history)

    # The four common series as properties, written out rather than generated so that
    # editors, type checkers and the API page see them; the alike bodies are deliberate.
    @property
    def loss(self) -> list[float]:
        return self.history.get("loss", [])

    @property
    def val_loss(self) -> list[float]:
        return self.history.get("val_loss", [])

    @property
    def lr(self) -> list[float]:
        return self.history.get("lr", [])

    @property
    def grad_norm(self) -> list[float]:
        return self.history.get("grad_norm", [])

    def _record(self, epoch: int, values: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    # ----------------------------------------------------------------- display

    def _columns(self) -> list[str]:
        order = ["loss", "val_loss"]
        metrics = [k for k in self.history if k not in ("loss", "val_loss", "lr", "grad_norm")]
        metrics = [k for k in metrics if k != "time"]
        return [k for k in order if k in self.history] + metrics + ["lr", "grad_norm"]

    def table(self, every: int = 1) -> str:
        """The per-epoch record as a text table (every ``every``-th epoch, the first and
        the last).  The ``lr`` column is left out when the rate never changed (the summary
        and ``history.lr`` still have it); with loss, val_loss, two metrics, lr and
        grad_norm the table fits 80 columns."""
        columns = [c for c in self._columns() if c in self.history]
        if "lr" in columns and len(set(self.history["lr"])) <= 1:
            columns.remove("lr")
        lines = [_table_header(columns)]
        for i, epoch in enumerate(self.epochs):
            if epoch % every == 0 or i == len(self.epochs) - 1 or i == 0:
                lines.append(_table_row(epoch, [self.history[c][i] for c in columns], columns))
        return "\n".join(lines)

    def summary(self, message: bool = True) -> str:
        """One paragraph: how the run went and why it stopped (``message=False`` leaves
        out the stop message, for a caller that has shown it already)."""
        lines = [
            f"{self.n_train} training samples, batch size {self.batch_size}: "
            f"{_plural(self.iterations_per_epoch, 'iteration')} per epoch; "
            + (
                f"{self.epochs_run} of {self.epochs_requested} epochs run "
                if not self.initial_epoch
                else f"{self.epochs_run} epochs run, resumed after epoch {self.initial_epoch} "
                f"of {self.epochs_requested} "
            )
            + f"({_plural(self.iterations, 'iteration')}).",
            f"stop reason: {self.stop_reason}"
            + (f" ({self.message})" if self.message and message else ""),
        ]
        if self.loss:
            lines.append(
                f"initial loss {_fmt(self.initial_loss)}, final loss {_fmt(self.loss[-1])}"
            )
        if self.best_epoch is not None:
            restored = ", weights restored" if self.restored_best_weights else ""
            lines.append(
                f"best {self.monitor} {_fmt(self.best_value)} at epoch {self.best_epoch}{restored}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        last = f", loss={_fmt(self.loss[-1])}" if self.loss else ""
        return (
            f"History(epochs_run={self.epochs_run}, stop_reason={self.stop_reason!r}"
            f"{last}, best_epoch={self.best_epoch})"
        )

    def __str__(self) -> str:
        return self.summary() + "\n" + self.table()

    # ----------------------------------------------------------------- plot

    def plot(self, path: str | None = None, *, log_loss: bool | None = None) -> Any:
        """Draw the learning curves and return the matplotlib Figure.

        Panels: training and validation loss (log scale when every value is positive,
        unless ``log_loss`` says otherwise) with the best epoch marked and a divergence
        shown as a red cross; the metrics, if any; the learning rate; the gradient norm.
        With ``path`` the figure is saved there through the Agg backend (no display
        needed, pyplot untouched); without it the figure is made with pyplot, so it shows
        in notebooks and in ``plt.show()``.  matplotlib is imported only here.
        """
        if not self.epochs:
            raise ValueError("History.plot: nothing to plot, no epoch was recorded")
        fig = new_figure(path, figsize=(11, 7))
        metric_keys = [
            k for k in self._columns() if k not in ("loss", "val_loss", "lr", "grad_norm")
        ]
        axes = fig.subplots(2, 2).ravel()
        epochs = np.asarray(self.epochs)
        ax = axes[0]
        for key, style in (("loss", "-"), ("val_loss", "--")):
            if key in self.history:
                ax.plot(epochs, plottable(self.history[key]), style, label=key)
        values = [v for k in ("loss", "val_loss") for v in self.history.get(k, [])]
        finite_values = [v for v in values if math.isfinite(v)]
        use_log = (
            log_loss if log_loss is not None else bool(finite_values) and min(finite_values) > 0
        )
        if use_log:
            ax.set_yscale("log")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle=":", label="best epoch")
        if self.diverged_at is not None and finite_values:
            ax.plot([self.diverged_at], [max(finite_values)], "rx", markersize=10,
                    label=f"diverged (epoch {self.diverged_at})")  # fmt: skip
        ax.set_title("loss")
        ax.set_xlabel("epoch")
        ax.legend()
        ax = axes[1]
        for key in metric_keys:
            ax.plot(epochs, plottable(self.history[key]), "--" if key.startswith("val_") else "-",
                    label=key)  # fmt: skip
        ax.set_title("metrics" if metric_keys else "metrics (none recorded)")
        ax.set_xlabel("epoch")
        if metric_keys:
            ax.legend()
        ax = axes[2]
        ax.plot(epochs, self.history.get("lr", [math.nan] * len(epochs)))
        ax.set_title("learning rate")
        ax.set_xlabel("epoch")
        ax = axes[3]
        norms = plottable(self.history.get("grad_norm", [math.nan] * len(epochs)))
        ax.plot(epochs, norms)
        if np.nanmin(np.where(norms > 0, norms, np.nan), initial=np.inf) < np.inf:
            ax.set_yscale("log")
        ax.set_title("gradient norm (mean per epoch)")
        ax.set_xlabel("epoch")
        return finish_figure(fig, path)


def _fmt(x: float) -> str:
    return f"{x:.6g}" if isinstance(x, (int, float)) else str(x)


def _width(column: str) -> int:
    """A column's width: its name or an 11-character number (``-1.2345e+10``), plus a space."""
    return max(11, len(column)) + 1


def _table_header(columns: Sequence[str]) -> str:
    return f"{'epoch':>6}" + "".join(f"{c:>{_width(c)}}" for c in columns)


def _table_row(epoch: int, values: Sequence[float], columns: Sequence[str]) -> str:
    return f"{epoch:>6}" + "".join(f"{v:>{_width(c)}.5g}" for v, c in zip(values, columns))


# ============================================================================ early stopping


class EarlyStopping:
    """Keep track of the best value of a monitored quantity and count epochs without progress.

    In mode "min" an epoch improves when ``value < best - min_delta`` ("max": when
    ``value > best + min_delta``); ``best_epoch`` is the last epoch that improved so.
    ``should_stop`` becomes True once ``patience`` epochs in a row have not improved
    (``patience=None`` never stops; the best is still tracked).  With a ``baseline`` an
    improvement restarts the count only if it also beats the baseline by ``min_delta``
    (Keras's rule): a run that never gets past the baseline stops after ``patience``
    epochs.
    """

    def __init__(
        self,
        patience: int | None = None,
        min_delta: float = 0.0,
        mode: str = "min",
        baseline: float | None = None,
    ):
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0
        ):
            raise ValueError(f"patience must be None or an integer >= 0, got {patience!r}")
        if (
            isinstance(min_delta, bool)
            or not isinstance(min_delta, numbers.Real)
            or not math.isfinite(min_delta)
            or min_delta < 0
        ):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if baseline is not None and (
            isinstance(baseline, bool)
            or not isinstance(baseline, numbers.Real)
            or not math.isfinite(baseline)
        ):
            raise ValueError(f"baseline must be None or a finite number, got {baseline!r}")
        self.baseline = None if baseline is None else float(baseline)
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0

    def _beats(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def update(self, value: float, epoch: int) -> bool:
        """Record the epoch's value; return True if it is a new best."""
        self.wait += 1
        if math.isfinite(value) and self._beats(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.baseline is None or self._beats(value, self.baseline):
                self.wait = 0
            return True
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.wait >= max(self.patience, 1)


# ============================================================================ fit


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[[Value, Any], Value] = "mse",
    optimizer: Any = None,
    lr: float | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int | np.random.Generator = 0,
    sample_weight: Any = None,
    class_weight: dict[int, float] | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    metrics: Sequence[str | Callable[[np.ndarray, np.ndarray], float]] = (),
    patience: int | None = None,
    min_delta: float = 0.0,
    monitor: str | None = None,
    mode: str = "auto",
    baseline: float | None = None,
    start_from_epoch: int = 0,
    restore_best_weights: bool = False,
    tol: float | None = None,
    divergence_factor: float = 1e3,
    scheduler: Any = None,
    clip_grad_norm: float | None = None,
    callbacks: Sequence[Callable[[History, Any], Any] | Callback] = (),
    initial_epoch: int = 0,
    verbose: bool = True,
    print_every: int | None = None,
) -> History:
    """Train ``model`` on ``(X, y)`` and return the ``History`` of the run.

    Model: ``model(Value(X_batch))`` returns the predictions as a Value;
    ``model.parameters()`` lists the Values to train; ``train()``/``eval()`` are used when
    the model has them (its mode is restored at the end).  Data: ``X`` has one row per
    sample (any number of trailing dimensions), ``y`` one target per row: floats for
    regression, integer classes for ``cross_entropy``, 0/1 for ``bce``, -1/+1 for
    ``hinge``.  When the model returns shape (b, 1) and ``y`` has shape (b,), the targets
    are reshaped to (b, 1) so the loss compares prediction i with target i.

    Loss: a name in ``LOSSES`` ("mse", "l1"/"mae", "bce", "cross_entropy", "hinge") or any
    ``loss(prediction: Value, target: ndarray) -> scalar Value`` with mean reduction.
    Optimizer: any object with ``zero_grad()``, ``step()`` and a settable ``lr``
    (``minigrad.optim.SGD``/``Adam``); or ``optimizer=None`` and ``lr=...`` for plain SGD.

    Batching: ``batch_size=None`` is full-batch gradient descent (one iteration per
    epoch), ``1`` one example at a time, else mini-batches: ``ceil(n / batch_size)``
    iterations per epoch (1000 samples, batch 100 -> 10).  With ``shuffle`` each epoch
    visits the rows in a new order drawn from ``seed``.

    Validation: ``validation_data=(X_val, y_val)``, or ``validation_split=f`` to hold out
    a random fraction ``f`` of the rows (drawn with ``seed``; Keras takes the *last* rows
    instead, which goes wrong on data sorted by class).  ``metrics``: names in ``METRICS``
    ("accuracy", "mae", "mse", "rmse") or callables ``(prediction, target) -> float`` on
    numpy arrays.

    Stopping: ``patience`` epochs without an improvement larger than ``min_delta`` in
    ``monitor`` (default "val_loss" with validation data, else "loss") stop with
    "early-stopped".  ``mode`` says which way is better: "min", "max", or "auto" (the
    default), which knows the loss and the built-in metrics, reads a metric function's
    ``direction`` attribute, and otherwise refuses, as Keras 3 does, rather than guess.
    ``baseline``: an improvement restarts the patience count only if it also beats this
    value.  ``start_from_epoch=k``: epochs up to k are not monitored (warmup).
    ``best_epoch`` is the last epoch that improved by more than ``min_delta``.
    ``restore_best_weights=True`` puts the parameters of the best epoch back at the end,
    whatever the stop reason.  ``tol``: stop with "converged" when
    |loss_k - loss_(k-1)| <= tol * |loss_(k-1)|.  A batch loss or gradient that is
    NaN/inf, or an epoch loss larger than both the initial loss and ``divergence_factor``
    times the best epoch loss, stops training at once with "diverged" and the message
    "diverged at epoch k ...".

    Each epoch: ``scheduler.step()`` is called after it (an lr schedule from
    ``minigrad.optim``; ``ReduceLROnPlateau`` gets ``step(monitored value)``;
    ``OneCycleLR`` is stepped after every batch instead), or, if ``scheduler`` is a plain
    function, ``optimizer.lr = scheduler(epoch)`` before it (epochs count from 1).  With
    ``clip_grad_norm=c`` the gradients are multiplied by c / (norm + 1e-6) when that is
    below 1, before each step (PyTorch's formula, the same as ``optim.clip_grad_norm``).

    Callbacks: a function ``callback(history, model)`` runs after each epoch is recorded;
    a ``Callback`` object may also define ``on_batch_end(history, model, logs)``.  A
    callback raising ``StopTraining`` ends the run (stop reason "stopped").

    Resuming: ``epochs`` is the number of the last epoch and ``initial_epoch`` the number
    of epochs already done (Keras's meaning): ``fit(..., epochs=5, seed=s)`` then
    ``fit(..., epochs=10, initial_epoch=5, seed=s)`` with the same optimizer gives
    exactly the run of ``fit(..., epochs=10, seed=s)``: the validation split and the
    shuffles are drawn from ``seed`` as in the uninterrupted run.  A Generator passed as
    ``seed`` is copied, never advanced, so the second call draws the same.  (Dropout
    layers draw from their own generators, which continue with the model; from a file,
    ``nn.save_checkpoint`` stores them.)

    dtype: the data are converted to the parameters' floating dtype, so a float32 model
    trains, predicts and evaluates in float32.

    Output: ``verbose=True`` shows a tqdm progress bar (epoch, loss, val_loss; in Jupyter
    tqdm's notebook bar when ipywidgets is installed, the text bar otherwise, never an
    "IProgress not found" warning), ``verbose=False`` is quiet; ``print_every=k`` prints a
    table row every k epochs (for logs).

    Every argument is checked before the model is touched: a length mismatch, an empty
    data set, NaN/inf in X or y, a batch size or epoch count below 1, a validation split
    outside (0, 1), an unknown loss or metric raise ValueError/TypeError naming the
    problem, and then neither the model nor the data have changed.  X and y are never
    modified.  An exception raised during the run (in the model, the loss, a callback,
    or Ctrl-C) propagates with the History of the epochs recorded so far attached as
    ``error.history`` (stop reason "error").
    """
    run = _prepare(
        model, X, y, loss=loss, optimizer=optimizer, lr=lr, epochs=epochs,
        batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed,
        sample_weight=sample_weight, class_weight=class_weight, validation_data=validation_data,
        validation_split=validation_split, metrics=metrics, patience=patience,
        min_delta=min_delta, monitor=monitor, mode=mode, baseline=baseline,
        start_from_epoch=start_from_epoch, tol=tol, divergence_factor=divergence_factor,
        clip_grad_norm=clip_grad_norm, print_every=print_every, initial_epoch=initial_epoch,
        callbacks=callbacks,
    )  # fmt: skip
    # Every argument has been checked; from here on the model may change.
    params, optimizer, loss_fn, loader = run.params, run.optimizer, run.loss_fn, run.loader
    history = run.history
    first = run.initial_epoch + 1
    display = _Display(epochs - run.initial_epoch, verbose, print_every)
    display.say(
        f"training on {history.n_train} samples, batch size {loader.batch_size}: "
        f"{_plural(len(loader), 'iteration')} per epoch, "
        + (f"epochs {first} to {epochs}" if run.initial_epoch else _plural(epochs, "epoch"))
        + (f"; validating on {history.n_val} samples" if history.n_val else "")
    )
    was_training = bool(getattr(model, "training", True))
    best_weights = None
    epoch = run.initial_epoch
    per_batch_schedule = bool(getattr(scheduler, "per_batch", False))
    try:
        # fit checks every batch loss and gradient norm itself and reports the first NaN or
        # inf, so numpy's overflow warnings would only repeat that, once per operation.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            _check_initial_loss(run, model)  # the reference for divergence and lr_sweep
            display.header(run, show_lr=scheduler is not None)

            for epoch in range(first, epochs + 1):
                if history.stop_reason == "diverged":  # already before the first update
                    break
                if scheduler is not None and not hasattr(scheduler, "step"):
                    optimizer.lr = scheduler(epoch)
                tally = _EpochTally(float(getattr(optimizer, "lr", math.nan)))
                _set_mode(model, True)
                stop: StopTraining | None = None

                for X_batch, y_batch in loader:
                    if run.weights is not None:  # the loader yields row numbers: look up
                        rows = y_batch.astype(np.int64)
                        y_batch, w_batch = run.y[rows], run.weights[rows]
                    prediction = model(Value(X_batch, requires_grad=False))  # forward
                    y_batch = _match_target(y_batch, prediction)
                    if run.weights is None:
                        batch_loss = loss_fn(prediction, y_batch)  # loss
                    else:
                        batch_loss = _weighted_loss(loss_fn, prediction, y_batch, w_batch)
                    value = _scalar_loss(batch_loss)
                    if not math.isfinite(value):
                        tally.problem = f"the training loss became {value}"
                        tally.bad_loss = value
                        break
                    optimizer.zero_grad()  # forget the previous gradients
                    # backward: d loss / d every parameter (only the leaves keep a .grad:
                    # nobody looks at a training step's intermediate gradients)
                    batch_loss.backward(intermediate_grads=False)
                    norm = _global_norm(params)
                    if not math.isfinite(norm):
                        tally.problem = f"the gradient norm became {norm}"
                        tally.bad_loss = value
                        break
                    if clip_grad_norm is not None:  # PyTorch's formula, as optim's clipping
                        coefficient = clip_coefficient(clip_grad_norm, norm)
                        if coefficient < 1.0:
                            _scale_gradients(params, coefficient)
                    optimizer.step()  # update the parameters
                    if per_batch_schedule:  # OneCycleLR: one schedule step per batch
                        scheduler.step()
                    history.iterations += 1
                    tally.add(value, norm, prediction, y_batch, run.metric_fns)
                    if run.batch_hooks:
                        logs = {"epoch": epoch, "iteration": tally.iterations, "loss": value,
                                "grad_norm": norm, "lr": tally.lr}  # fmt: skip
                        stop = _call_hooks(run.batch_hooks, history, model, logs)
                        if stop is not None:
                            break

                if tally.problem is not None:  # stop at once: no NaN for the rest of the run
                    _record_divergence(run, tally, epoch)
                    display.epoch_done(history, epoch, force=True)
                    break
                if stop is not None and tally.iterations == 0:  # nothing to record
                    _stopped(history, stop, epoch)
                    break

                history._record(epoch, _epoch_record(run, model, tally))
                if epoch > run.start_from_epoch and run.stopper.update(
                    history[run.monitor][-1], epoch
                ):
                    history.best_epoch, history.best_value = epoch, run.stopper.best
                    if restore_best_weights:
                        best_weights = _snapshot(params)
                if stop is None:  # a stop inside the epoch skips the epoch-end hooks
                    stop = _call_hooks(run.epoch_hooks, history, model, None)
                    if hasattr(scheduler, "step") and not per_batch_schedule:
                        _step_scheduler(scheduler, history, run.monitor)

                if stop is not None:
                    _stopped(history, stop, epoch)
                else:
                    _decide_stop(run, epoch)  # diverged, converged or early-stopped?
                stopping = history.stop_reason != "finished"
                display.epoch_done(history, epoch, force=stopping or epoch == epochs)
                if stopping:
                    break
    except BaseException as error:
        # Never lose what was learnt about the run: the History rides on the exception.
        history.stop_reason = "error"
        history.message = f"{type(error).__name__} during epoch {epoch}: {error}"
        try:
            error.history = history  # type: ignore[attr-defined]
        except (AttributeError, TypeError):  # an exception type that takes no attributes
            pass
        else:
            error.add_note(
                f"fit: the History of the {_plural(history.epochs_run, 'recorded epoch')} "
                "is attached to this exception as .history"
            )
        raise
    finally:
        display.close()
        _set_mode(model, was_training)

    if restore_best_weights and best_weights is not None:
        _restore(params, best_weights)
        history.restored_best_weights = True
    if history.message:
        display.say(history.message)
    return history


def _plural(count: int, noun: str) -> str:
    """``"1 iteration"``, ``"2 iterations"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _call_hooks(hooks: list[Callable], history: History, model: Any, logs: Any) -> Any:
    """Call each hook; return the first ``StopTraining`` raised (the rest still run)."""
    stop = None
    for hook in hooks:
        try:
            if logs is None:
                hook(history, model)
            else:
                hook(history, model, logs)
        except StopTraining as signal:
            stop = stop or signal
    return stop


def _stopped(history: History, stop: StopTraining, epoch: int) -> None:
    history.stop_reason = "stopped"
    reason = str(stop) or "StopTraining raised by a callback"
    history.message = f"stopped at epoch {epoch}: {reason}"


def _step_scheduler(scheduler: Any, history: History, monitor: str) -> None:
    """``scheduler.step()``; a schedule that reads a metric (ReduceLROnPlateau) gets the
    monitored quantity of the epoch."""
    if getattr(scheduler, "needs_metric", False):
        scheduler.step(history[monitor][-1])
    else:
        scheduler.step()


# ----------------------------------------------------------------------------- fit helpers


@dataclass
class _Run:
    """Everything ``fit`` checked and derived from its arguments."""

    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    batch_size: int | None
    params: list[Value]
    optimizer: Any
    loss_fn: Callable
    metric_fns: list
    loader: DataLoader
    monitor: str
    stopper: EarlyStopping
    tol: float | None
    divergence_factor: float
    history: History
    initial_epoch: int = 0
    start_from_epoch: int = 0
    weights: np.ndarray | None = None
    batch_hooks: list[Callable] = field(default_factory=list)
    epoch_hooks: list[Callable] = field(default_factory=list)


def _prepare(model: Any, X: Any, y: Any, **a: Any) -> _Run:
    """Check every argument of ``fit`` (raising before anything is touched) and set up."""
    epochs = _positive_int(a["epochs"], "epochs")
    initial_epoch = _count(a["initial_epoch"], "initial_epoch")
    if initial_epoch >= epochs:
        raise ValueError(
            f"fit: initial_epoch={initial_epoch} leaves nothing to train with epochs={epochs}; "
            "epochs is the number of the last epoch (Keras's meaning), so to train 5 more "
            f"epochs after {initial_epoch} pass epochs={initial_epoch + 5}"
        )
    start_from_epoch = _count(a["start_from_epoch"], "start_from_epoch")
    batch_size = a["batch_size"]
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    X, y = _checked_data(X, y, "X", "y")
    loss_fn, _ = _loss_function(a["loss"])
    metric_fns = _metric_functions(a["metrics"])
    params = _parameters(model)
    X = _in_model_dtype(X, params)
    batch_hooks, epoch_hooks = _hooks(a["callbacks"])
    validation_data, validation_split = a["validation_data"], a["validation_split"]
    if validation_data is not None and validation_split is not None:
        raise ValueError("fit: pass validation_data or validation_split, not both")
    # A Generator is copied, never advanced: a second call (a resumed run) draws the same
    # validation split and the same sequence of shuffles as the first.
    rng = copy.deepcopy(_rng(a["seed"]))
    weights = _sample_weights(a["sample_weight"], a["class_weight"], y)
    if weights is not None and not (isinstance(a["loss"], str) or _takes_reduction(loss_fn)):
        raise TypeError(
            "fit: sample_weight and class_weight need the loss of each example: use a named "
            "loss, or a loss function with a reduction='none' argument"
        )
    X_val = y_val = None
    if validation_split is not None:
        rows = np.arange(len(X))
        X, rows, X_val, y_val = _split_off_validation(X, rows, validation_split, rng)
        y_val, y = y[y_val], y[rows]  # y_val holds row numbers until here
        weights = None if weights is None else weights[rows]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit: validation_data must be a pair (X_val, y_val)")
        X_val, y_val = _checked_data(*validation_data, "X_val", "y_val")
        X_val = _in_model_dtype(X_val, params)
    has_val = X_val is not None
    monitor = a["monitor"] or ("val_loss" if has_val else "loss")
    valid_monitors = ["loss"] + [name for name, _ in metric_fns]
    valid_monitors += ["val_" + m for m in valid_monitors] if has_val else []
    if monitor not in valid_monitors:
        raise ValueError(f"fit: cannot monitor {monitor!r}; choose one of {valid_monitors}")
    direction = _direction(a["mode"], monitor, metric_fns)
    stopper = EarlyStopping(a["patience"], a["min_delta"], direction, a["baseline"])
    tol = a["tol"]
    if tol is not None and not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"fit: tol must be None or a number >= 0, got {tol!r}")
    factor = a["divergence_factor"]
    if not (isinstance(factor, numbers.Real) and factor > 1):
        raise ValueError(f"fit: divergence_factor must be a number > 1, got {factor!r}")
    clip = a["clip_grad_norm"]
    if clip is not None and not (isinstance(clip, numbers.Real) and clip > 0):
        raise ValueError(f"fit: clip_grad_norm must be None or > 0, got {clip!r}")
    if a["print_every"] is not None:
        _positive_int(a["print_every"], "print_every")
    optimizer = _optimizer(a["optimizer"], a["lr"], params)
    # With weights the loader yields row numbers, so the weights follow the shuffle.
    batched_y = y if weights is None else np.arange(len(X))
    loader = DataLoader(
        X, batched_y, batch_size, shuffle=a["shuffle"], seed=rng, drop_last=a["drop_last"]
    )
    loader.skip_epochs(initial_epoch)  # resume the shuffling where epoch initial_epoch left it

    history = History()
    history.n_train, history.n_val = len(X), (len(X_val) if has_val else 0)
    history.batch_size = loader.batch_size
    history.iterations_per_epoch = len(loader)
    history.epochs_requested = epochs
    history.initial_epoch = initial_epoch
    history.monitor = monitor
    return _Run(
        X=X, y=y, X_val=X_val, y_val=y_val, batch_size=batch_size, params=params,
        optimizer=optimizer, loss_fn=loss_fn, metric_fns=metric_fns, loader=loader,
        monitor=monitor, stopper=stopper, tol=tol, divergence_factor=float(factor),
        history=history, initial_epoch=initial_epoch, start_from_epoch=start_from_epoch,
        batch_hooks=batch_hooks, epoch_hooks=epoch_hooks, weights=weights,
    )  # fmt: skip


def _takes_reduction(loss_fn: Callable) -> bool:
    import inspect

    try:
        return "reduction" in inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):
        return False


def _sample_weights(sample_weight: Any, class_weight: Any, y: np.ndarray) -> np.ndarray | None:
    """One weight per training row: sample_weight[i] * class_weight[y[i]] (either may be
    absent); None when neither is given."""
    if sample_weight is None and class_weight is None:
        return None
    weights = np.ones(len(y))
    if sample_weight is not None:
        if isinstance(sample_weight, Value):
            sample_weight = sample_weight.data
        given = np.asarray(sample_weight)
        if given.dtype.kind not in "biuf" or given.shape != (len(y),):
            raise ValueError(
                f"fit: sample_weight must be {len(y)} numbers, one per row of X, got "
                f"{'shape ' + str(given.shape) if given.dtype.kind in 'biuf' else given.dtype}"
            )
        if not np.all(np.isfinite(given)) or np.any(given < 0):
            raise ValueError("fit: sample_weight must be finite and >= 0")
        weights = weights * given
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise TypeError(f"fit: class_weight must be a dict {{class: weight}}, got "
                            f"{type(class_weight).__name__}")  # fmt: skip
        labels = np.asarray(y).reshape(len(y), -1)[:, 0]
        if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
            raise ValueError("fit: class_weight needs class labels in y, not continuous targets")
        missing = sorted({int(v) for v in np.unique(labels)} - {int(k) for k in class_weight})
        if missing:
            raise ValueError(f"fit: class_weight has no weight for the classes {missing}")
        for label, w in class_weight.items():
            if (
                isinstance(w, bool)
                or not isinstance(w, numbers.Real)
                or not (math.isfinite(w) and w >= 0)
            ):
                raise ValueError(f"fit: class_weight[{label!r}] must be a number >= 0, got {w!r}")
        table = {int(k): float(v) for k, v in class_weight.items()}
        weights = weights * np.array([table[int(v)] for v in labels])
    return weights


def _weighted_loss(
    loss_fn: Callable, prediction: Value, target: np.ndarray, weights: np.ndarray
) -> Value:
    """sum_i w_i · loss_i / n: each example's loss (averaged over its outputs) weighted,
    divided by the batch size, as Keras's sample_weight does."""
    per_example = loss_fn(prediction, target, reduction="none")
    if per_example.ndim > 1:
        per_example = per_example.reshape(len(weights), -1).mean(axis=1)
    elif per_example.ndim == 0:
        per_example = per_example.reshape(1)
    w = Value(weights.astype(per_example.dtype).reshape(per_example.shape), requires_grad=False)
    return (per_example * w).sum() * (1.0 / len(weights))


def _count(value: Any, name: str) -> int:
    """An integer >= 0 (``initial_epoch``, ``start_from_epoch``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"fit: {name} must be an integer >= 0, got {type(value).__name__} "
                        f"{value!r}")  # fmt: skip
    if value < 0:
        raise ValueError(f"fit: {name} must be an integer >= 0, got {value}")
    return int(value)


def _hooks(callbacks: Any) -> tuple[list[Callable], list[Callable]]:
    """(batch-end hooks, epoch-end hooks) from plain functions and Callback objects."""
    if callable(callbacks) or isinstance(callbacks, Callback):
        callbacks = [callbacks]
    batch, epoch = [], []
    for callback in callbacks:
        on_batch = getattr(callback, "on_batch_end", None)
        on_epoch = getattr(callback, "on_epoch_end", None)
        if on_batch is None and on_epoch is None:
            if not callable(callback):
                raise TypeError(
                    "fit: a callback must be a function callback(history, model) or an object "
                    f"with on_epoch_end/on_batch_end methods, got {type(callback).__name__}"
                )
            on_epoch = callback
        if on_batch is not None:
            batch.append(on_batch)
        if on_epoch is not None:
            epoch.append(on_epoch)
    return batch, epoch


def _direction(mode: Any, monitor: str, metric_fns: list) -> str:
    """ "min" or "max" for the monitored quantity; "auto" reads it from the name, as
    Keras 3 does, and refuses a name it cannot read instead of guessing."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"fit: mode must be 'auto', 'min' or 'max', got {mode!r}")
    name = monitor.removeprefix("val_")
    custom = dict(metric_fns).get(name)
    declared = getattr(custom, "direction", None)
    if declared in ("min", "max"):
        return declared
    if custom is METRICS.get(name) and name in METRIC_DIRECTIONS:
        return METRIC_DIRECTIONS[name]
    if name == "loss":
        return "min"
    raise ValueError(
        f"fit: mode='auto' cannot tell whether {monitor!r} should go up or down; pass "
        f"mode='max' (for a score such as F1) or mode='min' (for an error), or give the "
        f"metric function an attribute direction = 'max' or 'min'"
    )


def _model_dtype(model: Any) -> np.dtype | None:
    """The floating dtype the model's parameters share (None if they have none)."""
    try:
        params = list(model.parameters()) if hasattr(model, "parameters") else list(model)
    except TypeError:
        return None
    dtypes = {np.dtype(p.dtype) for p in params if isinstance(p, Value)}
    dtypes = {d for d in dtypes if d.kind == "f"}
    return np.result_type(*dtypes) if dtypes else None


def _in_model_dtype(X: np.ndarray, model: Any) -> np.ndarray:
    """X in the model's floating dtype, so a float32 model runs in float32 (a float64 Value
    around the data would promote every operation to float64)."""
    dtype = _model_dtype(model)
    if dtype is None or X.dtype == dtype:
        return X
    return X.astype(dtype)


class _EpochTally:
    """Running sums over one epoch's iterations."""

    def __init__(self, lr: float):
        self.lr = lr
        self.started = time.perf_counter()
        self.seen = 0
        self.iterations = 0
        self.loss_sum = 0.0
        self.norm_sum = 0.0
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.problem: str | None = None
        self.bad_loss = math.nan

    def add(self, loss: float, norm: float, prediction: Value, target: Any, metrics: list):
        n = len(target)
        self.seen += n
        self.iterations += 1
        self.loss_sum += loss * n  # mean losses weighted by batch size
        self.norm_sum += norm
        if metrics:  # keep the outputs only when a metric needs them
            self.outputs.append(np.array(prediction.data, dtype=np.float64, copy=True))
            self.targets.append(target)


def _check_initial_loss(run: _Run, model: Any) -> None:
    history = run.history
    if run.weights is None:
        history.initial_loss = _evaluate(model, run.X, run.y, run.loss_fn, [], run.batch_size)[
            "loss"
        ]
    else:  # the weighted loss, the quantity the training losses report
        was_training = bool(getattr(model, "training", True))
        _set_mode(model, False)
        try:
            with no_grad():
                prediction = model(Value(run.X, requires_grad=False))
                target = _match_target(run.y, prediction)
                history.initial_loss = _weighted_loss(
                    run.loss_fn, prediction, target, run.weights
                ).item()
        finally:
            _set_mode(model, was_training)
    if not math.isfinite(history.initial_loss):
        history.stop_reason = "diverged"
        history.diverged_at = 0
        history.message = (
            f"diverged at epoch 0: the loss is already {history.initial_loss} before any "
            "update (check the data scale and the initial weights)"
        )


def _epoch_record(run: _Run, model: Any, tally: _EpochTally) -> dict[str, float]:
    """The numbers of a completed epoch, in the History's column order."""
    record = {"loss": tally.loss_sum / tally.seen}
    if run.X_val is not None:
        record.update(
            _evaluate(
                model, run.X_val, run.y_val, run.loss_fn, run.metric_fns, run.batch_size, "val_"
            )  # fmt: skip
        )
    if run.metric_fns:
        outputs, targets = np.concatenate(tally.outputs), np.concatenate(tally.targets)
        for name, fn in run.metric_fns:
            record[name] = fn(outputs, targets)
    record["lr"] = tally.lr
    record["grad_norm"] = tally.norm_sum / tally.iterations
    record["time"] = time.perf_counter() - tally.started
    return {k: record[k] for k in _columns(run)}


def _columns(run: _Run) -> list[str]:
    has_val = run.X_val is not None
    columns = ["loss"] + (["val_loss"] if has_val else [])
    for name, _ in run.metric_fns:
        columns += [name] + (["val_" + name] if has_val else [])
    return columns + ["lr", "grad_norm", "time"]


def _record_divergence(run: _Run, tally: _EpochTally, epoch: int) -> None:
    """Record the epoch that produced a NaN/inf (its loss is the bad value) and stop."""
    history = run.history
    history.stop_reason = "diverged"
    history.diverged_at = epoch
    history.message = (
        f"diverged at epoch {epoch} (iteration {tally.iterations + 1} of "
        f"{len(run.loader)}): {tally.problem}"
    )
    record = dict.fromkeys(_columns(run), math.nan)
    record["loss"] = tally.bad_loss
    record["lr"] = tally.lr
    if tally.iterations:
        record["grad_norm"] = tally.norm_sum / tally.iterations
    record["time"] = time.perf_counter() - tally.started
    history._record(epoch, record)


def _decide_stop(run: _Run, epoch: int) -> None:
    """Set the stop reason after a completed epoch: diverged, converged or early-stopped."""
    history = run.history
    loss = history.loss[-1]
    best = min([history.initial_loss] + history.loss)
    if loss > run.divergence_factor * best and loss > history.initial_loss:
        history.stop_reason = "diverged"
        history.diverged_at = epoch
        history.message = (
            f"diverged at epoch {epoch}: the training loss {_fmt(loss)} is more than "
            f"{run.divergence_factor:g} times the best {_fmt(best)}"
        )
    elif (
        run.tol is not None
        and len(history.loss) >= 2
        and abs(loss - history.loss[-2]) <= run.tol * abs(history.loss[-2])
    ):
        history.stop_reason = "converged"
        history.message = (
            f"converged at epoch {epoch}: the training loss changed by less than "
            f"tol={run.tol:g} (relative)"
        )
    elif run.stopper.should_stop:
        stopper = run.stopper
        history.stop_reason = "early-stopped"
        by = f" by more than {stopper.min_delta:g}" if stopper.min_delta else ""
        beyond = (
            f" beyond the baseline {stopper.baseline:g}" if stopper.baseline is not None else ""
        )
        history.message = (
            f"early-stopped at epoch {epoch}: {run.monitor} has not improved{by}{beyond} for "
            f"{_plural(stopper.wait, 'epoch')} (best {_fmt(stopper.best)} at epoch "
            f"{stopper.best_epoch})"
        )


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (not in a terminal IPython or a script)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    ip = shell.get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_bar_class() -> Any:
    """tqdm's notebook bar in Jupyter when ipywidgets is installed; the plain text bar
    everywhere else (a notebook without ipywidgets shows it as text, where tqdm.auto would
    print an "IProgress not found" warning)."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            pass
        else:
            from tqdm.notebook import tqdm as notebook_bar

            return notebook_bar
    from tqdm.std import tqdm as text_bar

    return text_bar


class _Display:
    """The progress bar (tqdm, imported only when shown) and the printed table."""

    def __init__(self, epochs: int, verbose: bool, print_every: int | None):
        self.print_every = print_every
        self.columns: list[str] = []
        self.active = bool(verbose) or print_every is not None
        self.bar = None
        if verbose:
            self.bar = progress_bar_class()(total=epochs, unit="epoch", desc="fit", leave=True)

    def say(self, text: str) -> None:
        """A log line on stdout, written above the bar when there is one."""
        if not self.active:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text)

    def header(self, run: _Run, show_lr: bool) -> None:
        """The printed table's header; ``lr`` only when a schedule may change it."""
        self.columns = [c for c in _columns(run) if c != "time" and (show_lr or c != "lr")]
        if self.print_every is not None:
            self.say(_table_header(self.columns))

    def epoch_done(self, history: History, epoch: int, force: bool) -> None:
        if self.bar is not None:
            shown = {"loss": f"{history.loss[-1]:.4g}"}
            if history.val_loss:
                shown["val_loss"] = f"{history.val_loss[-1]:.4g}"
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)
        every = self.print_every
        if every is not None and (epoch % every == 0 or epoch == 1 or force):
            columns = self.columns
            self.say(_table_row(epoch, [history.history[c][-1] for c in columns], columns))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"fit: {name} must be a positive integer, got {type(value).__name__} "
                        f"{value!r}")  # fmt: skip
    if value <= 0:
        raise ValueError(f"fit: {name} must be a positive integer, got {value}")
    return int(value)


def _rng(seed: Any) -> np.random.Generator:
    from minigrad.data._checks import rng_from

    return rng_from(seed, "fit")


def _checked_features(X: Any, where: str) -> np.ndarray:
    """X as a float array with at least one row and no NaN/inf (the caller's array unchanged)."""
    X = np.asarray(data_of(X))
    if X.dtype.kind not in "biuf" or X.ndim == 0 or len(X) == 0:
        raise ValueError(f"{where}: X must be a non-empty numeric array with one row per sample")
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        raise ValueError(f"{where}: X contains NaN or infinite values")
    return X if X.dtype.kind == "f" else X.astype(np.float64)


def _checked_data(X: Any, y: Any, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays (never the caller's arrays modified), checked for training."""
    if isinstance(X, Value):
        X = X.data
    if isinstance(y, Value):
        y = y.data
    X, y = np.asarray(X), np.asarray(y)
    for array, name in ((X, x_name), (y, y_name)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"fit: {name} must hold numbers, got an array of dtype {array.dtype}")
        if array.ndim == 0:
            raise ValueError(f"fit: {name} must have one entry per sample, got a scalar")
    if len(X) != len(y):
        raise ValueError(
            f"fit: {x_name} and {y_name} must have the same number of samples, got "
            f"{len(X)} and {len(y)}"
        )
    if len(X) == 0:
        raise ValueError(f"fit: the data set is empty ({x_name} has 0 rows)")
    for array, name in ((X, x_name), (y, y_name)):
        if array.dtype.kind == "f":
            bad = ~np.isfinite(array)
            if bad.any():
                rows = np.unique(np.nonzero(bad.reshape(len(array), -1))[0])
                raise ValueError(
                    f"fit: {name} contains {int(bad.sum())} NaN or infinite values (in "
                    f"{len(rows)} rows, the first is row {rows[0]}); remove or impute them "
                    "before training"
                )
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    return X, y


def _split_off_validation(
    X: np.ndarray, y: np.ndarray, fraction: Any, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise TypeError(f"fit: validation_split must be a fraction in (0, 1), got {fraction!r}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fit: validation_split must be a fraction in (0, 1), got {fraction}")
    n_val = math.ceil(fraction * len(X))
    if n_val >= len(X):
        raise ValueError(
            f"fit: validation_split={fraction} of {len(X)} samples leaves no training data"
        )
    order = rng.permutation(len(X))
    train, val = order[: len(X) - n_val], order[len(X) - n_val :]
    return X[train], y[train], X[val], y[val]


def _loss_function(loss: Any) -> tuple[Callable[[Value, Any], Value], str]:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {sorted(LOSSES)} "
                             "or pass a function loss(prediction, target)")  # fmt: skip
        from minigrad.nn import functional

        return getattr(functional, LOSSES[loss]), loss
    if not callable(loss):
        raise TypeError(f"fit: loss must be a name or a function, got {type(loss).__name__}")
    return loss, getattr(loss, "__name__", "loss")


def _metric_functions(metrics: Any) -> list[tuple[str, Callable]]:
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    result = []
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"fit: unknown metric {metric!r}; choose one of {sorted(METRICS)}"
                                 " or pass a function metric(prediction, target)")  # fmt: skip
            result.append((metric, METRICS[metric]))
        elif callable(metric):
            result.append((getattr(metric, "__name__", f"metric{len(result)}"), metric))
        else:
            raise TypeError(f"fit: a metric must be a name or a function, got {metric!r}")
    names = [name for name, _ in result]
    if len(set(names)) != len(names) or "loss" in names:
        raise ValueError(f"fit: metric names must be distinct and not 'loss', got {names}")
    return result


def _parameters(model: Any) -> list[Value]:
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(
            f"fit: model must be callable and have parameters() (an nn.Module), got "
            f"{type(model).__name__}"
        )
    params = list(model.parameters())
    if not params:
        raise ValueError("fit: the model has no parameters to train")
    for p in params:
        if not isinstance(p, Value) or not p.requires_grad:
            raise TypeError("fit: model.parameters() must return Values with requires_grad=True")
    return params


def _optimizer(optimizer: Any, lr: float | None, params: list[Value]) -> Any:
    if optimizer is None:
        if lr is None:
            raise ValueError(
                "fit: pass an optimizer (e.g. optim.Adam(model.parameters(), lr=1e-3)) "
                "or lr=... for plain gradient descent"
            )
        if (
            isinstance(lr, bool)
            or not isinstance(lr, numbers.Real)
            or not (lr >= 0 and math.isfinite(lr))
        ):
            raise ValueError(f"fit: lr must be a finite number >= 0, got {lr!r}")
        from minigrad.optim import SGD

        return SGD(params, lr=float(lr))
    if lr is not None:
        raise ValueError("fit: lr is for the default optimizer; set it on your optimizer instead")
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise TypeError(
            f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}"
        )
    return optimizer


def _set_mode(model: Any, training: bool) -> None:
    if hasattr(model, "train") and callable(model.train):
        model.train(training)


def _match_target(target: np.ndarray, prediction: Value) -> np.ndarray:
    """Targets of shape (b,) against predictions (b, 1) become (b, 1), and vice versa."""
    shape = prediction.shape
    if target.shape != shape and target.size == int(np.prod(shape)):
        if shape == target.shape + (1,) or target.shape == shape + (1,):
            return target.reshape(shape)
    return target


def _scalar_loss(loss: Any) -> float:
    if not isinstance(loss, Value) or loss.size != 1:
        raise TypeError(
            "fit: the loss function must return a scalar Value (use mean reduction), got "
            + (f"a Value of shape {loss.shape}" if isinstance(loss, Value) else repr(loss))
        )
    return loss.item()


def _global_norm(params: Sequence[Value]) -> float:
    """sqrt(sum over parameters of sum of squared gradient entries)."""
    total = 0.0
    for p in params:
        g = p.grad
        if g is not None:
            g = data_of(g)
            total += float(np.sum(np.square(g, dtype=np.float64)))
    return math.sqrt(total)


def _scale_gradients(params: Sequence[Value], factor: float) -> None:
    for p in params:
        if p.grad is not None:
            p.grad = p.grad * factor if type(p.grad) is float else p.grad * p.dtype.type(factor)


def _snapshot(params: Sequence[Value]) -> list[Any]:
    return [p.data.copy() if isinstance(p.data, np.ndarray) else p.data for p in params]


def _restore(params: Sequence[Value], weights: list[Any]) -> None:
    for p, w in zip(params, weights):
        if isinstance(p.data, np.ndarray):
            p.data[...] = w
            p._touch()
        else:
            p.data = w


# ============================================================================ evaluation


def predict(model: Any, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for ``X`` as a numpy array, in evaluation mode, without a graph.

    The model's mode is restored afterwards.  ``batch_size`` splits ``X`` into chunks.
    """
    X = _in_model_dtype(_checked_features(X, "predict"), model)
    was_training = bool(getattr(model, "training", True))
    _set_mode(model, False)
    try:
        with no_grad():
            size = len(X) if batch_size is None else batch_size
            parts = [
                np.asarray(model(Value(X[i : i + size], requires_grad=False)).data)
                for i in range(0, len(X), size)
            ]
    finally:
        _set_mode(model, was_training)
    return np.concatenate(parts)


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable = "mse",
    metrics: Sequence[Any] = (),
    batch_size: int | None = None,
    prefix: str = "",
) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``(X, y)``, in evaluation mode, without a graph.

    Returns ``{prefix + "loss": ..., prefix + metric: ...}``.  The loss is the mean of the
    batch losses weighted by batch size (the loss of the whole set for mean-reduced losses).
    The model's mode is restored afterwards.
    """
    X, y = _checked_data(X, y, "X", "y")
    X = _in_model_dtype(X, model)
    loss_fn, _ = _loss_function(loss)
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    return _evaluate(model, X, y, loss_fn, _metric_functions(metrics), batch_size, prefix)


def _evaluate(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable,
    metric_fns: list,
    batch_size: int | None,
    prefix: str = "",
) -> dict[str, float]:
    was_training = bool(getattr(model, "training", True))
    _set_mode(model, False)
    total = 0.0
    outputs, targets = [], []
    size = len(X) if batch_size is None else batch_size
    try:
        with no_grad():
            for i in range(0, len(X), size):
                prediction = model(Value(X[i : i + size], requires_grad=False))
                target = _match_target(y[i : i + size], prediction)
                total += _scalar_loss(loss_fn(prediction, target)) * len(target)
                if metric_fns:
                    outputs.append(np.asarray(prediction.data, dtype=np.float64))
                    targets.append(target)
    finally:
        _set_mode(model, was_training)
    result = {prefix + "loss": total / len(X)}
    if metric_fns:
        prediction_all, target_all = np.concatenate(outputs), np.concatenate(targets)
        for name, fn in metric_fns:
            result[prefix + name] = fn(prediction_all, target_all)
    return result
