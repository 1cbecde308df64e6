"""The table is a registry: a primitive defined anywhere (here, in a test file) is checked,
drawn, and callable from the expression reader, with no other file touched.

The primitive below is one class; its test-list line is ``CUBE_CASE``.  Everything else
comes from the registry.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad import functions as F
from minigrad.expr import FUNCTIONS, evaluate
from minigrad.functions import Primitive
from minigrad.viz import _rules
from tests.ops import CASES, Case
from tests.reference import central_difference


def _define_cube() -> type:
    class Cube(Primitive):
        """x³, for the registry test."""

        name = "cube_for_test"
        caption = "d cube(a)/da = 3 a ** 2"
        summary = "x ** 3 (defined in a test file)"

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 3.0 * a * a

    return Cube


@pytest.fixture
def cube():
    """The new primitive, defined for one test and taken out of the table afterwards (so
    that the checks that every primitive has a case do not see it in other tests)."""
    cls = _define_cube()
    yield cls
    F.REGISTRY.pop(cls.name, None)


def _case(cls: type) -> Case:
    # the one test-list line a new primitive needs
    return Case("cube", cls.apply, 1, (cls,), torch=lambda t, a: a**3)


def test_defining_a_primitive_registers_it(cube):
    assert F.REGISTRY["cube_for_test"] is cube
    assert cube in F.PRIMITIVES
    assert F.is_primitive(cube)


def test_a_registered_primitive_is_checked_by_the_generated_tests(cube):
    from tests.test_against_torch import _minigrad

    case = _case(cube)
    x = np.array([[0.5, -1.2, 2.0], [1.5, -0.3, 0.7]])
    values = [Value(x)]
    out = case.fn(*values)
    out.sum().backward()
    (expected,) = central_difference(lambda a: float(np.sum(cube.apply(Value(a)).data)), [x])
    np.testing.assert_allclose(values[0].grad, expected, rtol=1e-6)
    assert mg.gradcheck(case.fn, Value(x)).passed
    _, grads, second = _minigrad(case, [x], np.float64)  # the PyTorch comparison's side
    assert grads[0] is not None and second[0] is not None


def test_a_registered_primitive_is_drawn_with_its_caption(cube):
    x = Value(2.0, name="x")
    y = cube.apply(x)
    assert _rules.rule_text(y) == "d cube(a)/da = 3 a ** 2"
    assert "custom Function" not in mg.to_dot(y)


def test_a_registered_primitive_is_callable_from_the_expression_reader(cube):
    assert FUNCTIONS["cube_for_test"].summary == "x ** 3 (defined in a test file)"
    out = evaluate("cube_for_test(x) + 1", {"x": 2.0})
    assert out.data == 9.0
    out.backward()


def test_once_removed_it_is_gone_everywhere():
    cls = _define_cube()
    F.REGISTRY.pop(cls.name)
    assert "cube_for_test" not in FUNCTIONS
    assert not F.is_primitive(cls)


def test_a_variant_without_its_own_caption_is_a_custom_rule():
    class Sloppy(F.Exp):
        @staticmethod
        def backward(ctx, grad):
            return grad

    assert not F.is_primitive(Sloppy)
    assert Sloppy not in F.PRIMITIVES
    node = Sloppy.apply(Value(1.0))
    assert _rules.rule_text(node).startswith("the custom rule Sloppy.backward")
    assert "custom Function Sloppy" in mg.to_dot(node)


def test_two_primitives_cannot_share_a_name():
    with pytest.raises(TypeError, match="'exp' is already taken by minigrad.functions.Exp"):

        class Other(Primitive):
            name = "exp"
            caption = "another exp"


def test_a_primitive_needs_a_caption_with_words():
    with pytest.raises(TypeError, match="needs a non-empty name and caption"):

        class Blank(Primitive):
            name = "blank_for_test"
            caption = "  "


def test_the_cases_cover_the_registry_and_nothing_else():
    listed = {p for case in CASES for p in case.primitives}
    assert listed <= set(F.PRIMITIVES), "a case names a class that is not registered"


def test_the_reader_knows_the_new_functions_and_suggests_a_close_name():
    from minigrad.expr import ExprError

    out = evaluate(
        "sin(x) * cos(x) + gelu(x) + var(W, 0) + erf(x)", {"x": 0.3, "W": [[1, 2], [3, 5]]}
    )
    assert out.shape == (2,)
    both = evaluate("maximum(x, W) + logaddexp(x, 1) - minimum(W, 2)", {"x": 2.0, "W": [1, 3]})
    np.testing.assert_allclose(both.data, [2 + np.logaddexp(2, 1) - 1, 3 + np.logaddexp(2, 1) - 2])
    with pytest.raises(ExprError, match=r"maximum takes two arguments, as in maximum\(a, b\)"):
        evaluate("maximum(x)", {"x": 1.0})
    with pytest.raises(ExprError, match="cannot combine shapes|shape"):
        evaluate("maximum(W, V)", {"W": [1, 2], "V": [1, 2, 3]})
    with pytest.raises(ExprError, match=r"unknown function 'sinn' \(did you mean 'sin'\?\)"):
        evaluate("sinn(x)", {"x": 1.0})
    with pytest.raises(ExprError, match=r"arcsin needs -1 <= x <= 1"):
        with np.errstate(invalid="ignore"):
            evaluate("arcsin(x)", {"x": 2.0})
