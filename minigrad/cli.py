"""The ``minigrad`` command: watch a network learn, draw graphs, check gradients.

Every user mistake (a bad flag, an impossible value, an expression that cannot be read)
is answered with one line on stderr and exit status 2; a gradient check that fails exits
with 1; everything else that goes wrong is reported in one line too (set
``MINIGRAD_DEBUG=1`` to see the Python traceback instead).

This module reads the arguments and prints; the work is the library's (the data sets in
``minigrad.data``, the training runs in ``minigrad.recipes``, the pictures in
``minigrad.plots`` and ``minigrad.viz``), so a notebook can do the same by calling it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.data.builtin import DATASETS, TASKS, load_dataset
from minigrad.plots import plot_decision_boundary
from minigrad.recipes import (
    RECIPES,
    RecipeResult,
    classic_neuron,
    describe_mlp,
    loss_and_metrics,
    output_size,
    train_recipe,
)

#: Exit statuses.
OK, FAILED, USAGE = 0, 1, 2

ACTIVATIONS = ("relu", "tanh", "sigmoid")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot", "txt", "html", "json")


class UsageError(Exception):
    """A mistake in what the user typed: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line instead of the usage block and a message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


_FORMATTER = argparse.RawDescriptionHelpFormatter


# ============================================================================ flag types


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a number, got '{text}'") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{what} must be finite, got '{text}'")
    return value


def _number_that_is(text: str, what: str, ok: Callable[[float], bool], wanted: str) -> float:
    """A finite number for which ``ok(value)`` holds, else "must be {wanted}, got {text}"."""
    value = _number(text, what)
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (step sizes)."""
    return _number_that_is(text, "the value", lambda v: v > 0, "positive")


def learning_rate(text: str) -> float:
    """A learning rate: a finite number >= 0 (0 trains nothing, as in the library)."""
    return _number_that_is(text, "the learning rate", lambda v: v >= 0, "a finite number >= 0")


def _whole_number(text: str, smallest: int, wanted: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got '{text}'") from None
    if value < smallest:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (epochs, batch sizes)."""
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (patience, seeds)."""
    return _whole_number(text, 0, "0 or more")


def probability(text: str) -> float:
    """A dropout probability: 0 <= p < 1 (p = 1 would drop every unit)."""
    return _number_that_is(text, "the probability", _below_one, "at least 0 and below 1")


def fraction(text: str) -> float:
    """A share of the data: 0 <= f < 1."""
    return _number_that_is(text, "the fraction", _below_one, "at least 0 and below 1")


def _below_one(value: float) -> bool:
    return 0 <= value < 1


def _comma_separated(
    text: str, convert: Callable[[str], Any], unreadable: str, ok: Callable[[Any], bool], bad: str
) -> list[Any]:
    """Each comma-separated part of ``text``, converted; a part ``convert`` cannot read is
    answered with ``unreadable``, a value that is not ``ok`` with ``bad`` (both formatted
    with ``text``, ``part`` and, for ``bad``, ``value``)."""
    values = []
    for part in text.split(","):
        try:
            value = convert(part)
        except ValueError:
            message = unreadable.format(text=text, part=part.strip())
            raise argparse.ArgumentTypeError(message) from None
        if not ok(value):
            raise argparse.ArgumentTypeError(bad.format(text=text, part=part.strip(), value=value))
        values.append(value)
    return values


def hidden_sizes(text: str) -> list[int]:
    """Hidden layer sizes, e.g. ``16,16``; ``0`` or ``none`` for no hidden layer."""
    if text.strip().lower() in ("", "0", "none"):
        return []
    return _comma_separated(
        text, int, "must be layer sizes separated by commas, like 16,16; got '{text}'",
        lambda size: size >= 1, "every layer size must be at least 1, got {value}",
    )  # fmt: skip


def file_name(text: str) -> str:
    """A path to write to: anything but an empty (or blank) string."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must be a file name, got {text!r}")
    return text


def learning_rates(text: str) -> list[float]:
    """Comma-separated learning rates, each > 0, e.g. ``1e-10,1e-7,1e-4``."""
    return _comma_separated(
        text, float, "'{part}' is not a number (in '{text}')",
        lambda rate: np.isfinite(rate) and rate > 0,
        "every learning rate must be positive and finite, got {part}",
    )  # fmt: skip


# ============================================================================ training


