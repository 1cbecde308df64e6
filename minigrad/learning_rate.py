"""Choosing a learning rate: the sweep (``lr_sweep``) and the range test (``lr_range_test``).

``lr_sweep`` trains the same model at several learning rates, one ``fit`` per rate, and
sorts them into "too small", "slow", "converges", "too large" and "diverges".
``lr_range_test`` (Smith, 2017) makes one short run whose rate grows every batch and
suggests where the loss falls fastest.  For the rate at which plain gradient descent
becomes unstable, computed from the curvature of the loss, see ``minigrad.curvature``.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad.data.utils import DataLoader
from minigrad.plots import finish_figure, new_figure, plottable
from minigrad.train import (
    History,
    _checked_data,
    _fmt,
    _in_model_dtype,
    _loss_function,
    _match_target,
    _parameters,
    _positive_int,
    _restore,
    _rng,
    _scalar_loss,
    _set_mode,
    _snapshot,
    fit,
)
from minigrad.value import Value

__all__ = ["lr_sweep", "SweepResult", "SweepRow", "lr_range_test", "RangeTestResult"]


# ============================================================================ the sweep


@dataclass
class SweepRow:
    """One learning rate of a sweep and what it did."""

    lr: float
    verdict: str
    initial_loss: float
    final_loss: float
    best_loss: float
    stop_reason: str
    epochs_run: int
    history: History = field(repr=False)
    note: str = ""


class SweepResult:
    """The rows of ``lr_sweep``, one per learning rate, in the order given.

    ``str(result)`` is a table; ``result.rows`` the rows; ``result.verdicts`` maps each
    lr to its verdict ("too small", "slow", "converges", "too large", "diverges");
    ``result.conclusion`` one sentence on the whole range; ``result.plot()`` draws every
    loss curve.
    """

    def __init__(self, rows: list[SweepRow], rule: str, conclusion: str = ""):
        self.rows = rows
        self.rule = rule
        self.conclusion = conclusion

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> SweepRow:
        return self.rows[i]

    @property
    def verdicts(self) -> dict[float, str]:
        return {row.lr: row.verdict for row in self.rows}

    def lrs(self, verdict: str) -> list[float]:
        """The learning rates with this verdict."""
        return [row.lr for row in self.rows if row.verdict == verdict]

    @property
    def best(self) -> SweepRow:
        """The row with the lowest final loss among those that did not diverge."""
        candidates = [r for r in self.rows if r.verdict != "diverges"] or self.rows
        return min(
            candidates, key=lambda r: r.final_loss if math.isfinite(r.final_loss) else math.inf
        )

    def __str__(self) -> str:
        lines = [f"{'lr':>12}{'initial loss':>16}{'final loss':>16}{'epochs':>8}  verdict"]
        for r in self.rows:
            lines.append(
                f"{r.lr:>12.4g}{_fmt(r.initial_loss):>16}{_fmt(r.final_loss):>16}"
                f"{r.epochs_run:>8}  {r.verdict}" + (f" ({r.note})" if r.note else "")
            )
        return "\n".join(lines + ([self.conclusion] if self.conclusion else []) + [self.rule])

    def __repr__(self) -> str:
        return f"SweepResult({[(r.lr, r.verdict) for r in self.rows]})"

    def plot(self, path: str | None = None) -> Any:
        """Training loss against epoch for every learning rate (log scale), coloured by
        verdict; returns the Figure (saved with Agg when ``path`` is given)."""
        fig = new_figure(path, figsize=(8, 5))
        ax = fig.subplots()
        colours = {"too small": "tab:blue", "slow": "tab:cyan", "converges": "tab:green",
                   "too large": "tab:orange", "diverges": "tab:red"}  # fmt: skip
        for r in self.rows:
            losses = [r.initial_loss] + r.history.loss
            ax.plot(range(len(losses)), plottable(losses), color=colours[r.verdict],
                    label=f"lr={r.lr:.3g}: {r.verdict}")  # fmt: skip
        ax.set_yscale("log")
        return _finish_loss_plot(fig, ax, "epoch", path)


def lr_sweep(
    make_model: Callable[[], Any],
    X: Any,
    y: Any,
    lrs: Sequence[float],
    *,
    epochs: int = 20,
    loss: str | Callable = "mse",
    optimizer: str | Callable[[list, float], Any] = "sgd",
    too_small: float = 0.5,
    min_decrease: float = 0.1,
    **fit_kwargs: Any,
) -> SweepResult:
    """Train a fresh model at each learning rate and say which are too small, which
    converge and which diverge.

    ``make_model()`` must build the same initial model every time (fix its seed): the
    sweep checks that the initial parameters agree and raises ValueError otherwise.
    ``optimizer`` is "sgd", "adam" or a function ``(params, lr) -> optimizer``; the other
    keyword arguments go to ``fit`` (quiet by default).

    Verdicts, from the training losses: **diverges** if ``fit`` stopped with "diverged"
    or the final loss is not finite or is above the initial loss.  Otherwise the progress
    of a run is log(initial / final loss), and the best lr is the one with the most
    progress.  A run "barely moved" if its loss fell by less than ``min_decrease`` (a
    fraction of the initial loss).

    * below the best lr: **too small** if it barely moved or made less than
      ``too_small`` times the best progress, else **converges**;
    * the best lr itself: **converges**, unless it barely moved too: then **too small**
      if it is the largest rate tried (larger ones may do better), else **slow** (larger
      rates did worse: the limit is not the rate);
    * above the best lr: **too large** if it barely moved (its steps overshoot), else
      **converges** (a note says when it was slower than the best: near divergence).

    Each row's ``note`` says what was measured; ``result.conclusion`` sums up the range
    (which rate is best, or that every rate is too small, or too large).

    The verdicts judge the loss only.  A loss can look converged while a parameter in a
    flat direction of the loss is still far from its optimum (see the apartment example
    in docs/training.md); ``critical_learning_rate`` and the condition number tell.
    """
    if isinstance(lrs, numbers.Real):
        lrs = [lrs]
    lrs = [float(lr) for lr in lrs]
    if not lrs or any(not (math.isfinite(lr) and lr > 0) for lr in lrs):
        raise ValueError(f"lr_sweep: lrs must be positive finite numbers, got {lrs}")
    if not 0 < too_small < 1 or not 0 <= min_decrease < 1:
        raise ValueError("lr_sweep: too_small must be in (0, 1) and min_decrease in [0, 1)")
    make_optimizer = _optimizer_factory(optimizer)
    fit_kwargs.setdefault("verbose", False)
    runs = []
    reference = None
    for lr in lrs:
        model = make_model()
        initial = _snapshot(_parameters(model))
        if reference is None:
            reference = initial
        elif len(initial) != len(reference) or not all(
            np.array_equal(a, b) for a, b in zip(initial, reference)
        ):
            raise ValueError(
                "lr_sweep: make_model() returned models with different initial parameters; "
                "fix its seed so every learning rate starts from the same point"
            )
        history = fit(
            model, X, y, loss=loss, optimizer=make_optimizer(model.parameters(), lr),
            epochs=epochs, **fit_kwargs,
        )  # fmt: skip
        runs.append((lr, history))
    # Progress of a run: log(initial / final loss); None for a run that diverged.
    gains = []
    for _, h in runs:
        final = h.loss[-1] if h.loss else h.initial_loss
        diverged = h.stop_reason == "diverged" or not math.isfinite(final) or final > h.initial_loss
        gains.append(None if diverged else _log_gain(h.initial_loss, final))
    finite = [(g, lr) for g, (lr, _) in zip(gains, runs) if g is not None]
    best_gain, best_lr = max(finite) if finite else (0.0, math.inf)
    rows = []
    for (lr, h), gain in zip(runs, gains):
        final = h.loss[-1] if h.loss else h.initial_loss
        verdict, note = _verdict(
            lr, h, final, gain, best_lr, best_gain, max(lrs), too_small, min_decrease
        )
        finite_losses = [v for v in h.loss if math.isfinite(v)]
        rows.append(
            SweepRow(
                lr=lr, verdict=verdict, initial_loss=h.initial_loss, final_loss=final,
                best_loss=min(finite_losses, default=math.nan), stop_reason=h.stop_reason,
                epochs_run=h.epochs_run, history=h, note=note,
            )
        )  # fmt: skip
    rule = (
        f"(diverges: loss NaN/inf or above the initial loss; too small: below the best lr and "
        f"the loss fell by less than {min_decrease:.0%}, or made under {too_small:.0%} of the "
        "best run's progress in log-loss; too large: above the best lr and the loss fell by "
        f"less than {min_decrease:.0%})"
    )
    return SweepResult(rows, rule, _conclusion(rows, min_decrease))


def _fell(h: History, final: float) -> str:
    """How much the loss fell, in words: "fell 7.8%"."""
    share = 1 - final / h.initial_loss if h.initial_loss else 0.0
    return f"the loss fell {share:.1%}" if share >= 0.001 else "the loss fell by less than 0.1%"


def _verdict(
    lr: float, h: History, final: float, gain: float | None, best_lr: float,
    best_gain: float, largest_lr: float, too_small: float, min_decrease: float,
) -> tuple[str, str]:  # fmt: skip
    """(verdict, note) of one run of the sweep; each note says what was measured."""
    if gain is None:
        return "diverges", h.message if h.stop_reason == "diverged" else (
            "the loss ended above its start"
        )
    barely_moved = final > (1 - min_decrease) * h.initial_loss
    slow = gain < too_small * best_gain
    if lr < best_lr:
        if barely_moved:
            return "too small", f"{_fell(h, final)}: it barely moved"
        if slow:
            return "too small", f"slower than lr={best_lr:.3g}"
        return "converges", ""
    if lr == best_lr:  # the run with the most progress
        if not barely_moved:
            return "converges", ""
        if lr == largest_lr:  # nothing larger was tried: larger rates may well do better
            return "too small", f"{_fell(h, final)}, the most of the range: try larger rates"
        return "slow", (
            f"{_fell(h, final)}, the most of the range, and larger rates did worse: "
            "more epochs, or an adaptive optimizer such as Adam"
        )
    if barely_moved:  # larger than the best lr and it barely moved: the steps overshoot
        return "too large", f"{_fell(h, final)}, less than at lr={best_lr:.3g}: steps overshoot"
    if slow:
        return "converges", f"slower than lr={best_lr:.3g}: the steps overshoot, near divergence"
    return "converges", ""


def _conclusion(rows: list[SweepRow], min_decrease: float) -> str:
    """One sentence on the whole range: which rate to use, or which way to look."""
    lrs = [r.lr for r in rows]
    if all(r.verdict == "diverges" for r in rows):
        return f"every rate diverges: the whole range is too large; try rates below {min(lrs):.3g}"
    if all(r.verdict in ("too small", "slow") for r in rows):
        return (
            f"every rate is too small: the loss fell by less than {min_decrease:.0%} at each; "
            f"try rates above {max(lrs):.3g}"
        )
    best = max(
        (r for r in rows if r.verdict == "converges"),
        key=lambda r: _log_gain(r.initial_loss, r.final_loss),
        default=None,
    )
    if best is None:
        return "no rate converges: the stable rates barely move the loss and the larger diverge"
    if best.lr == max(lrs):
        return f"best: lr={best.lr:.3g}, the largest tried: larger rates may be faster still"
    return f"best: lr={best.lr:.3g}"


def _log_gain(initial: float, final: float) -> float:
    if final <= 0:
        return math.inf
    return math.log(initial / final) if initial > 0 else 0.0


def _optimizer_factory(optimizer: Any, who: str = "lr_sweep") -> Callable[[list, float], Any]:
    if callable(optimizer):
        return optimizer
    if optimizer == "sgd":
        from minigrad.optim import SGD

        return lambda params, lr: SGD(params, lr=lr)
    if optimizer == "adam":
        from minigrad.optim import Adam

        return lambda params, lr: Adam(params, lr=lr)
    raise ValueError(f"{who}: optimizer must be 'sgd', 'adam' or a function, got {optimizer!r}")


def _finish_loss_plot(fig: Any, ax: Any, x_label: str, path: str | None) -> Any:
    """The common end of the sweep's and the range test's pictures: training loss on the
    y axis, a small legend, laid out and saved (when ``path`` is given)."""
    ax.set_xlabel(x_label)
    ax.set_ylabel("training loss")
    ax.legend(fontsize="small")
    return finish_figure(fig, path)


# ============================================================================ the range test


@dataclass
class RangeTestResult:
    """What ``lr_range_test`` measured: the rate and the training loss of each step.

    ``losses`` are the batch losses, ``smoothed`` their bias-corrected exponential moving
    average; ``suggestion`` is the rate where the smoothed loss falls fastest against
    log(lr) (before its minimum), ``lr_at_minimum`` where it is lowest (a common rule
    of thumb takes a tenth of it); ``stopped_early`` is True when the loss blew up.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    lr_at_minimum: float
    stopped_early: bool

    def __str__(self) -> str:
        ending = "the loss blew up, the test stopped there" if self.stopped_early else (
            "the whole range was run"
        )  # fmt: skip
        return (
            f"learning-rate range test: {len(self.lrs)} steps from lr={self.lrs[0]:.3g} to "
            f"{self.lrs[-1]:.3g} ({ending}); smoothed loss lowest at lr={self.lr_at_minimum:.3g}"
            f", falling fastest at lr={self.suggestion:.3g}: suggested lr {self.suggestion:.3g}"
        )

    def plot(self, path: str | None = None) -> Any:
        """Loss against learning rate (log scale), raw and smoothed, with the suggestion
        marked; returns the Figure (saved through Agg when ``path`` is given)."""
        fig = new_figure(path, figsize=(7, 4.5))
        ax = fig.subplots()
        ax.plot(self.lrs, plottable(self.losses), alpha=0.3, label="batch loss")
        ax.plot(self.lrs, plottable(self.smoothed), label="smoothed")
        ax.axvline(self.suggestion, color="tab:green", linestyle=":",
                   label=f"suggested lr {self.suggestion:.3g}")  # fmt: skip
        ax.set_xscale("log")
        return _finish_loss_plot(fig, ax, "learning rate", path)


