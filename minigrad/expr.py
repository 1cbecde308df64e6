"""Arithmetic expressions for the ``minigrad`` command, read safely.

``minigrad graph "tanh(x1*w1 + x2*w2 + b)" x1=2 ...`` needs to turn a string typed by a
person into a computation on Values.  This module does it without ever calling ``eval``:
the text is parsed by Python's ``ast`` module, every node of the tree is checked against a
short whitelist, and a small interpreter walks the checked tree (with an explicit stack)
applying minigrad operations.

What an expression may contain:

* numbers (``2``, ``-3.5``, ``1e-3``) and lists of numbers (``[[1, 2], [3, 4]]``), which
  become constants;
* names (``x1``, ``W``), which become the leaves whose gradients you want;
* the operators ``+ - * / ** @`` and unary ``-`` / ``+``;
* calls of the functions in ``FUNCTIONS`` by name: ``tanh exp log relu sigmoid abs
  sqrt``, compositions such as ``log2 square gelu softplus``, every elementwise primitive
  of the table that has a ``summary`` (``sin cos erf floor``...), ``sum mean max min
  prod var std norm`` (reductions, optionally over an ``axis``), ``transpose``, and
  ``maximum minimum logaddexp`` of two arguments.  ``docs/operations.md`` lists them all,
  generated from ``FUNCTIONS``.

Everything else (attribute access, subscripts, lambdas, comparisons, strings, calls of
anything not in the list, ``__import__('os')``...) is refused with an ``ExprError`` whose
message is one line naming the construct.  So are results that make no sense: a division
by zero, a shape mismatch, a log of a negative number.

Values given on the command line (``NAME=VALUE``) are read by ``parse_value``, which
accepts only a number or a (nested) list of numbers.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad._units import human_bytes
from minigrad.value import Value, as_value

#: Longest expression or value accepted, in characters.  Python's own parser gives up on
#: deeply nested input with RecursionError or MemoryError; a bound keeps us far from that.
MAX_LENGTH = 5000

#: Most numbers the results of one evaluation may hold together (80 MB of float64).  Short
#: values can broadcast into huge arrays (shapes (1000, 1, 1) + (1, 1000, 1) + (1, 1, 1000)
#: make 10**9 numbers), so each operation's result shape is worked out, and refused past
#: this, before anything is allocated.
MAX_ELEMENTS = 10_000_000


class ExprError(ValueError):
    """A problem with an expression or a value: the message is one line, meant for a person."""


@dataclass(frozen=True)
class FunctionSpec:
    """A function that expressions may call."""

    apply: Callable[..., Value]
    reduction: bool  # True when it takes an optional ``axis``
    summary: str
    arity: int = 1  # 2 for functions of two expressions, maximum(a, b)


def _reduction(method: str) -> Callable[..., Value]:
    def apply(x: Value, axis: int | None = None) -> Value:
        return getattr(x, method)(axis=axis)

    return apply


def _binary(name: str) -> Callable[[Value, Value], Value]:
    def apply(a: Value, b: Value) -> Value:
        from minigrad import functions

        return getattr(functions, name)(a, b)

    return apply


#: Functions composed of primitives (or with a reader-specific signature), by name.  One
#: row a function: the rows look alike because this is a table.
_COMPOSED: dict[str, FunctionSpec] = {
    "tanh": FunctionSpec(lambda x: x.tanh(), False, "hyperbolic tangent"),
    "exp": FunctionSpec(lambda x: x.exp(), False, "e to the power x"),
    "log": FunctionSpec(lambda x: x.log(), False, "natural logarithm (x > 0)"),
    "relu": FunctionSpec(lambda x: x.relu(), False, "max(x, 0)"),
    "sigmoid": FunctionSpec(lambda x: x.sigmoid(), False, "1 / (1 + exp(-x))"),
    "abs": FunctionSpec(lambda x: x.abs(), False, "absolute value"),
    "sqrt": FunctionSpec(lambda x: x.sqrt(), False, "square root (x >= 0)"),
    "sum": FunctionSpec(_reduction("sum"), True, "sum of the elements (or along axis)"),
    "mean": FunctionSpec(_reduction("mean"), True, "mean of the elements (or along axis)"),
    "max": FunctionSpec(_reduction("max"), True, "largest element (or along axis)"),
    "min": FunctionSpec(_reduction("min"), True, "smallest element (or along axis)"),
    "transpose": FunctionSpec(lambda x: x.transpose(), False, "reverse the axes (W.T)"),
    "log2": FunctionSpec(lambda x: x.log2(), False, "base-2 logarithm (x > 0)"),
    "log10": FunctionSpec(lambda x: x.log10(), False, "base-10 logarithm (x > 0)"),
    "exp2": FunctionSpec(lambda x: x.exp2(), False, "2 to the power x"),
    "square": FunctionSpec(lambda x: x.square(), False, "x * x"),
    "reciprocal": FunctionSpec(lambda x: x.reciprocal(), False, "1 / x (x != 0)"),
    "prod": FunctionSpec(_reduction("prod"), True, "product of the elements (or along axis)"),
    "var": FunctionSpec(_reduction("var"), True, "variance, ddof 0 (or along axis)"),
    "std": FunctionSpec(_reduction("std"), True, "standard deviation, ddof 0 (or along axis)"),
    "norm": FunctionSpec(_reduction("norm"), True, "Euclidean norm (or along axis)"),
    "gelu": FunctionSpec(lambda x: _functional().gelu(x), False, "x * Phi(x), the exact GELU"),
    "silu": FunctionSpec(lambda x: _functional().silu(x), False, "x * sigmoid(x)"),
    "softplus": FunctionSpec(lambda x: _functional().softplus(x), False, "log(1 + exp(x))"),
    "softsign": FunctionSpec(lambda x: _functional().softsign(x), False, "x / (1 + |x|)"),
    "logsigmoid": FunctionSpec(lambda x: _functional().logsigmoid(x), False, "log sigmoid(x)"),
    "mish": FunctionSpec(lambda x: _functional().mish(x), False, "x * tanh(softplus(x))"),
    "elu": FunctionSpec(lambda x: _functional().elu(x), False, "x > 0 ? x : exp(x) - 1"),
    "selu": FunctionSpec(lambda x: _functional().selu(x), False, "the self-normalising ELU"),
    "maximum": FunctionSpec(_binary("maximum"), False, "the larger of a and b (ties share)", 2),
    "minimum": FunctionSpec(_binary("minimum"), False, "the smaller of a and b (ties share)", 2),
    "logaddexp": FunctionSpec(_binary("logaddexp"), False, "log(exp(a) + exp(b)), stable", 2),
    "leaky_relu": FunctionSpec(lambda x: _functional().leaky_relu(x), False, "x > 0 ? x : 0.01 x"),
}


def _functional() -> Any:
    from minigrad.nn import functional  # the engine's reader does not load nn until needed

    return functional


class _Functions(Mapping):
    """The functions an expression may call, by name: the compositions above, then every
    registered primitive of ``minigrad.functions`` that has a ``summary`` (called with one
    argument, ``name(x)``).  Read from the registry at each lookup, so a primitive defined
    anywhere is callable as soon as its class exists."""

    def _table(self) -> dict[str, FunctionSpec]:
        from minigrad import functions as F

        table = dict(_COMPOSED)
        for name, primitive in F.REGISTRY.items():
            if primitive.summary and name not in table:
                table[name] = FunctionSpec(primitive.apply, False, primitive.summary)
        return table

    def __getitem__(self, name: str) -> FunctionSpec:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


#: The functions an expression may call, by name (a read-only mapping).
FUNCTIONS: Mapping[str, FunctionSpec] = _Functions()

_BINARY = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
    ast.MatMult: ("@", lambda a, b: a @ b),
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}

_REFUSED_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}

_REFUSED_NODES = {
    "Attribute": "attribute access",
    "Subscript": "subscripts (indexing)",
    "Lambda": "lambda functions",
    "Compare": "comparisons",
    "BoolOp": "'and' / 'or'",
    "IfExp": "conditional expressions (a if c else b)",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "generator expressions",
    "Dict": "dictionaries",
    "Set": "sets",
    "JoinedStr": "f-strings",
    "FormattedValue": "f-strings",
    "NamedExpr": "assignment expressions (:=)",
    "Starred": "starred arguments",
    "Slice": "slices",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}


# ============================================================================ parsing


@dataclass(frozen=True)
class Expression:
    """A checked expression: safe to evaluate on any values.

    ``names`` lists the variables it uses, in the order they first appear in the text.
    """

    text: str
    tree: ast.Expression
    names: tuple[str, ...]

    def evaluate(self, values: Mapping[str, Any], max_elements: int | None = MAX_ELEMENTS) -> Value:
        """Compute the expression on ``values`` (name -> Value, number or array).

        Numbers and arrays given here become leaves that require grad, named after their
        variable; Values are used as they are.  Raises ``ExprError`` (and nothing else)
        for an unknown name, a division by zero, a shape mismatch, a non-finite result, or
        results that would hold more than ``max_elements`` numbers together (checked
        before each operation allocates; None for no limit).
        """
        leaves = {}
        for name in self.names:
            if name not in values:
                raise ExprError(f"unknown name '{name}': give it a value, for example {name}=1.0")
            given = values[name]
            leaves[name] = given if isinstance(given, Value) else _leaf(name, given)
        return _interpret(self.text, self.tree, leaves, max_elements)


def parse(text: str) -> Expression:
    """Parse and check ``text``; raise ``ExprError`` naming the first construct refused."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, got {type(text).__name__}")
    tree = _parse_tree(text, "expression")
    positions: dict[str, tuple[int, int]] = {}
    calls = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    literals: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in literals:
            continue
        if isinstance(node, (ast.List, ast.Tuple)):
            _check_literal(text, node)
            literals.update(id(inner) for inner in ast.walk(node))
            continue
        _check_node(text, node, calls)
        if isinstance(node, ast.Name) and id(node) not in calls:
            if node.id in FUNCTIONS:
                raise ExprError(
                    f"'{node.id}' is a function: call it, as in {node.id}(x), "
                    "or pick another variable name"
                )
            where = (node.lineno, node.col_offset)
            positions[node.id] = min(positions.get(node.id, where), where)
    names = tuple(sorted(positions, key=positions.__getitem__))
    return Expression(text, tree, names)