def _cnn_usable(dataset: str) -> None:
    """``--model cnn`` on a data set without images is a usage error (exit 2), in the
    library's words."""
    from minigrad.nn.models import cnn_recipe

    try:
        cnn_recipe(dataset)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _finite_or_none(x: Any) -> Any:
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _summary_json(result: RecipeResult, saved: str | None, wrote: list[str]) -> dict:
    history = result.history
    model = result.model
    return {
        "dataset": result.dataset,
        "task": result.task,
        "model": result.description,
        "parameters": int(model.num_parameters()),
        "optimizer": result.optimizer,
        "lr": result.lr,
        "loss": result.loss,
        "batch_size": history.batch_size,
        "iterations_per_epoch": history.iterations_per_epoch,
        "epochs_requested": history.epochs_requested,
        "epochs_run": history.epochs_run,
        "iterations": history.iterations,
        "stop_reason": history.stop_reason,
        "message": history.message,
        "best_epoch": history.best_epoch,
        "train_samples": history.n_train,
        "validation_samples": history.n_val,
        "test_samples": int(len(result.y_test)),
        "train": {k: _finite_or_none(float(v)) for k, v in result.train.items()},
        "validation": {k: _finite_or_none(float(v)) for k, v in result.validation.items()},
        "test": {k: _finite_or_none(float(v)) for k, v in result.test.items()},
        "seconds": round(result.seconds, 3),
        "saved": saved,
        "files": wrote,
    }


def _metric_line(name: str, values: dict[str, float]) -> str:
    parts = [f"{key} {value:.4g}" for key, value in values.items()]
    return f"{name:<6} " + ", ".join(parts)


def run_train(args: argparse.Namespace) -> int:
    """``minigrad train``: train and evaluate on a built-in data set."""
    if args.model == "cnn":
        _cnn_usable(args.dataset)
    out = _output_dir(args.out) if args.out else None
    if args.save:
        _check_writable(Path(args.save))
    if not args.json:
        print(f"minigrad train: {args.dataset} ({TASKS[args.dataset]})")
    result = train_recipe(
        args.dataset,
        hidden=args.hidden,
        activation=args.activation,
        dropout=args.dropout,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        patience=args.patience,
        val_split=args.val_split,
        seed=args.seed,
        verbose=not args.json,
        model_kind=args.model,
    )
    history = result.history
    wrote: list[str] = []
    if args.save:
        result.model.save(args.save)
    if out is not None:
        wrote += _write_training_pictures(result, out)
    if args.json:
        print(json.dumps(_summary_json(result, args.save, wrote)))
        return OK
    print(f"model: {result.description}, {result.model.num_parameters()} parameters")
    print(f"optimizer: {result.optimizer}, lr {result.lr:g}")
    every = max(1, history.epochs_run // 10)
    print(history.table(every=every))
    print(history.summary(message=False))  # fit has printed the stop message already
    print(_metric_line("train", result.train))
    if result.validation:
        print(_metric_line("val", result.validation))
    print(_metric_line("test", result.test))
    if history.stop_reason == "diverged":
        print(
            f"the training diverged at lr {result.lr:g}: try a smaller --lr "
            f"(minigrad lr-sweep --dataset {args.dataset} compares several)"
        )
    if args.save:
        print(f"saved the model to {args.save}")
    for path in wrote:
        print(f"wrote {path}")
    return OK


def _output_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {path}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: the directory {parent} does not exist")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")


def _write_training_pictures(result: RecipeResult, out: Path) -> list[str]:
    wrote = []
    curves = out / "loss_curves.png"
    _close(result.history.plot(str(curves)))
    wrote.append(str(curves))
    if result.task == "classification" and result.X_train.shape[1] == 2:
        boundary = out / "decision_boundary.png"
        plot_decision_boundary(result.model, result.X_train, result.y_train, result.X_test,
                               result.y_test, path=boundary)  # fmt: skip
        wrote.append(str(boundary))
    return wrote


def _close(figure: Any) -> None:
    """Free a saved matplotlib figure (only pyplot figures need closing)."""
    try:
        import matplotlib.pyplot as plt

        plt.close(figure)
    except Exception:  # noqa: BLE001  (closing is a courtesy; never fail on it)
        pass


# ============================================================================ graph


def _expression_and_values(text: str, items: list[str]) -> tuple[Any, dict[str, Any]]:
    """Parse EXPR and NAME=VALUE; every name given must be used, every name used given."""
    from minigrad.expr import ExprError, parse, parse_assignments

    expression = parse(text)
    values = parse_assignments(items)
    unused = [name for name in values if name not in expression.names]
    if unused:
        raise ExprError(
            f"'{unused[0]}' is given a value but the expression does not use it "
            f"(it uses: {', '.join(expression.names) or 'no names'})"
        )
    missing = [name for name in expression.names if name not in values]
    if missing:
        raise ExprError(
            f"unknown name '{missing[0]}': give it a value, for example {missing[0]}=1.0"
        )
    return expression, values


