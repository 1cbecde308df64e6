"""The expression reader behind ``minigrad graph`` and ``minigrad gradcheck``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigrad import Value
from minigrad.expr import (
    FUNCTIONS,
    ExprError,
    evaluate,
    parse,
    parse_assignment,
    parse_assignments,
    parse_value,
)

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_VALUES = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.88)


def test_the_neuron_matches_its_closed_form():
    out = evaluate(NEURON, NEURON_VALUES)
    n = 2.0 * -3.0 + 0.0 * 1.0 + 6.88
    assert out.item() == pytest.approx(math.tanh(n), rel=1e-12)
    out.backward()
    leaves = {p.name: p for p in _leaves(out)}
    dn = 1 - math.tanh(n) ** 2
    assert leaves["w1"].grad == pytest.approx(dn * 2.0)
    assert leaves["x1"].grad == pytest.approx(dn * -3.0)
    assert leaves["w2"].grad == pytest.approx(0.0)
    assert leaves["b"].grad == pytest.approx(dn)


def _leaves(out: Value) -> list[Value]:
    seen, stack, found = set(), [out], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.is_leaf and node.requires_grad:
            found.append(node)
        stack.extend(node.parents)
    return found


def test_names_are_listed_in_order_of_appearance_without_functions():
    assert parse(NEURON).names == ("x1", "w1", "x2", "w2", "b")
    assert parse("sum(W @ x) + W").names == ("W", "x")
    assert parse("2 * 3").names == ()


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("a + b * c", dict(a=1, b=2, c=3), 7.0),
        ("a - b - c", dict(a=1, b=2, c=3), -4.0),
        ("2 ** x ** 2", dict(x=2), 16.0),  # ** is right-associative, as in Python
        ("-x ** 2", dict(x=3), -9.0),
        ("+x / 4", dict(x=2), 0.5),
        ("exp(log(x))", dict(x=5), 5.0),
        ("sigmoid(x)", dict(x=0.3), 1 / (1 + math.exp(-0.3))),
        ("relu(x) + relu(-x)", dict(x=-2.5), 2.5),
        ("abs(x) + sqrt(y)", dict(x=-2, y=9), 5.0),
        ("sum(W)", dict(W=[[1, 2], [3, 4]]), 10.0),
        ("mean(W)", dict(W=[[1, 2], [3, 4]]), 2.5),
        ("max(W) - min(W)", dict(W=[[1, 2], [3, 4]]), 3.0),
        ("sum(W @ x)", dict(W=[[1, 2], [3, 4]], x=[1, -1]), -2.0),
        ("sum(transpose(W) @ x)", dict(W=[[1, 2], [3, 4]], x=[1, -1]), -4.0),
        ("sum(x * [1, 2, 3])", dict(x=[1, 1, 1]), 6.0),
        ("1e-3 * x", dict(x=1000), 1.0),
    ],
)
def test_values_match_plain_python(text, values, expected):
    values = {k: np.array(v, dtype=float) if isinstance(v, list) else v for k, v in values.items()}
    assert evaluate(text, values).item() == pytest.approx(expected, rel=1e-12)


def test_reductions_along_an_axis():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(evaluate("sum(W, 0)", {"W": W}).data, [4.0, 6.0])
    np.testing.assert_allclose(evaluate("sum(W, axis=1)", {"W": W}).data, [3.0, 7.0])
    np.testing.assert_allclose(evaluate("max(W, -1)", {"W": W}).data, [2.0, 4.0])
    np.testing.assert_allclose(evaluate("mean(W, axis=0)", {"W": W}).data, [2.0, 3.0])


def test_gradients_of_a_matrix_expression_match_the_closed_form():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, -1.0])
    out = evaluate("sum(tanh(W @ x))", {"W": W, "x": x})
    out.backward()
    leaves = {p.name: p for p in _leaves(out)}
    d = 1 - np.tanh(W @ x) ** 2
    np.testing.assert_allclose(leaves["W"].grad, np.outer(d, x))
    np.testing.assert_allclose(leaves["x"].grad, W.T @ d)


def test_constants_do_not_require_grad_and_variables_carry_their_names():
    out = evaluate("x * 3", {"x": 2.0})
    x, three = out.parents
    assert x.name == "x" and x.requires_grad
    assert not three.requires_grad and three.data == 3.0


def test_given_values_may_be_values():
    x = Value(3.0, name="mine")
    out = parse("x * x").evaluate({"x": x})
    out.backward()
    assert x.grad == 6.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2", 2.0),
        ("-3.5", -3.5),
        ("+1e-3", 1e-3),
        ("6.8813735870195432", 6.8813735870195432),
        ("[1, 2]", np.array([1.0, 2.0])),
        ("[[1,2],[3,4]]", np.array([[1.0, 2.0], [3.0, 4.0]])),
        ("[[-1, 2.5]]", np.array([[-1.0, 2.5]])),
        ("(1, 2)", np.array([1.0, 2.0])),
    ],
)
def test_parse_value(text, expected):
    got = parse_value(text)
    if isinstance(expected, float):
        assert type(got) is float and got == expected
    else:
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("x", "number or a list of numbers"),
        ("1 + 2", "number or a list of numbers"),
        ("'3'", "strings"),
        ("True", "not a number"),
        ("[[1, 2], [3]]", "ragged"),
        ("[]", "empty"),
        ("1e999", "too large"),
        ("[1, 1e999]", "too large"),
        ("__import__('os')", "number or a list of numbers"),
        ("-x", "number or a list of numbers"),
        ("{1: 2}", "number or a list of numbers"),
        ("1j", "complex"),
        ("[1,", "cannot read"),
    ],
)
def test_bad_values_are_refused(text, words):
    with pytest.raises(ExprError, match=words):
        parse_value(text)


def test_assignments():
    assert parse_assignment("x1=2") == ("x1", 2.0)
    name, W = parse_assignment("W=[[1,2],[3,4]]")
    assert name == "W" and W.shape == (2, 2)
    assert parse_assignments(["a=1", "b = -2"]) == {"a": 1.0, "b": -2.0}


@pytest.mark.parametrize(
    "item, words",
    [
        ("x", "not NAME=VALUE"),
        ("=3", "not a valid variable name"),
        ("1x=3", "not a valid variable name"),
        ("lambda=3", "not a valid variable name"),
        ("tanh=3", "name of a function"),
        ("x=", "has no value"),
        ("x=y", "x: a value must be"),
    ],
)
def test_bad_assignments_are_refused(item, words):
    with pytest.raises(ExprError, match=words):
        parse_assignment(item)


def test_a_name_given_twice_is_refused():
    with pytest.raises(ExprError, match="'x' is given a value twice"):
        parse_assignments(["x=1", "x=2"])


VALUES = dict(x=1.0, y=2.0, z=0.0, W=np.ones((2, 2)), v=np.ones(3))

#: Each malformed expression and words its one-line message must contain.
MALFORMED = [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('true')", "attribute access"),
    ("x.data", "attribute access"),
    ("x.__class__", "attribute access"),
    ("lambda: 1", "lambda"),
    ("(lambda q: q)(x)", "only the supported functions can be called"),
    ("tanh(x)[0]", "subscripts"),
    ("W[0]", "subscripts"),
    ("x / 0", "division by zero"),
    ("x / (y - 2)", "division by zero"),
    ("W @ v", "shape mismatch"),
    ("W + v", "shape mismatch"),
    ("x @ y", "@ multiplies matrices"),
    ("q + 1", "unknown name 'q'"),
    ("open('f')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("x // 2", "operator //"),
    ("x % 2", "operator %"),
    ("x ^ 2", "for a power use \\*\\*"),
    ("'text'", "strings"),
    ("x if y else z", "conditional"),
    ("x < y", "comparisons"),
    ("x and y", "'and' / 'or'"),
    ("not x", "operator not"),
    ("~x", "operator ~"),
    ("[i for i in v]", "comprehensions"),
    ("{'a': 1}", "dictionaries"),
    ("{x}", "not allowed"),
    ("f'{x}'", "f-strings"),
    ("(x := 1)", "assignment expressions"),
    ("x = 1", "cannot read the expression"),
    ("import os", "cannot read the expression"),
    ("", "empty"),
    ("   ", "empty"),
    ("(x + ", "cannot read the expression"),
    ("tanh", "is a function"),
    ("tanh(x, y)", "takes one argument"),
    ("tanh()", "takes one argument"),
    ("tanh(x=1)", "no keyword argument 'x'"),
    ("sum(W, axis=x)", "axis must be a small whole number"),
    ("sum(W, 7)", "out of range"),
    ("sum(W, keepdims=True)", "no keyword argument 'keepdims'"),
    ("tanh(*v)", "starred"),
    ("True + x", "not a number"),
    ("None", "not a number"),
    ("1j * x", "complex"),
    ("1e999 * x", "too large"),
    ("log(z)", "log needs a positive argument"),
    ("sqrt(-x)", "sqrt needs an argument >= 0"),
    ("exp(1000 * x)", "exp overflows"),
    ("x * [1, [2]]", "ragged"),
    ("x" + " + x" * 3000, "too long"),
    ("-" * 4000 + "x", "nested too deeply"),
    ("(" * 300 + "x" + ")" * 300, "cannot read the expression"),
]


def test_at_least_twenty_malformed_expressions_are_listed():
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize("text, words", MALFORMED)
def test_malformed_expressions_are_refused_in_one_line(text, words):
    with pytest.raises(ExprError, match=words) as caught:
        evaluate(text, VALUES)
    message = str(caught.value)
    assert "\n" not in message and 0 < len(message) < 300


def test_nothing_is_ever_executed(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(ExprError):
        evaluate(f"__import__('pathlib').Path('{target}').touch()", VALUES)
    with pytest.raises(ExprError):
        evaluate(f"open('{target}', 'w')", VALUES)
    assert not target.exists()


# ---------------------------------------------------------------------------- fuzzing

_NAMES = ["x", "y", "z", "W", "v"]
_ATOMS = st.one_of(
    st.sampled_from(_NAMES),
    st.floats(-5, 5, allow_nan=False).map(lambda f: repr(round(f, 3))),
    st.integers(-3, 3).map(str),
    st.just("[1, 2]"),
    st.just("[[1, 2], [3, 4]]"),
)


def _compose(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    unary = st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: f"{t[0]}{t[1]}")
    call = st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(lambda t: f"{t[0]}({t[1]})")
    axis = st.tuples(st.sampled_from(["sum", "mean", "max", "min"]), children, st.integers(-2, 2))
    return st.one_of(binary, unary, call, axis.map(lambda t: f"{t[0]}({t[1]}, axis={t[2]})"))


WELL_FORMED = st.recursive(_ATOMS, _compose, max_leaves=12)
FUZZ_VALUES = dict(x=0.5, y=-1.5, z=0.0, W=np.array([[1.0, -2.0], [0.5, 3.0]]), v=np.ones(2))


def _value_or_own_error(text: str) -> None:
    try:
        out = evaluate(text, FUZZ_VALUES)
    except ExprError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(out, Value)
    assert np.all(np.isfinite(out.data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED)
def test_generated_expressions_give_a_value_or_an_expr_error(text):
    _value_or_own_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xyzWv0123456789.+-*/@()[], _aeilmnorstuhxpqg'=:<>!%^~&|", max_size=40))
def test_arbitrary_text_gives_a_value_or_an_expr_error(text):
    _value_or_own_error(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_values_give_a_value_or_an_expr_error(text):
    try:
        got = parse_value(text)
    except ExprError:
        return
    assert isinstance(got, (float, np.ndarray))


def test_python_syntax_warnings_are_not_printed():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would raise here
        with pytest.raises(ExprError, match="'and' / 'or'"):
            evaluate("1and x", {"x": 1.0})


# ---------------------------------------------------------------------------- sizes


def _column(n):
    return np.arange(float(n)).reshape(n, 1, 1)


def test_a_broadcast_past_the_limit_is_refused_before_it_is_allocated():
    import tracemalloc

    values = dict(a=_column(300), b=_column(300).reshape(1, 300, 1), c=np.ones(300))
    tracemalloc.start()
    try:
        with pytest.raises(ExprError) as info:
            evaluate("sum(a + b + c)", values, max_elements=1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "'a + b + c' would make an array of shape (300, 300, 300)" in message
    assert "27,000,000 numbers (206.0 MiB) from shapes (300, 300, 1) and (300,)" in message
    assert "allows 1,000,000 numbers (7.6 MiB)" in message
    assert peak < 10_000_000  # a + b (0.7 MB) was computed; a + b + c (206 MiB) was not
    default = pytest.raises(ExprError, evaluate, "a+b+c", values).value
    assert "allows 10,000,000 numbers" in str(default)


def test_matmul_results_and_the_total_count_against_the_limit():
    with pytest.raises(ExprError, match=r"'u @ v' would make an array of shape \(3, 3\)"):
        evaluate("sum(u @ v)", dict(u=np.ones((3, 1)), v=np.ones((1, 3))), max_elements=8)
    # Each result is small, but with the input they pass the limit: 3 + 3 + 3 > 8.
    with pytest.raises(ExprError, match="at 'x \\* 2 \\* 2' the expression's results would hold 9"):
        evaluate("x * 2 * 2", dict(x=np.ones(3)), max_elements=8)
    assert evaluate("x * 2 * 2", dict(x=np.ones(3)), max_elements=9).shape == (3,)
    big = evaluate("sum(a + b)", dict(a=np.ones((3000, 1)), b=np.ones(4000)), max_elements=None)
    assert big.item() == 24_000_000  # 12 million sums of 1 + 1