def evaluate(
    text: str, values: Mapping[str, Any], max_elements: int | None = MAX_ELEMENTS
) -> Value:
    """``parse(text).evaluate(values, max_elements)``: the Value of the expression."""
    return parse(text).evaluate(values, max_elements)


def parse_value(text: str) -> float | np.ndarray:
    """Read a number or a nested list of numbers, e.g. ``-3``, ``1e-3``, ``[[1, 2], [3, 4]]``.

    Returns a Python float or a float64 array.  Raises ``ExprError`` for anything else
    (names, calls, arithmetic, strings, ragged or empty lists, inf and nan).
    """
    if not isinstance(text, str):
        raise ExprError(f"a value must be a string, got {type(text).__name__}")
    tree = _parse_tree(text, "value")
    return _literal(text, tree.body)


def parse_assignment(text: str) -> tuple[str, float | np.ndarray]:
    """Read ``NAME=VALUE`` as given on the command line, e.g. ``W=[[1,2],[3,4]]``."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise ExprError(f"'{text}' is not NAME=VALUE (for example x=2.0)")
    check_name(name)
    if not value.strip():
        raise ExprError(f"'{name}=' has no value (for example {name}=2.0)")
    try:
        return name, parse_value(value)
    except ExprError as error:
        raise ExprError(f"{name}: {error}") from None


def parse_assignments(items: Iterable[str]) -> dict[str, float | np.ndarray]:
    """Read several ``NAME=VALUE``; a name given twice is an error."""
    values: dict[str, float | np.ndarray] = {}
    for item in items:
        name, value = parse_assignment(item)
        if name in values:
            raise ExprError(f"'{name}' is given a value twice")
        values[name] = value
    return values


def check_name(name: str) -> None:
    """Raise ``ExprError`` unless ``name`` can be a variable of an expression."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ExprError(f"'{name}' is not a valid variable name (use letters, digits and _)")
    if name in FUNCTIONS:
        raise ExprError(f"'{name}' is the name of a function; pick another variable name")