def _evaluate_expression(text: str, items: list[str]) -> tuple[Any, dict[str, Any], Any]:
    """``(output, inputs by name, expression)`` for EXPR and NAME=VALUE."""
    from minigrad.value import Value

    expression, values = _expression_and_values(text, items)
    inputs = {name: Value(value, name=name) for name, value in values.items()}
    out = expression.evaluate(inputs)
    if not out.requires_grad:
        from minigrad.expr import ExprError

        raise ExprError("the expression uses no name, so there is nothing to differentiate")
    if not out.is_leaf:  # an expression that is just a name: keep its name
        out.name = "out"
    return out, inputs, expression


def _show(x: Any) -> str:
    if np.ndim(x) == 0:
        return f"{float(x):.6g}"
    return np.array2string(np.asarray(x), precision=5, separator=", ").replace("\n", "")


def run_graph(args: argparse.Namespace) -> int:
    """``minigrad graph``: compute, backward, draw."""
    from minigrad import viz

    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lstrip(".").lower() if args.output else "txt"
        if suffix not in GRAPH_FORMATS:
            raise UsageError(
                f"minigrad graph: error: cannot tell the format from '{args.output}'; "
                f"use --format {'|'.join(GRAPH_FORMATS)}"
            )
        fmt = suffix
    if args.output:
        _check_writable(Path(args.output))
    out, inputs, expression = _evaluate_expression(args.expression, args.values)
    if fmt != "html":
        out.backward(None if out.shape == () else np.ones(out.shape))
    summed = "" if out.shape == () else "  (not a single number: gradients are of its sum)"
    # DOT or JSON printed to stdout is for a program (`| dot -Tsvg`, json.load): it must be
    # alone there, so the human summary goes to stderr.
    summary = sys.stderr if fmt in ("dot", "json") and not args.output else sys.stdout
    print(f"out = {expression.text.strip()} = {_show(out.data)}{summed}", file=summary)
    if fmt != "html":
        for name, leaf in inputs.items():
            print(f"  d out / d {name} = {_show(leaf.grad)}", file=summary)
    if fmt == "txt":
        text = viz.ascii_tree(out) + "\n"
        if args.output:
            Path(args.output).write_text(text)
        else:
            print()
            print(text, end="")
    elif fmt == "dot":
        _write(args.output, viz.to_dot(out, chain_rule=True) + "\n")
    elif fmt == "json":
        _write(args.output, viz.to_json(out, indent=2) + "\n")
    elif fmt == "html":
        _write_stepper(out, args.output)
    else:
        if args.output is None:
            raise UsageError(f"minigrad graph: error: --format {fmt} needs -o FILE")
        picture = viz.draw(out, format=fmt, chain_rule=True)
        _write_bytes(Path(args.output), picture.pipe(format=fmt))
        if args.verbose:
            print(f"  rendered by {picture.renderer}")
    if args.output:
        print(f"wrote {args.output}")
    return OK


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise type(error)(f"cannot write {str(path)!r}: {error.strerror or error}") from error


def _write(path: str | None, text: str) -> None:
    if path is None:
        print(text, end="")
    else:
        Path(path).write_text(text)


def _write_stepper(out: Any, path: str | None) -> Path:
    """Write the self-contained step-through page for ``out`` to ``path`` (an .html file)."""
    import tempfile

    from minigrad import viz

    if path is None:
        raise UsageError("minigrad graph: error: --format html needs -o FILE")
    gradient = None if out.shape == () else np.ones(out.shape)
    with tempfile.TemporaryDirectory(prefix="minigrad-steps-") as scratch:
        steps = viz.backward_steps(out, scratch, gradient=gradient)
        shutil.copyfile(steps.html, path)
    print(f"  {len(steps)} backward steps; open {path} in a browser to step through them")
    return Path(path)


# ============================================================================ gradcheck

#: The finite-difference methods ``minigrad.gradcheck`` offers.
METHODS = ("central", "forward", "five-point", "complex-step")


#: Evaluations of the expression a finite-difference method makes per input number.
EVALUATIONS_PER_NUMBER = {"central": 2, "forward": 1, "five-point": 4, "complex-step": 1}
#: The default of ``--max-evals``: about ten seconds for inputs of a thousand numbers.
MAX_EVALUATIONS = 5000


