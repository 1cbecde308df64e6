"""The catalogue of bad inputs: what each one gets, exactly.

Each row is a small piece of user code that must fail.  ``tests/test_errors.py`` runs every
row and checks the exception type, that the message says what the row promises, and that
the user's data and model were left as they were.  ``docs/errors.md`` is generated from
the same rows (``python -m tests.errors_catalogue > docs/errors.md``), so the page always
shows the real messages; a test fails when it falls out of date.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from minigrad import Value


@dataclass
class Row:
    area: str
    bad_input: str  # what the user did, in words
    code: str  # the user's code, as shown in the docs
    run: Callable[[], object]
    error: type
    says: str  # a phrase the message must contain
    untouched: Callable[[], bool] = field(default=lambda: True)  # the user's things intact


ROWS: list[Row] = []


def row(area, bad_input, code, error, says, untouched=None):
    def register(run):
        ROWS.append(Row(area, bad_input, code, run, error, says, untouched or (lambda: True)))
        return run

    return register


def _in_scratch_dir(action):
    """Run ``action`` in a fresh directory, so messages show the same relative paths."""
    import os
    import tempfile

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            return action()
        finally:
            os.chdir(here)


# ------------------------------------------------------------------------------ engine

_kept = np.array([1.0, 2.0, 3.0])
_kept_copy = _kept.copy()


@row("engine", "a string as data", 'Value("3")', TypeError, "accepts a real number")
def _():
    return Value("3")


@row("engine", "a complex number", "Value(1 + 2j)", TypeError, "complex")
def _():
    return Value(1 + 2j)


@row("engine", "an object array", "Value(np.array([object()]))", TypeError, "object")
def _():
    return Value(np.array([object()]))


@row("engine", "a ragged nested list", "Value([[1, 2], [3]])", ValueError, "ragged")
def _():
    return Value([[1, 2], [3]])


@row(
    "engine",
    "broadcast shape mismatch",
    "Value(np.ones((2, 3))) + Value(np.ones(4))",
    ValueError,
    "add: operands could not be broadcast",
)
def _():
    return Value(np.ones((2, 3))) + Value(np.ones(4))


@row(
    "engine",
    "matmul shape mismatch",
    "Value(np.ones((2, 3))) @ Value(np.ones((4, 5)))",
    ValueError,
    "input shapes: (2, 3), (4, 5)",
)
def _():
    return Value(np.ones((2, 3))) @ Value(np.ones((4, 5)))


@row(
    "engine",
    "backward of a non-scalar without a gradient",
    "(Value(np.ones((2, 3))) * 2).backward()",
    RuntimeError,
    "needs a gradient argument",
)
def _():
    (Value(np.ones((2, 3))) * 2).backward()


@row(
    "engine",
    "a gradient of the wrong shape",
    "(Value(np.ones((2, 3))) * 2).backward(np.ones(3))",
    ValueError,
    "has shape (3,), but the Value has shape (2, 3)",
)
def _():
    (Value(np.ones((2, 3))) * 2).backward(np.ones(3))


@row(
    "engine",
    "backward through a node that does not require grad",
    "(Value(2.0, requires_grad=False) * 3).backward()",
    RuntimeError,
    "does not require grad",
)
def _():
    (Value(2.0, requires_grad=False) * 3).backward()


@row(
    "engine",
    "a reduction over an axis that does not exist",
    "Value(np.ones((2, 3))).sum(axis=2)",
    ValueError,
    "axis 2 is out of range",
)
def _():
    return Value(np.ones((2, 3))).sum(axis=2)


@row(
    "engine",
    "a custom Function whose backward returns the wrong shape",
    "Twice.apply(x).sum().backward()  # Twice.backward returns np.ones(5) for x of shape (3,)",
    ValueError,
    "returned a gradient of shape (5,) for input 0",
    untouched=lambda: np.array_equal(_kept, _kept_copy),
)
def _():
    class Twice(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)

    Twice.apply(Value(_kept)).sum().backward()


@row(
    "engine",
    "mg.grad for an input the output does not use",
    "mg.grad(x * 2, [x, y])",
    ValueError,
    "is not used to compute the outputs",
)
def _():
    x, y = Value(1.0), Value(2.0)
    return mg.grad(x * 2, [x, y])


@row(
    "engine",
    "data changed between forward and backward",
    "loss = (W * W).sum(); opt.step(); loss.backward()",
    RuntimeError,
    "was changed (by an optimizer step",
)
def _():
    W = Value(np.array([1.0, 2.0]), name="W")
    loss = (W * W).sum()
    W.grad = np.ones(2)
    mg.optim.SGD([W], lr=0.1).step()
    loss.backward()


@row(
    "engine",
    "in-place arithmetic on a parameter",
    "for p in params: p -= lr * p.grad",
    RuntimeError,
    "a leaf that requires grad",
)
def _():
    p = Value(np.ones(2))
    p -= 0.1


@row(
    "engine",
    "a custom backward that edits its gradient in place",
    "def backward(ctx, grad): grad *= 2; return grad",
    ValueError,
    "read-only",
)
def _():
    from tests.custom_ops import DoubleEditingGrad

    (DoubleEditingGrad.apply(Value(np.ones(2))) + Value(np.ones(2))).sum().backward()


@row("engine", "the truth of an array", "if Value(np.ones(3)): ...", ValueError, "ambiguous")
def _():
    return bool(Value(np.ones(3)))


@row(
    "engine",
    "numpy.asarray of a Value that requires grad",
    "np.asarray(Value(np.ones(3)))",
    TypeError,
    "would drop its graph",
)
def _():
    return np.asarray(Value(np.ones(3)))


@row("engine", "a float axis", "v.sum(axis=0.0)", TypeError, "axis must be an int")
def _():
    return Value(np.ones(3)).sum(axis=0.0)


@row("engine", "a fractional size", "v.reshape(2.9, 2)", TypeError, "whole numbers, got 2.9")
def _():
    return Value(np.ones(6)).reshape(2.9, 2)


@row(
    "engine",
    "indexing with a Value made from booleans",
    "x[Value(np.array([True, False, True]))]",
    IndexError,
    "made from booleans",
    untouched=lambda: np.array_equal(_kept, _kept_copy),
)
def _():
    return Value(_kept)[Value(np.array([True, False, True]))]


@row("engine", "an integer beyond float64", "Value(2**1100)", ValueError, "range of float64")
def _():
    return Value(2**1100)


@row(
    "engine",
    "requires_grad that is not True or False",
    'Value(1.0, requires_grad="no")',
    TypeError,
    "requires_grad must be True or False",
)
def _():
    return Value(1.0, requires_grad="no")


@row(
    "engine",
    "None in a backward gradient",
    "y.backward([1, None, 1])",
    TypeError,
    "must hold numbers",
)
def _():
    (Value(np.ones(3)) * 2.0).backward([1, None, 1])


@row("engine", "grad of a number", "mg.grad(y, 3.0)", TypeError, "must be a Value or a sequence")
def _():
    return mg.grad(Value(2.0) * 2.0, 3.0)


# ------------------------------------------------------------------------------ gradcheck

_x = Value(np.array([1.0, 2.0]), name="x")
_x_copy = _x.data.copy()


def _x_untouched() -> bool:
    return np.array_equal(_x.data, _x_copy) and _x.grad is None


def _square_sum(a):
    return (a * a).sum()


@row("gradcheck", "fn is not callable", "mg.gradcheck(3, x)", TypeError, "fn must be callable")
def _():
    return mg.gradcheck(3, _x)


@row(
    "gradcheck",
    "fn does not return a Value",
    "mg.gradcheck(lambda a: 3.0, x)",
    TypeError,
    "fn must return a Value, got float",
    untouched=_x_untouched,
)
def _():
    return mg.gradcheck(lambda a: 3.0, _x)


@row(
    "gradcheck",
    "an input that does not require grad",
    "mg.gradcheck(f, Value([1.0], requires_grad=False))",
    ValueError,
    "does not require grad, so there is no gradient to check",
)
def _():
    return mg.gradcheck(_square_sum, Value([1.0], requires_grad=False))


@row(
    "gradcheck",
    "a non-finite input",
    "mg.gradcheck(f, Value([np.nan]))",
    ValueError,
    "finite differences need finite inputs",
)
def _():
    return mg.gradcheck(_square_sum, Value([np.nan]))


@row(
    "gradcheck",
    "a step size of 0",
    "mg.gradcheck(f, x, eps=0)",
    ValueError,
    "eps must be > 0",
    untouched=_x_untouched,
)
def _():
    return mg.gradcheck(_square_sum, _x, eps=0)


@row(
    "gradcheck",
    "an unknown finite-difference method",
    'mg.numerical_grad(f, x, method="backward")',
    ValueError,
    "unknown method 'backward'",
    untouched=_x_untouched,
)
def _():
    return mg.numerical_grad(_square_sum, _x, method="backward")


@row(
    "gradcheck",
    "a backward rule that is wrong by a factor",
    "mg.gradcheck(lambda a: HalfSquare.apply(a).sum(), x)  # backward forgets the 2",
    mg.GradcheckError,
    "off by a constant factor: analytic = 0.5 x numeric",
    untouched=_x_untouched,
)
def _():
    from tests.custom_ops import HalfSquare

    return mg.gradcheck(lambda a: HalfSquare.apply(a).sum(), _x)


# ------------------------------------------------------------------------------ rendering


def _small_graph():
    x = Value(2.0, name="x")
    return x * 3.0


@row(
    "rendering",
    "drawing something that is not a Value",
    "mg.draw(3.0)",
    TypeError,
    "expects a minigrad Value",
)
def _():
    return mg.draw(3.0)


@row(
    "rendering",
    "an unknown image format",
    'mg.draw(y, format="bmpx")',
    ValueError,
    "unknown image format 'bmpx'",
)
def _():
    return mg.draw(_small_graph(), format="bmpx")


@row(
    "rendering",
    "an output folder that does not exist",
    'mg.render_graph(y, "no/such/folder/y.svg")',
    FileNotFoundError,
    "does not exist",
)
def _():
    return _in_scratch_dir(lambda: mg.render_graph(_small_graph(), "no/such/folder/y.svg"))


@row(
    "rendering",
    "a node limit below 1",
    "mg.to_dot(y, max_nodes=0)",
    ValueError,
    "max_nodes must be at least 1",
)
def _():
    return mg.to_dot(_small_graph(), max_nodes=0)


# ------------------------------------------------------------------------------ nn


def _model(hidden: int = 4):
    return mg.nn.MLP(2, [hidden, 1], seed=0)


_trained = _model()
_trained_state = _trained.state_dict()


def _model_untouched() -> bool:
    now = _trained.state_dict()
    return all(np.array_equal(now[k], _trained_state[k]) for k in _trained_state)


@row("nn", "dropout probability 1", "nn.Dropout(1.0)", ValueError, "must be in [0, 1)")
def _():
    return mg.nn.Dropout(1.0)


@row(
    "nn",
    "a negative dropout probability",
    "nn.MLP(2, [4, 1], dropout=-0.1)",
    ValueError,
    "got -0.1",
)
def _():
    return mg.nn.MLP(2, [4, 1], dropout=-0.1)


@row(
    "nn",
    "an input with the wrong number of features",
    "nn.Layer(3, 2)(Value(np.zeros((4, 5))))",
    ValueError,
    "expects 3 input features",
)
def _():
    return mg.nn.Layer(3, 2, seed=0)(Value(np.zeros((4, 5))))


@row(
    "nn",
    "cross_entropy targets out of range",
    "F.cross_entropy(Value(np.zeros((2, 3))), np.array([0, 3]))",
    ValueError,
    "out of range for 3 classes",
)
def _():
    return mg.nn.functional.cross_entropy(Value(np.zeros((2, 3))), np.array([0, 3]))


@row(
    "nn",
    "cross_entropy targets that are not integers",
    "F.cross_entropy(Value(np.zeros((2, 3))), np.array([0.5, 1]))",
    ValueError,
    "non-integer values",
)
def _():
    return mg.nn.functional.cross_entropy(Value(np.zeros((2, 3))), np.array([0.5, 1]))


@row(
    "nn",
    "prediction and target shapes differ",
    "F.mse_loss(Value(np.zeros((4, 1))), np.zeros(4))",
    ValueError,
    "input has shape (4, 1) but target has shape (4,)",
)
def _():
    return mg.nn.functional.mse_loss(Value(np.zeros((4, 1))), np.zeros(4))


class Block(mg.nn.Module):
    def __init__(self):
        super().__init__()
        self.y = Value(np.zeros(2))


class Net(mg.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = Block()


_parent = Net()
_parent_names = list(_parent.state_dict())


def _parent_untouched() -> bool:
    return list(_parent.state_dict()) == _parent_names


@row(
    "nn",
    "a dotted name next to a child of that name",
    'setattr(model, "x.y", Value(np.ones(2)))  # model.x has a parameter y',
    ValueError,
    "getattr(model, 'x.y') and model.x.y would both be saved",
    untouched=_parent_untouched,
)
def _():
    setattr(_parent, "x.y", Value(np.ones(2)))


@row(
    "nn",
    "dict keys 0 and '0' holding parameters",
    'model.table = {0: Value(1.0), "0": Value(2.0)}',
    ValueError,
    "model.table[0] and model.table['0'] would both be saved under the state_dict name",
    untouched=_parent_untouched,
)
def _():
    _parent.table = {0: Value(1.0), "0": Value(2.0)}


# ------------------------------------------------------------------------------ optim


@row(
    "optim",
    "a negative learning rate (0 is allowed, as in PyTorch)",
    "optim.SGD(model.parameters(), lr=-0.1)",
    ValueError,
    "must be a finite number >= 0, got -0.1",
    untouched=_model_untouched,
)
def _():
    return mg.optim.SGD(_trained.parameters(), lr=-0.1)


@row(
    "optim",
    "learning rate NaN",
    'optim.Adam(model.parameters(), lr=float("nan"))',
    ValueError,
    "got nan",
    untouched=_model_untouched,
)
def _():
    return mg.optim.Adam(_trained.parameters(), lr=float("nan"))


@row(
    "optim", "an empty parameter list", "optim.SGD([], lr=0.1)", ValueError, "empty parameter list"
)
def _():
    return mg.optim.SGD([], lr=0.1)


@row(
    "optim",
    "Adam beta of 1",
    "optim.Adam(model.parameters(), betas=(1.0, 0.9))",
    ValueError,
    "betas[0] must be in [0.0, 1.0)",
    untouched=_model_untouched,
)
def _():
    return mg.optim.Adam(_trained.parameters(), betas=(1.0, 0.9))


# ------------------------------------------------------------------------------ training

_X, _y = mg.data.moons(60, seed=0)
_X_copy, _y_copy = _X.copy(), _y.copy()


def _data_and_model_untouched() -> bool:
    return np.array_equal(_X, _X_copy) and np.array_equal(_y, _y_copy) and _model_untouched()


def _fit(X, y, **options):
    options.setdefault("epochs", 1)
    optimizer = mg.optim.SGD(_trained.parameters(), lr=0.1)
    return mg.fit(_trained, X, y, loss="mse", optimizer=optimizer, verbose=False, **options)


@row(
    "training",
    "X and y of different lengths",
    "mg.fit(model, X, y[:30], ...)",
    ValueError,
    "X and y must have the same number of samples, got 60 and 30",
    untouched=_data_and_model_untouched,
)
def _():
    return _fit(_X, _y[:30])


@row(
    "training",
    "an empty data set",
    "mg.fit(model, X[:0], y[:0], ...)",
    ValueError,
    "the data set is empty",
    untouched=_data_and_model_untouched,
)
def _():
    return _fit(_X[:0], _y[:0])


@row(
    "training",
    "batch size 0",
    "mg.fit(model, X, y, batch_size=0, ...)",
    ValueError,
    "batch_size must be a positive integer, got 0",
    untouched=_data_and_model_untouched,
)
def _():
    return _fit(_X, _y, batch_size=0)


@row(
    "training",
    "NaN in the data",
    "X[3, 1] = np.nan; mg.fit(model, X, y, ...)",
    ValueError,
    "X contains 1 NaN or infinite values",
    untouched=_model_untouched,
)
def _():
    bad = _X.copy()
    bad[3, 1] = np.nan
    return _fit(bad, _y)


@row(
    "training",
    "zero epochs",
    "mg.fit(model, X, y, epochs=0, ...)",
    ValueError,
    "epochs must be a positive integer",
    untouched=_data_and_model_untouched,
)
def _():
    return _fit(_X, _y, epochs=0)


@row(
    "training",
    "a validation split outside (0, 1)",
    "mg.fit(model, X, y, validation_split=1.5, ...)",
    ValueError,
    "validation_split must be a fraction in (0, 1)",
    untouched=_data_and_model_untouched,
)
def _():
    return _fit(_X, _y, validation_split=1.5)


@row(
    "training",
    "a data set of no samples",
    "mg.data.moons(0, seed=0)",
    ValueError,
    "n_samples must be a positive integer",
)
def _():
    return mg.data.moons(0, seed=0)


@row(
    "training",
    "an absurd noise level",
    "mg.data.moons(100, noise=1e308, seed=0)",
    ValueError,
    "noise must be at most 100, got 1e+308",
)
def _():
    return mg.data.moons(100, noise=1e308, seed=0)


_with_nan = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
_with_nan_copy = _with_nan.copy()


@row(
    "training",
    "standardising a column with NaN",
    "mg.data.standardize(X)  # X[1, 1] is NaN",
    ValueError,
    "column 1 of X holds 1 NaN or infinite value(s) (the first, nan, in row 1)",
    untouched=lambda: np.array_equal(_with_nan, _with_nan_copy, equal_nan=True),
)
def _():
    return mg.data.standardize(_with_nan)


# ------------------------------------------------------------------------------ checkpoints


@row(
    "checkpoints",
    "a checkpoint of another architecture",
    'model.load("other.npz")  # saved from MLP(2, [5, 1])',
    mg.nn.CheckpointError,
    "layers.0.W: shape (2, 5) in the checkpoint, but (2, 4) in the model",
    untouched=_model_untouched,
)
def _():
    def act():
        _model(hidden=5).save("other.npz")
        _trained.load("other.npz")

    _in_scratch_dir(act)


@row(
    "checkpoints",
    "a truncated checkpoint",
    'model.load("model.npz")  # cut in half',
    mg.nn.CheckpointError,
    "not a readable .npz checkpoint",
    untouched=_model_untouched,
)
def _():
    def act():
        _model().save("model.npz")
        data = open("model.npz", "rb").read()
        with open("model.npz", "wb") as f:
            f.write(data[: len(data) // 2])
        _trained.load("model.npz")

    _in_scratch_dir(act)


@row(
    "checkpoints",
    "a checkpoint that does not exist",
    'model.load("missing.npz")',
    FileNotFoundError,
    "no checkpoint at 'missing.npz'",
    untouched=_model_untouched,
)
def _():
    _in_scratch_dir(lambda: _trained.load("missing.npz"))


@row(
    "checkpoints",
    "a crafted format version",
    'model.load("crafted.npz")  # __minigrad_format__ is the string "1"',
    mg.nn.CheckpointError,
    "__minigrad_format__.npy': has dtype <U1, but it must hold an integer",
    untouched=_model_untouched,
)
def _():
    def act():
        np.savez("crafted.npz", __minigrad_format__=np.array("1"), **_trained.state_dict())
        _trained.load("crafted.npz")

    _in_scratch_dir(act)


def _zip_with(name: str, data: bytes) -> None:
    import zipfile

    with zipfile.ZipFile("crafted.npz", "w") as archive:
        archive.writestr(name, data)


def _npy_header(shape: tuple) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


@row(
    "checkpoints",
    "a header declaring 10**12 elements",
    'model.load("crafted.npz")  # layers.0.W.npy claims shape (10**12,), holds 16 bytes',
    mg.nn.CheckpointError,
    "declares shape (1000000000000,) of float64 (7.3 TiB), but holds 16 bytes of data",
    untouched=_model_untouched,
)
def _():
    def act():
        _zip_with("layers.0.W.npy", _npy_header((10**12,)) + bytes(16))
        _trained.load("crafted.npz")

    _in_scratch_dir(act)


@row(
    "checkpoints",
    "an encrypted member",
    'model.load("crafted.npz")  # the zip entry of layers.0.W.npy has flag bit 0 set',
    mg.nn.CheckpointError,
    "member 'layers.0.W.npy' is encrypted (checkpoints never are)",
    untouched=_model_untouched,
)
def _():
    def act():
        _zip_with("layers.0.W.npy", _npy_header((2, 4)) + bytes(64))
        data = bytearray(open("crafted.npz", "rb").read())
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.index(signature) + flags_at
            data[at] |= 0x01  # "encrypted"
        with open("crafted.npz", "wb") as f:
            f.write(bytes(data))
        _trained.load("crafted.npz")

    _in_scratch_dir(act)


@row(
    "checkpoints",
    "saving into a folder that does not exist",
    'model.save("runs/model.npz")  # there is no folder runs',
    FileNotFoundError,
    "the folder 'runs' does not exist",
)
def _():
    _in_scratch_dir(lambda: _trained.save("runs/model.npz"))


# ------------------------------------------------------------------------------ cli


class CommandExit(Exception):
    """The minigrad command stopped with a non-zero status; the message is its stderr."""


def _command(*argv: str) -> None:
    """Run ``minigrad ARGV...`` in-process; raise CommandExit with what it printed on stderr."""
    import contextlib

    from minigrad import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli.main(list(argv))
        except SystemExit as stop:
            status = stop.code
    lines = err.getvalue().strip().splitlines()
    if status:
        assert len(lines) == 1, f"expected one line on stderr, got {lines}"
        raise CommandExit(f"exit {status}: {lines[0]}")


def _cli_row(bad_input: str, argv: tuple, says: str):
    shown = "minigrad " + " ".join(
        a if a and " " not in a and "(" not in a else repr(a) for a in argv
    )
    row("cli", bad_input, shown, CommandExit, says)(lambda: _command(*argv))


_cli_row(
    "an expression calling `__import__`",
    ("graph", "__import__('os')"),
    "unknown function '__import__'",
)
_cli_row(
    "attribute access in an expression",
    ("graph", "x.data", "x=1"),
    "not allowed in an expression: attribute access",
)
_cli_row(
    "a lambda in an expression",
    ("graph", "(lambda: 1)()"),
    "only the supported functions can be called",
)
_cli_row(
    "a subscript of a call",
    ("graph", "tanh(x)[0]", "x=1"),
    "not allowed in an expression: subscripts",
)
_cli_row("a name with no value", ("graph", "x * z", "x=1"), "unknown name 'z'")
_cli_row("a division by zero", ("graph", "x / y", "x=1", "y=0"), "division by zero")
_cli_row(
    "shapes that do not broadcast",
    ("graph", "x + y", "x=[1,2]", "y=[1,2,3]"),
    "cannot combine shapes (2,) and (3,)",
)
_cli_row(
    "a negative learning rate",
    ("train", "--dataset", "moons", "--lr", "-1"),
    "--lr: must be a finite number >= 0, got -1",
)
_cli_row(
    "dropout of 1",
    ("train", "--dataset", "moons", "--dropout", "1"),
    "--dropout: must be at least 0 and below 1",
)
_cli_row("an unknown data set", ("train", "--dataset", "mnist"), "invalid choice: 'mnist'")
_cli_row("an empty file name to save to", ("train", "--dataset", "linear", "--save", ""),
         "--save: must be a file name, got ''")  # fmt: skip


def _command_shown(argv: tuple, shown: str, bad_input: str, says: str) -> None:
    """A cli row whose arguments are too long to show: ``shown`` stands for them."""
    row("cli", bad_input, shown, CommandExit, says)(lambda: _command(*argv))


def _numbers(count: int, each: str = "{}") -> str:
    return "[" + ",".join(each.format(i % 10) for i in range(count)) + "]"


_command_shown(  # small enough that a regression would not take the machine's memory
    ("graph", "sum(a+b+c)", f"a={_numbers(300, '[[{}]]')}", f"b=[{_numbers(300, '[{}]')}]",
     f"c={_numbers(300)}"),
    'minigrad graph "sum(a+b+c)" a=... b=... c=...  # shapes (300, 1, 1), (1, 300, 1), (300,)',
    "a broadcast past the size limit",
    "would make an array of shape (300, 300, 300): 27,000,000 numbers (206.0 MiB)",
)  # fmt: skip
_command_shown(
    ("gradcheck", "sum(a*b)", f"a={_numbers(1500)}", f"b={_numbers(1500)}"),
    'minigrad gradcheck "sum(a*b)" a=... b=...  # 1,500 numbers each',
    "a gradient check past --max-evals",
    "takes 6,000 evaluations of the expression",
)


# ------------------------------------------------------------------------------ convolution


def _conv(x_shape, w_shape, **params):
    from minigrad.nn import functional as F

    return F.conv2d(np.zeros(x_shape), np.zeros(w_shape), **params)


@row(
    "convolution",
    "a channel mismatch",
    "F.conv2d(np.zeros((8, 3, 28, 28)), np.zeros((16, 1, 3, 3)))",
    ValueError,
    "input has 3 channels",
)
def _():
    return _conv((8, 3, 28, 28), (16, 1, 3, 3))


@row(
    "convolution",
    "channels-last (NHWC) images",
    "F.conv2d(np.zeros((8, 28, 28, 3)), np.zeros((16, 3, 3, 3)))",
    ValueError,
    "x.transpose(0, 3, 1, 2)",
)
def _():
    return _conv((8, 28, 28, 3), (16, 3, 3, 3))


@row(
    "convolution",
    "a kernel larger than the padded input",
    "F.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))",
    ValueError,
    "the output would have size zero",
)
def _():
    return _conv((1, 1, 2, 2), (1, 1, 3, 3))


@row(
    "convolution",
    "one image without its batch axis",
    "F.conv2d(np.zeros((3, 28, 28)), np.zeros((16, 3, 3, 3)))",
    ValueError,
    "x.reshape(1, 3, 28, 28)",
)
def _():
    return _conv((3, 28, 28), (16, 3, 3, 3))


@row(
    "convolution",
    "a max-pooling window made of padding only",
    "F.max_pool2d(np.zeros((1, 1, 1, 7)), 2, padding=1, dilation=2)",
    ValueError,
    "covers only padding",
)
def _():
    from minigrad.nn import functional as F

    return F.max_pool2d(np.zeros((1, 1, 1, 7)), 2, padding=1, dilation=2)


# ------------------------------------------------------------------------------ the page


def render() -> str:
    """docs/errors.md, from the rows above and the messages they really produce."""
    out = io.StringIO()
    out.write(
        "# Errors: what each bad input gets\n\n"
        "Every row is checked by `tests/test_errors.py`: the exception type, the message, and\n"
        "that the data and the model the user had are left as they were.  This page is\n"
        "generated from those rows (`python -m tests.errors_catalogue > docs/errors.md`), so\n"
        "the messages below are the real ones.\n\n"
        f"{len(ROWS)} bad inputs are covered.\n"
    )
    for area in dict.fromkeys(r.area for r in ROWS):
        out.write(f"\n## {area}\n\n| bad input | code | exception | message |\n|---|---|---|---|\n")
        for r in (r for r in ROWS if r.area == area):
            message = _message_of(r)
            kind = "exit status, stderr" if r.error is CommandExit else f"`{r.error.__name__}`"
            out.write(f"| {r.bad_input} | `{_cell(r.code)}` | {kind} | {_cell(message)} |\n")
    return out.getvalue()


def _message_of(r: Row) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r.run()
        except r.error as error:
            return str(error)
    raise AssertionError(f"{r.bad_input}: no {r.error.__name__} was raised")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


if __name__ == "__main__":
    sys.stdout.write(render())