def _parse_tree(text: str, what: str) -> ast.Expression:
    stripped = text.strip()
    if not stripped:
        raise ExprError(f"the {what} is empty")
    if len(stripped) > MAX_LENGTH:
        raise ExprError(
            f"the {what} is too long ({len(stripped)} characters; at most {MAX_LENGTH})"
        )
    try:
        with warnings.catch_warnings():
            # Python warns about text like "1and x" before it parses it; the whitelist
            # answers such input in one line, so the multi-line warning is only noise.
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        detail = (error.msg or "invalid syntax").split("\n")[0]
        column = f" at column {error.offset}" if error.offset else ""
        raise ExprError(f"cannot read the {what} '{_short(stripped)}': {detail}{column}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ExprError(f"the {what} is nested too deeply to read") from None


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _source(text: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(text.strip(), node)
    return _short(segment) if segment else type(node).__name__


def _check_node(text: str, node: ast.AST, calls: set[int]) -> None:
    """Refuse every node that is not on the whitelist."""
    kind = type(node).__name__
    if isinstance(node, (ast.Expression, ast.Load)):
        return
    if isinstance(node, ast.operator):
        if type(node) in _REFUSED_OPERATORS:
            symbol = _REFUSED_OPERATORS[type(node)]
            hint = " (for a power use **)" if symbol == "^" else ""
            raise ExprError(f"the operator {symbol} is not supported; use + - * / ** @{hint}")
        return
    if isinstance(node, ast.unaryop):
        if type(node) not in _UNARY:
            symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node), kind)
            raise ExprError(f"the operator {symbol} is not supported; use unary - or +")
        return
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.Constant):
        _number(text, node)
        return
    if isinstance(node, ast.Call):
        _check_call(text, node)
        return
    if isinstance(node, ast.keyword):
        return  # checked with its call
    described = _REFUSED_NODES.get(kind, f"'{kind}' constructs")
    raise ExprError(f"not allowed in an expression: {described} ('{_source(text, node)}')")