def run_gradcheck(args: argparse.Namespace) -> int:
    """``minigrad gradcheck``: analytic gradients against finite differences."""
    from minigrad.gradcheck import gradcheck
    from minigrad.gradcheck.sweep import DEFAULT_EPS_VALUES

    if args.grad:
        return _check_hand_written(args)
    out, inputs, expression = _evaluate_expression(args.expression, args.values)
    names = list(inputs)
    leaves = [inputs[name] for name in names]

    def function(*values: Any) -> Any:
        return expression.evaluate(dict(zip(names, values)))

    numbers = sum(leaf.size for leaf in leaves)
    checks = 1 + (len(DEFAULT_EPS_VALUES) if args.sweep else 0)
    evaluations = numbers * EVALUATIONS_PER_NUMBER[args.method] * checks
    work = (
        f"checking {numbers:,} input numbers by {args.method} differences"
        + (f", at {checks - 1} step sizes and the chosen one" if args.sweep else "")
        + f" takes {evaluations:,} evaluations of the expression"
    )
    if evaluations > args.max_evals:
        raise UsageError(
            f"minigrad gradcheck: error: {work}, more than --max-evals {args.max_evals:,}; "
            f"pass --max-evals {evaluations} to run it anyway, or give smaller values"
        )
    seconds = evaluations * _seconds_per_evaluation(function, leaves)
    if seconds > 5:  # worth saying before a wait
        print(f"{work} (about {_duration(seconds)})", flush=True)

    report = gradcheck(function, *leaves, raise_exception=False, **_method_options(args))
    print(f"out = {expression.text.strip()} = {_show(out.data)}")
    return _report_outcome(report, args.sweep)


def _method_options(args: argparse.Namespace) -> dict[str, Any]:
    """gradcheck's finite-difference options from --method and --eps."""
    options: dict[str, Any] = {"method": args.method}
    if args.eps is not None:
        options["eps"] = args.eps
    return options


def _report_outcome(report: Any, sweep: bool) -> int:
    """Print the report's table (and its step-size sweep with --sweep); the exit status."""
    print(report.table())
    if sweep:
        print()
        print(report.sweep())
    return OK if report.passed else FAILED


def _seconds_per_evaluation(function: Callable[..., Any], leaves: list[Any]) -> float:
    """How long one evaluation of the expression takes here (timed once)."""
    started = time.perf_counter()
    function(*leaves)
    return time.perf_counter() - started


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def _check_hand_written(args: argparse.Namespace) -> int:
    """``--grad NAME=EXPR``: hand-written gradient expressions against finite differences
    of EXPR.  The names with a --grad are checked; the other names are constants (data)."""
    import inspect

    from minigrad.autograd import no_grad
    from minigrad.expr import ExprError, parse
    from minigrad.gradcheck import gradcheck
    from minigrad.value import Value

    expression, values = _expression_and_values(args.expression, args.values)
    derivatives: dict[str, Any] = {}
    for item in args.grad:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not text:
            raise ExprError(f"--grad '{item}' is not NAME=EXPRESSION, e.g. --grad a=\"2*a\"")
        if name not in values:
            raise ExprError(f"--grad {name}=...: the expression has no name '{name}'")
        if name in derivatives:
            raise ExprError(f"--grad {name}=... is given twice")
        derivatives[name] = parse(text)
        unknown = [n for n in derivatives[name].names if n not in values]
        if unknown:
            raise ExprError(f"--grad {name}=...: unknown name '{unknown[0]}'")
    checked = [name for name in expression.names if name in derivatives]
    constants = {name: v for name, v in values.items() if name not in derivatives}

    def compute(formula: Any, arrays: tuple) -> Any:
        given = {**constants, **dict(zip(checked, arrays))}
        with no_grad():
            leaves = {n: Value(v, name=n, requires_grad=False) for n, v in given.items()}
            return formula.evaluate(leaves).data

    def expr(*arrays: Any) -> Any:  # summed, as everywhere, when not a single number
        return np.sum(compute(expression, arrays))

    def grad(*arrays: Any) -> tuple:
        return tuple(compute(derivatives[name], arrays) for name in checked)

    expr.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in checked]
    )
    points = [values[name] for name in checked]
    report = gradcheck(expr, *points, grad=grad, raise_exception=False, **_method_options(args))
    print(f"out = {expression.text.strip()}; checking the hand-written gradients:")
    for name in checked:
        print(f"  d out / d {name} = {derivatives[name].text.strip()}")
    return _report_outcome(report, args.sweep)


# ============================================================================ lr sweep

DEFAULT_LRS = (1e-10, 1e-7, 1e-4, 1.2e-4)