def lr_range_test(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable = "mse",
    optimizer: str | Callable[[list, float], Any] = "sgd",
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    batch_size: int | None = None,
    seed: int | np.random.Generator = 0,
    smoothing: float = 0.05,
    diverge_factor: float = 5.0,
) -> RangeTestResult:
    """The learning-rate range test (Smith, 2017): one run whose rate grows every batch.

    Step i (0 .. num_iter - 1) trains one batch at lr_i = start_lr · (end_lr /
    start_lr)^(i / (num_iter - 1)), a geometric ramp, and records the batch loss (before
    the step).  The smoothed loss is s_i = a_i / (1 - β^(i+1)) with a_i = β a_(i-1) + (1 -
    β) loss_i and β = 1 - smoothing.  The run stops early once s_i exceeds
    ``diverge_factor`` times its lowest value, or a loss is NaN/inf.  The batches cycle
    through the data (reshuffled each pass, drawn from ``seed``).

    Unlike ``lr_sweep`` (separate runs, one per rate) this costs one short run; its
    suggestion is where the loss falls fastest, a starting point rather than a verdict.
    ``optimizer`` is "sgd", "adam" or a function ``(params, lr) -> optimizer``.  The model
    is trained during the test and its parameters are put back afterwards.
    """
    X, y = _checked_data(X, y, "X", "y")
    params = _parameters(model)
    X = _in_model_dtype(X, params)
    loss_fn, _ = _loss_function(loss)
    for value, name in ((start_lr, "start_lr"), (end_lr, "end_lr")):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not (math.isfinite(value) and value > 0)
        ):
            raise ValueError(f"lr_range_test: {name} must be a positive number, got {value!r}")
    if not start_lr < end_lr:
        raise ValueError(f"lr_range_test: start_lr={start_lr} must be below end_lr={end_lr}")
    num_iter = _positive_int(num_iter, "num_iter")
    if num_iter < 2:
        raise ValueError("lr_range_test: num_iter must be at least 2")
    if not (isinstance(smoothing, numbers.Real) and 0 < smoothing <= 1):
        raise ValueError(f"lr_range_test: smoothing must be in (0, 1], got {smoothing!r}")
    if not (isinstance(diverge_factor, numbers.Real) and diverge_factor > 1):
        raise ValueError(f"lr_range_test: diverge_factor must be > 1, got {diverge_factor!r}")
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    optimizer = _optimizer_factory(optimizer, "lr_range_test")(params, start_lr)
    loader = DataLoader(X, y, batch_size, shuffle=True, seed=copy.deepcopy(_rng(seed)))
    ratio = end_lr / start_lr
    lrs, losses, smoothed = [], [], []
    average, stopped = 0.0, False
    saved = _snapshot(params)
    was_training = bool(getattr(model, "training", True))
    _set_mode(model, True)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            batches = iter(loader)
            for i in range(num_iter):
                try:
                    X_batch, y_batch = next(batches)
                except StopIteration:  # one pass done: the next, in a new order
                    batches = iter(loader)
                    X_batch, y_batch = next(batches)
                lr = start_lr * ratio ** (i / (num_iter - 1))
                optimizer.lr = lr
                prediction = model(Value(X_batch, requires_grad=False))
                batch_loss = loss_fn(prediction, _match_target(y_batch, prediction))
                value = _scalar_loss(batch_loss)
                if not math.isfinite(value):
                    stopped = True
                    break
                average = (1 - smoothing) * average + smoothing * value
                lrs.append(lr)
                losses.append(value)
                smoothed.append(average / (1 - (1 - smoothing) ** (i + 1)))
                if smoothed[-1] > diverge_factor * min(smoothed):
                    stopped = True
                    break
                optimizer.zero_grad()
                batch_loss.backward(intermediate_grads=False)
                optimizer.step()
    finally:
        _restore(params, saved)
        for p in params:
            p.grad = None
        _set_mode(model, was_training)
    if len(lrs) < 2:
        raise ValueError(
            f"lr_range_test: the loss was not finite from the first steps (start_lr={start_lr}"
            "); start lower or check the data"
        )
    curve = np.asarray(smoothed)
    lowest = int(np.argmin(curve))
    slope = np.gradient(curve, np.log(lrs))
    steepest = int(np.argmin(slope[: lowest + 1])) if lowest > 0 else 0
    return RangeTestResult(
        lrs=lrs, losses=losses, smoothed=smoothed, suggestion=float(lrs[steepest]),
        lr_at_minimum=float(lrs[lowest]), stopped_early=stopped,
    )  # fmt: skip