def _check_call(text: str, node: ast.Call) -> None:
    func = node.func
    if isinstance(func, ast.Attribute):
        raise ExprError(f"not allowed in an expression: attribute access ('{_source(text, func)}')")
    if not isinstance(func, ast.Name):
        raise ExprError(
            f"only the supported functions can be called, by name: '{_source(text, node)}'"
        )
    spec = FUNCTIONS.get(func.id)
    if spec is None:
        names = list(FUNCTIONS)
        close = difflib.get_close_matches(func.id, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ExprError(
            f"unknown function '{func.id}'{hint}; the supported functions are "
            f"{', '.join(names[:12])}... (all listed in docs/operations.md)"
        )
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise ExprError(f"starred arguments are not allowed: '{_source(text, node)}'")
    for kw in node.keywords:
        if kw.arg != "axis" or not spec.reduction:
            given = "**" if kw.arg is None else kw.arg
            raise ExprError(
                f"{func.id}() takes no keyword argument '{given}'"
                + (" (only axis=)" if spec.reduction else "")
            )
    positional = len(node.args)
    total = positional + len(node.keywords)
    if spec.arity == 2:
        if positional != 2 or node.keywords:
            raise ExprError(
                f"{func.id} takes two arguments, as in {func.id}(a, b): '{_source(text, node)}'"
            )
        return
    if positional < 1 or total > (2 if spec.reduction else 1):
        shape = f"{func.id}(x) or {func.id}(x, axis)" if spec.reduction else f"{func.id}(x)"
        raise ExprError(f"{func.id} takes one argument, as in {shape}: '{_source(text, node)}'")
    axis_nodes = node.args[1:] + [kw.value for kw in node.keywords]
    for axis in axis_nodes:
        _axis(text, axis)


def _axis(text: str, node: ast.AST) -> int:
    sign = 1
    inner = node
    if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(inner.op, ast.USub) else 1
        inner = inner.operand
    if isinstance(inner, ast.Constant) and type(inner.value) is int and abs(inner.value) < 64:
        return sign * inner.value
    raise ExprError(
        f"an axis must be a small whole number such as 0 or -1: '{_source(text, node)}'"
    )


def _number(text: str, node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise ExprError(f"'{_source(text, node)}' is not a number")
    if isinstance(value, complex):
        raise ExprError(f"complex numbers are not supported: '{_source(text, node)}'")
    if isinstance(value, (str, bytes)):
        raise ExprError(f"strings are not allowed: '{_source(text, node)}'")
    if not isinstance(value, (int, float)):
        raise ExprError(f"'{_source(text, node)}' is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ExprError(f"the number '{_short(str(value))}' is too large") from None
    if not np.isfinite(number):
        raise ExprError(f"the number '{_source(text, node)}' is too large (not finite)")
    return number


def _check_literal(text: str, node: ast.AST) -> None:
    _literal(text, node)


def _literal(text: str, node: ast.AST) -> float | np.ndarray:
    """A number or nested list/tuple of numbers (with unary signs) as float or array."""
    for inner in ast.walk(node):
        if isinstance(inner, (ast.List, ast.Tuple, ast.Load, ast.USub, ast.UAdd)):
            continue
        if isinstance(inner, ast.UnaryOp):
            if not isinstance(inner.operand, ast.Constant):
                raise ExprError(
                    f"a value must be a number or a list of numbers: '{_source(text, inner)}'"
                )
            continue
        if isinstance(inner, ast.Constant):
            _number(text, inner)
            continue
        raise ExprError(
            f"a value must be a number or a list of numbers, such as 2.5 or [[1, 2], [3, 4]]; "
            f"got '{_source(text, inner)}'"
        )
    try:
        raw = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as error:
        raise ExprError(f"cannot read the value '{_source(text, node)}': {error}") from None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        array = np.array(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise ExprError(
            f"the list '{_source(text, node)}' is ragged: every row must have the same length"
        ) from None
    if array.size == 0:
        raise ExprError(f"the list '{_source(text, node)}' is empty")
    if not np.all(np.isfinite(array)):
        raise ExprError(f"the list '{_source(text, node)}' holds a number too large")
    return array


def _leaf(name: str, data: Any) -> Value:
    try:
        return Value(data, name=name)
    except (TypeError, ValueError) as error:
        raise ExprError(f"{name}: {error}") from None


# ============================================================================ evaluation


_HINTS = {
    "log": "log needs a positive argument",
    "sqrt": "sqrt needs an argument >= 0",
    "exp": "exp overflows for arguments above about 709",
    "arcsin": "arcsin needs -1 <= x <= 1",
    "arccos": "arccos needs -1 <= x <= 1",
    "log1p": "log1p needs x > -1",
    "log2": "log2 needs a positive argument",
    "log10": "log10 needs a positive argument",
    "**": "a negative base needs a whole exponent, and 0 cannot have a negative one",
}
_SHAPE_RULES = {"@": "the inner sizes must agree, as in (m, k) @ (k, n) or (m, k) @ (k,)"}


def _interpret(
    text: str, tree: ast.Expression, leaves: Mapping[str, Value], max_elements: int | None
) -> Value:
    """Evaluate a checked tree bottom-up with an explicit stack (no recursion)."""
    budget = _Budget(text, max_elements, sum(leaf.size for leaf in leaves.values()))
    results: dict[int, Value] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, ready = stack.pop()
            if isinstance(node, ast.Name):
                results[id(node)] = leaves[node.id]
            elif isinstance(node, ast.Constant):
                results[id(node)] = as_value(_number(text, node))
            elif isinstance(node, (ast.List, ast.Tuple)):
                results[id(node)] = as_value(_literal(text, node))
            elif not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(_operands(node)))
            else:
                args = [results[id(c)] for c in _operands(node)]
                budget.reserve(node, args)
                results[id(node)] = _apply(text, node, args)
    return results[id(tree.body)]


class _Budget:
    """The numbers an evaluation's results hold so far, against ``MAX_ELEMENTS``."""

    def __init__(self, text: str, limit: int | None, used: int) -> None:
        self.text, self.limit, self.used = text, limit, used

    def reserve(self, node: ast.AST, args: list[Value]) -> None:
        """Count the result of ``node`` on ``args``; refuse it before it is computed if it
        would take the total past the limit.  A result never outgrows its largest operand
        except through broadcasting or @, whose result shapes are worked out here."""
        shape = _result_shape(node, args)
        if shape is None:
            return  # the operation will refuse these shapes itself, with its own message
        size = math.prod(shape)
        self.used += size
        if self.limit is None or self.used <= self.limit:
            return
        where = _source(self.text, node)
        if size > self.limit:
            shapes = " and ".join(str(a.shape) for a in args)
            raise ExprError(
                f"'{where}' would make an array of shape {shape}: {size:,} numbers "
                f"({human_bytes(8 * size)}) from shapes {shapes}; the command allows "
                f"{self.limit:,} numbers ({human_bytes(8 * self.limit)}); use smaller values"
            )
        raise ExprError(
            f"at '{where}' the expression's results would hold {self.used:,} numbers "
            f"together ({human_bytes(8 * self.used)}); the command allows {self.limit:,} "
            f"({human_bytes(8 * self.limit)}); use smaller values or a shorter expression"
        )


def _result_shape(node: ast.AST, args: list[Value]) -> tuple[int, ...] | None:
    """The shape ``node`` will give ``args``, or None when the shapes do not fit."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return _matmul_shape(args[0].shape, args[1].shape)
    if isinstance(node, ast.BinOp):
        try:
            return np.broadcast_shapes(args[0].shape, args[1].shape)
        except ValueError:
            return None
    if len(args) == 2:  # maximum(a, b), logaddexp(a, b): elementwise, broadcasting
        try:
            return np.broadcast_shapes(args[0].shape, args[1].shape)
        except ValueError:
            return None
    return args[0].shape  # unary operations keep it, reductions shrink it


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    if not a or not b:
        return None
    left = a if len(a) > 1 else (1, *a)  # a vector is a row on the left, a column on the right
    right = b if len(b) > 1 else (*b, 1)
    if left[-1] != right[-2]:
        return None
    try:
        batch = np.broadcast_shapes(left[:-2], right[:-2])
    except ValueError:
        return None
    rows = (left[-2],) if len(a) > 1 else ()  # the added dimensions are dropped again
    columns = (right[-1],) if len(b) > 1 else ()
    return (*batch, *rows, *columns)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return node.args[: FUNCTIONS[node.func.id].arity]
    raise ExprError(f"unexpected '{type(node).__name__}' in a checked expression")


def _apply(text: str, node: ast.AST, args: list[Value]) -> Value:
    where = _source(text, node)
    if isinstance(node, ast.BinOp):
        symbol, function = _BINARY[type(node.op)]
        if symbol == "/" and np.any(np.asarray(args[1].data) == 0):
            raise ExprError(f"division by zero in '{where}': '{_source(text, node.right)}' is 0")
        if symbol == "@" and (args[0].ndim == 0 or args[1].ndim == 0):
            raise ExprError(
                f"'{where}': @ multiplies matrices or vectors; use * for numbers "
                f"(shapes {args[0].shape} and {args[1].shape})"
            )
        hint_key = symbol
    elif isinstance(node, ast.UnaryOp):
        function = _UNARY[type(node.op)]
        hint_key = "-"
    else:
        name = node.func.id
        spec = FUNCTIONS[name]
        hint_key = name
        axis_nodes = node.args[spec.arity :] + [kw.value for kw in node.keywords]
        if axis_nodes:
            axis = _axis(text, axis_nodes[0])

            def function(x: Value) -> Value:
                return spec.apply(x, axis=axis)

        else:
            function = spec.apply
    try:
        out = function(*args)
    except ExprError:
        raise
    except (ValueError, TypeError, IndexError, ArithmeticError, RuntimeError) as error:
        if isinstance(node, ast.BinOp) and "shape" in str(error):
            rule = _SHAPE_RULES.get(symbol, "the shapes must broadcast against each other")
            raise ExprError(
                f"shape mismatch in '{where}': {symbol} cannot combine shapes "
                f"{args[0].shape} and {args[1].shape} ({rule})"
            ) from None
        message = " ".join(str(error).split())
        raise ExprError(f"cannot compute '{where}': {message}") from None
    if not _finite(out.data) and all(_finite(a.data) for a in args):
        if hint_key == "**" and np.all(np.asarray(args[0].data) > 0):
            hint_key = "overflow"
        hint = _HINTS.get(hint_key, "the result is outside the float64 range")
        raise ExprError(f"'{where}' is not finite at these values ({hint})")
    return out


def _finite(data: Any) -> bool:
    return bool(np.all(np.isfinite(data)))