def run_lr_sweep(args: argparse.Namespace) -> int:
    """``minigrad lr-sweep``: one model, several learning rates, one table."""
    from minigrad import nn
    from minigrad.curvature import critical_learning_rate, dataset_loss
    from minigrad.learning_rate import lr_sweep

    X, y, classification = load_dataset(args.dataset, args.seed)
    recipe = RECIPES[args.dataset]
    sizes = [*recipe["hidden"], output_size(y, classification)]
    loss, _ = loss_and_metrics(classification)

    def make_model() -> Any:
        return nn.MLP(X.shape[1], sizes, seed=args.seed)

    lrs = args.lrs or list(DEFAULT_LRS)
    epochs = args.epochs or 100
    print(
        f"minigrad lr-sweep: {args.dataset}, {describe_mlp(X.shape[1], sizes)}, "
        f"plain gradient descent on the whole data set, {epochs} epochs per learning rate"
    )
    if not classification and not recipe["hidden"]:
        model = make_model()
        critical = critical_learning_rate(dataset_loss(model, X, y, loss), model.parameters())
        print(
            f"divergence threshold 2/lambda_max = {critical:.4g} "
            "(lambda_max: the largest eigenvalue of the loss's Hessian)"
        )
    result = lr_sweep(make_model, X, y, lrs, epochs=epochs, loss=loss, optimizer="sgd")
    print(result)
    if args.plot:
        _check_writable(Path(args.plot))
        _close(result.plot(args.plot))
        print(f"wrote {args.plot}")
    return OK


# ============================================================================ demo


def run_demo(args: argparse.Namespace) -> int:
    """``minigrad demo``: the guided tour, on built-in defaults."""
    started = time.perf_counter()
    out = _output_dir(args.out)
    wrote: list[Path] = []

    _heading("1. training: an MLP learns the two-moons data")
    result = train_recipe("moons", seed=args.seed, verbose=True)
    history = result.history
    model = result.model
    print(f"model: {result.description}, {model.num_parameters()} parameters; "
          f"optimizer {result.optimizer}, lr {result.lr:g}")  # fmt: skip
    print(history.table(every=max(1, history.epochs_run // 8)))
    if not history.message:  # fit has printed the stop message, if there is one
        print(f"stopped: {history.stop_reason}")
    print(f"final accuracy: train {result.train['accuracy']:.1%}, "
          f"test {result.test['accuracy']:.1%}")  # fmt: skip
    wrote += [Path(p) for p in _write_training_pictures(result, out)]

    _heading("2. gradient check: backward against finite differences, every parameter")
    report = _check_model(result)
    print(report.summary())
    print(report.describe_method())
    (out / "gradcheck.txt").write_text(report.table() + "\n")
    (out / "gradcheck.html").write_text(_html_page("minigrad gradient check", report.to_html()))
    wrote += [out / "gradcheck.txt", out / "gradcheck.html"]

    _heading("3. one neuron, forward and backward: tanh(x1*w1 + x2*w2 + b)")
    neuron = classic_neuron()
    for line in _neuron_lines(neuron):
        print(line)
    wrote += _write_neuron_pictures(neuron, out, args.verbose)

    _heading(f"done in {time.perf_counter() - started:.1f} s; wrote into {out}/")
    for path in wrote:
        print(f"  {path}  ({_size(path)})")
    print("open backward_steps.html in a browser to step through the backward pass")
    return OK if report.passed else FAILED


def _heading(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} bytes"


def _check_model(result: RecipeResult) -> Any:
    """Gradient-check the trained model's loss on its training data, every parameter."""
    from minigrad.gradcheck import gradcheck_module
    from minigrad.nn.functional import cross_entropy
    from minigrad.value import Value

    # All of the training data: a few points would all be fitted, with gradients of 1e-12
    # that only round-off can be compared with.
    X_batch, y_batch = result.X_train, result.y_train

    def loss(model: Any, X: np.ndarray, y: np.ndarray) -> Any:
        return cross_entropy(model(Value(X, requires_grad=False)), y)

    return gradcheck_module(result.model, loss, X_batch, y_batch, raise_exception=False)


def _neuron_lines(o: Any) -> list[str]:
    from minigrad.autograd import topological_order

    leaves = [v for v in reversed(topological_order(o)) if v.is_leaf]
    lines = [f"o = tanh(n) = {o.data:.4f}; n = {o.parents[0].data:.4f}"]
    lines += [f"  {v.name:>2} = {v.data: .4f}   d o / d {v.name} = {v.grad: .4f}" for v in leaves]
    return lines


def _write_neuron_pictures(o: Any, out: Path, verbose: bool = False) -> list[Path]:
    """The neuron's graph (SVG, or DOT without Graphviz), text tree and stepper page."""
    from minigrad import viz

    wrote = []
    picture = viz.draw(o, chain_rule=True, title="one neuron")
    try:
        path = out / "neuron.svg"
        path.write_bytes(picture.pipe(format="svg"))
        if verbose:
            print(f"neuron.svg rendered by {picture.renderer}")
    except viz.GraphvizNotFoundError as error:
        path = out / "neuron.dot"
        path.write_text(picture.source)
        print(f"wrote neuron.dot instead of neuron.svg: {_one_line(error)}")
    wrote.append(path)
    tree = out / "neuron.txt"
    tree.write_text(viz.ascii_tree(o) + "\n")
    wrote.append(tree)
    wrote.append(_write_stepper(o, str(out / "backward_steps.html")))
    return wrote


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head>\n<body style='font-family: sans-serif'>\n"
        f"<h1>{title}</h1>\n{body}\n</body></html>\n"
    )


# ============================================================================ doctor


def run_doctor(args: argparse.Namespace) -> int:
    """``minigrad doctor``: what this installation can show, and what makes the pictures."""
    import platform

    from minigrad import __version__
    from minigrad.viz import _render

    print(f"minigrad {__version__} on Python {platform.python_version()}")
    for line in _render.report():
        print(f"  {line}")
    print(f"  plots: {_module_version('matplotlib')}")
    widgets = _module_version("ipywidgets")
    bars = "tqdm's notebook bar" if "not installed" not in widgets else "a plain text bar"
    print(f"  progress bars in notebooks: {bars} (ipywidgets: {widgets})")
    return OK


def _module_version(name: str) -> str:
    from importlib import metadata

    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return f"{name} not installed"


# ============================================================================ the parser

DEMO_HELP = """\
Train a small network on the two-moons data and show every step of the way:
a progress bar, a per-epoch table, early stopping, the final accuracies, a
gradient check of the trained model, and the pictures, all written into DIR.

examples:
  minigrad demo
  minigrad demo --out /tmp/tour
"""

TRAIN_HELP = """\
Train a model on one of the built-in data sets and evaluate it on held-out data
(a quarter of the data is the test set; --val-split of the rest validates).
Regression (linear) trains on the mean squared error; classification on
cross-entropy.  --json prints one JSON object for scripts instead of the tables.

defaults per data set (flags override them):
  linear   20 apartments, no hidden layer, sgd lr 5e-5, 200 epochs, no early stop
  moons    300 points, hidden 16,16, adam lr 0.02, 300 epochs, patience 30
  circles  300 points, hidden 16,16, adam lr 0.02, 300 epochs, patience 30
  spirals  300 points, hidden 32,32, adam lr 0.01, 500 epochs, patience 50
  xor      300 points, hidden 16,16, adam lr 0.02, 300 epochs, patience 30
  digits   1797 images, hidden 64, adam lr 0.005, 40 epochs, batch 64, patience 8

examples:
  minigrad train --dataset moons
  minigrad train --dataset spirals --hidden 32,32 --optimizer adam --lr 0.01 --epochs 300
  minigrad train --dataset digits --hidden 64 --batch-size 64 --save digits.npz
  minigrad train --dataset linear --optimizer sgd --lr 1e-4 --json
"""

GRAPH_HELP = """\
Compute an expression, run backward from it, and draw its graph with every
value and gradient.  The output format follows -o's extension unless --format
says otherwise; without -o, the graph is printed as a text tree, or, with
--format dot or json, as DOT or JSON alone on stdout (the values and gradients
then go to stderr, so `| dot -Tsvg > g.svg` and json.load work).

An expression uses numbers, names, + - * / ** @, unary minus and the functions
tanh exp log relu sigmoid abs sqrt sum mean max min transpose.  A value is a
number or a list of numbers.  An expression that does not give a single number
is summed before backward.

examples:
  minigrad graph "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88 -o neuron.svg
  minigrad graph "sum(relu(W @ x))" "W=[[1,-2],[3,4]]" "x=[1,1]"    # one unit off
  minigrad graph "a*a + a" a=3 --format dot | dot -Tsvg > reuse.svg
  minigrad graph "a*a + a" a=3 --format dot -o reuse.dot
  minigrad graph "tanh(x*w)" x=0.5 w=2 -o steps.html    # step through backward
"""

GRADCHECK_HELP = """\
Compare the gradients backward computes for an expression with finite
differences, element by element.  Exit status 0 when they agree, 1 when not.
--sweep repeats the check over a range of step sizes and classifies them
(too small: rounding error wins; too large: truncation error wins).

examples:
  minigrad gradcheck "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88
  minigrad gradcheck "sum(sigmoid(W @ x))" "W=[[1,2],[3,4]]" "x=[0.5,-1]" --method forward
  minigrad gradcheck "log(x) * x" x=2 --sweep

--grad NAME=EXPR checks a derivative you worked out by hand instead of
backward's: EXPR's finite differences by NAME against the formula.  The names
with a --grad are checked, the others are data:
  minigrad gradcheck "sum((y - (a*x + b))**2)" "x=[1,2,3]" "y=[2,4,7]" a=1.5 b=0.2 \\
      --grad a="-2*sum(x*(y-(a*x+b)))" --grad b="-2*sum(y-(a*x+b))"
"""

LR_SWEEP_HELP = """\
Train the same model from the same start with each learning rate and report
how it ended: converged, still slow, or diverged.  For the linear data it also
prints the divergence threshold 2/lambda_max of plain gradient descent.

examples:
  minigrad lr-sweep --dataset linear --lrs 1e-10,1e-7,1e-4,1.2e-4
  minigrad lr-sweep --dataset linear --lrs 1e-5,5e-5,1e-4 --epochs 50 --plot sweep.png
"""


DOCTOR_HELP = """\
Say what this installation can show: which renderer draws the graph pictures
(Graphviz's dot program when it is on PATH, Graphviz in WebAssembly
otherwise; MINIGRAD_RENDERER=dot or wasm forces one), whether PNG and PDF
can be written, and which progress bar notebooks get.  It draws one small
test picture.

example:
  minigrad doctor
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minigrad`` command and its sub-commands."""
    from minigrad import __version__

    parser = _Parser(
        prog="minigrad",
        description="minigrad: automatic differentiation from scratch, to study backprop.",
        epilog=(
            "examples:\n  minigrad demo\n  minigrad train --dataset moons --json\n"
            '  minigrad graph "tanh(x*w + b)" x=1 w=2 b=0.5 -o neuron.svg\n'
            '  minigrad gradcheck "x**3 / y" x=2 y=5 --sweep\n'
            "  minigrad lr-sweep --dataset linear --lrs 1e-10,1e-7,1e-4,1.2e-4\n\n"
            "Run minigrad COMMAND --help for the details of a command."
        ),
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, text: str, run: Callable) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=text, formatter_class=_FORMATTER)
        sub.set_defaults(run=run)
        return sub

    demo = command("demo", "the guided tour: train, check, draw", DEMO_HELP, run_demo)
    demo.add_argument(
        "--out",
        type=file_name,
        metavar="DIR",
        default="minigrad-demo",
        help="where to write (minigrad-demo/)",
    )
    demo.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    demo.add_argument(
        "--verbose", action="store_true", help="also say which renderer drew the pictures"
    )

    train = command("train", "train a model on a built-in data set", TRAIN_HELP, run_train)
    train.add_argument("--dataset", required=True, choices=DATASETS, help="the data set")
    train.add_argument(
        "--hidden",
        type=hidden_sizes,
        default=None,
        metavar="SIZES",
        help="hidden layer sizes, e.g. 16,16 (0: none)",
    )
    train.add_argument(
        "--model", choices=("mlp", "cnn"), default="mlp", help="mlp, or cnn (digits only)"
    )
    train.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="(relu)")
    train.add_argument(
        "--dropout", type=probability, default=0.0, metavar="P", help="dropout probability (0)"
    )
    train.add_argument("--optimizer", choices=("sgd", "adam"), default=None, help="optimizer")
    train.add_argument("--lr", type=learning_rate, default=None, help="learning rate (>= 0)")
    train.add_argument("--epochs", type=positive_int, default=None, help="at most this many")
    train.add_argument(
        "--batch-size", type=positive_int, default=None, help="examples per step (default: all)"
    )
    train.add_argument(
        "--patience",
        type=non_negative_int,
        default=None,
        help="stop after this many epochs without improvement (0: never stop early)",
    )
    train.add_argument(
        "--val-split",
        type=fraction,
        default=0.2,
        metavar="F",
        help="share of the training data held out for validation (0.2)",
    )
    train.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    train.add_argument(
        "--save", type=file_name, metavar="FILE", help="save the trained model (.npz)"
    )
    train.add_argument(
        "--out", type=file_name, metavar="DIR", help="also write loss curves (and boundary) here"
    )
    train.add_argument("--json", action="store_true", help="print one JSON object")

    graph = command("graph", "draw an expression's graph", GRAPH_HELP, run_graph)
    graph.add_argument("expression", metavar="EXPR", help="the expression, quoted")
    graph.add_argument(
        "values", nargs="*", default=[], metavar="NAME=VALUE", help="values of its names"
    )
    graph.add_argument(
        "-o", "--output", type=file_name, metavar="FILE", help="write here (default: print)"
    )
    graph.add_argument("--format", choices=GRAPH_FORMATS, help="output format (from -o)")
    graph.add_argument(
        "--verbose", action="store_true", help="also say which renderer drew the picture"
    )

    check = command("gradcheck", "check an expression's gradients", GRADCHECK_HELP, run_gradcheck)
    check.add_argument("expression", metavar="EXPR", help="the expression, quoted")
    check.add_argument(
        "values", nargs="*", default=[], metavar="NAME=VALUE", help="values of its names"
    )
    check.add_argument("--eps", type=positive_float, default=None, help="finite-difference step")
    check.add_argument("--method", choices=METHODS, default="central", help="(central)")
    check.add_argument("--sweep", action="store_true", help="also sweep the step size")
    check.add_argument(
        "--max-evals",
        type=positive_int,
        default=MAX_EVALUATIONS,
        metavar="N",
        help=f"refuse checks that need more evaluations of the expression ({MAX_EVALUATIONS})",
    )
    check.add_argument(
        "--grad",
        action="append",
        default=[],
        metavar="NAME=EXPR",
        help="a hand-written derivative of EXPR by NAME to check instead (repeatable)",
    )

    sweep = command("lr-sweep", "compare learning rates", LR_SWEEP_HELP, run_lr_sweep)
    sweep.add_argument("--dataset", choices=DATASETS, default="linear", help="(linear)")
    sweep.add_argument(
        "--lrs",
        type=learning_rates,
        default=None,
        metavar="LIST",
        help="comma-separated learning rates (default 1e-10,1e-7,1e-4,1.2e-4)",
    )
    sweep.add_argument("--epochs", type=positive_int, default=None, help="epochs per rate (100)")
    sweep.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    sweep.add_argument(
        "--plot", type=file_name, metavar="FILE", help="also plot the loss curves (PNG)"
    )
    command("doctor", "say what makes the pictures here", DOCTOR_HELP, run_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (0 ok, 1 failed, 2 usage error)."""
    from minigrad.expr import ExprError

    debug = bool(os.environ.get("MINIGRAD_DEBUG"))
    prefix = "minigrad"
    try:
        args, extra = _parse(build_parser(), argv)
        prefix = f"minigrad {args.command}"
        if extra:  # named after the sub-command they were given to, like every other error
            raise UsageError(
                f"{prefix}: error: unrecognized arguments: {' '.join(extra)} (see {prefix} --help)"
            )
        with warnings.catch_warnings():
            # numpy's overflow warnings are multi-line noise here: every command reports
            # non-finite results (divergence, a log of 0) in words instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.run(args)
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else OK
    except UsageError as error:
        message = str(error)
        if not message.startswith("minigrad"):  # every error line names its command
            message = f"{prefix}: error: {message}"
        _fail(message, debug)
        return USAGE
    except ExprError as error:
        _fail(f"{prefix}: error: {error}", debug)
        return USAGE
    except KeyboardInterrupt:
        _fail(f"{prefix}: interrupted", debug)
        return 130
    except BrokenPipeError:  # `minigrad ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return FAILED
    except (ValueError, TypeError, OSError, RuntimeError, ArithmeticError) as error:
        _fail(f"{prefix}: error: {_one_line(error)}", debug)
        return FAILED
    except Exception as error:  # noqa: BLE001  (the promise is: never a traceback)
        _fail(f"{prefix}: error: unexpected {type(error).__name__}: {_one_line(error)}", debug)
        return FAILED


def _parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, list[str]]:
    """Parse the command line: the arguments and the words left over.

    NAME=VALUE values may also come after the options: argparse gives a ``nargs="*"``
    positional only the words before the first option, so ``gradcheck EXPR --grad a=...
    x=1`` would leave ``x=1`` over; such words join the values, in order.
    """
    args, extra = parser.parse_known_args(argv)
    values = getattr(args, "values", None)
    if values is not None:
        late = [word for word in extra if "=" in word and not word.startswith("-")]
        values.extend(late)
        extra = [word for word in extra if word not in late]
    return args, extra


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _fail(message: str, debug: bool) -> None:
    """Print one line on stderr (and the traceback first with MINIGRAD_DEBUG=1)."""
    if debug:
        import traceback

        traceback.print_exc()
    print(" ".join(message.split()), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
