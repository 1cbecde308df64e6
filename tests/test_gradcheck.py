"""gradcheck and numerical_grad: numbers against closed forms, the report and its table,
float64 evaluation, restoring the inputs, complex-step, the full Jacobian, bad inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Function, Value
from minigrad import functions as F
from minigrad.gradcheck import ComplexStepError, GradcheckError, GradcheckReport, GradcheckWarning
from tests.custom_ops import HalfSquare, Softplus, Square
from tests.reference import central_difference

# ============================================================================ fixtures


def cubic_tanh(x: Value) -> Value:
    """f(x) = sum(x^3 tanh x); f'(x) = 3x^2 tanh x + x^3 (1 - tanh^2 x)."""
    return (x**3 * x.tanh()).sum()


def cubic_tanh_grad(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return 3 * x**2 * t + x**3 * (1 - t**2)


X = np.array([[0.5, -1.2, 2.0], [0.3, 0.7, -0.4]])


class Magnitude(Function):
    """Returns real data even for complex inputs: drops the imaginary part."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x) ** 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


# ============================================================================ numerical_grad


@pytest.mark.parametrize(
    "method, eps, tol",
    [
        ("forward", 1e-7, 1e-5),
        ("central", 1e-6, 1e-8),
        ("five-point", 1e-3, 1e-9),
        ("complex-step", 1e-20, 1e-13),
        ("central", None, 1e-8),
        ("five-point", None, 1e-9),
    ],
)
def test_numerical_grad_methods_match_the_closed_form(method, eps, tol):
    x = Value(X, name="x")
    g = mg.numerical_grad(cubic_tanh, x, eps=eps, method=method)
    assert isinstance(g, np.ndarray) and g.shape == X.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, cubic_tanh_grad(X), rtol=tol, atol=tol)


def test_numerical_grad_orders_of_accuracy():
    # Same (large) eps: error O(eps) > O(eps^2) > O(eps^4).
    x = Value(np.array([0.8, -0.3]))
    exact = cubic_tanh_grad(x.data)
    errors = {
        m: np.abs(mg.numerical_grad(cubic_tanh, x, eps=1e-2, method=m) - exact).max()
        for m in ("forward", "central", "five-point")
    }
    assert errors["forward"] > 100 * errors["central"] > 100 * errors["five-point"]


def test_numerical_grad_several_inputs_and_scalars():
    a, b = Value(1.5, name="a"), Value(np.array([0.5, -2.0]), name="b")
    ga, gb = mg.numerical_grad(lambda a, b: (a * b * b).sum(), a, b)
    assert isinstance(ga, float)
    assert math.isclose(ga, np.sum(b.data**2), rel_tol=1e-8)
    np.testing.assert_allclose(gb, 2 * a.data * b.data, rtol=1e-8)


def test_numerical_grad_matches_the_reference_differences():
    w = Value(np.array([[0.2, -0.4], [1.1, 0.3], [-0.7, 0.9]]))
    x = Value(np.array([0.5, -1.0]))

    def fn(w, x):
        return ((w @ x).tanh() * 2.0).sum()

    gw, gx = mg.numerical_grad(fn, w, x)
    ref = central_difference(lambda w_, x_: float(np.sum(np.tanh(w_ @ x_) * 2.0)), [w.data, x.data])
    np.testing.assert_allclose(gw, ref[0], rtol=1e-7)
    np.testing.assert_allclose(gx, ref[1], rtol=1e-7)


def test_numerical_grad_needs_a_scalar_output():
    x = Value(X)
    with pytest.raises(ValueError, match=r"scalar Value \(one element\), got shape \(2, 3\)"):
        mg.numerical_grad(lambda x: x * 2, x)


def test_complex_step_through_a_custom_function():
    x = Value(np.array([0.3, -2.0, 1.1]))
    g = mg.numerical_grad(lambda x: Square.apply(x).exp().sum(), x, method="complex-step")
    np.testing.assert_allclose(g, 2 * x.data * np.exp(x.data**2), rtol=1e-14)


@pytest.mark.parametrize(
    "fn, op",
    [
        (lambda x: x.relu().sum(), "relu"),
        (lambda x: x.abs().sum(), "abs"),
        (lambda x: x.max(), "max"),
        (lambda x: x.sigmoid().sum(), "sigmoid"),
        (lambda x: (x * 2).min(), "max"),
    ],
)
def test_complex_step_names_the_operation_it_cannot_pass(fn, op):
    x = Value(np.array([0.3, -2.0, 1.1]))
    keep = x.data
    with pytest.raises(ComplexStepError, match=rf"operation '{op}' .* does not support complex"):
        mg.numerical_grad(fn, x, method="complex-step")
    assert x.data is keep
    with pytest.raises(ComplexStepError, match=rf"'{op}'"):
        mg.gradcheck(fn, x, method="complex-step")


def test_complex_step_names_a_custom_function_numpy_refuses():
    x = Value(np.array([0.3, -2.0]))
    with pytest.raises(ComplexStepError, match=r"Softplus: ufunc 'logaddexp' not supported"):
        mg.numerical_grad(lambda x: Softplus.apply(x).sum(), x, method="complex-step")
    assert x.data.dtype == np.float64 and np.all(x.data == [0.3, -2.0])


def test_complex_step_names_a_custom_function_that_drops_the_imaginary_part():
    check_output_before = F._check_output
    x = Value(np.array([0.3, -2.0]))
    with pytest.raises(ComplexStepError, match=r"Magnitude.forward returned real numbers"):
        mg.numerical_grad(lambda x: Magnitude.apply(x).sum(), x, method="complex-step")
    # the patch that lets complex data through custom Functions is gone afterwards
    assert F._check_output is check_output_before

    class Imaginary(Square):
        @staticmethod
        def forward(ctx, x):
            return x * 1j

    with pytest.raises(TypeError, match="Imaginary.forward returned unusable data"):
        Imaginary.apply(Value(np.array([1.0])))


def test_complex_step_gradcheck_passes_and_catches_a_bug():
    x = Value(np.array([0.3, -2.0, 1.1]), name="x")
    assert mg.gradcheck(lambda x: Square.apply(x).tanh().sum(), x, method="complex-step").passed
    report = mg.gradcheck(
        lambda x: HalfSquare.apply(x).sum(), x, method="complex-step", raise_exception=False
    )
    assert not report.passed
    assert report["x"].diagnosis == "off by a constant factor: analytic = 0.5 x numeric"


# ============================================================================ gradcheck


def test_passing_check_reports_every_element_with_the_right_numbers():
    x = Value(X, name="x")
    report = mg.gradcheck(cubic_tanh, x)
    assert isinstance(report, GradcheckReport)
    assert report.passed and bool(report)
    assert len(report.rows) == X.size
    assert {r.element for r in report.rows} == {(i, j) for i in range(2) for j in range(3)}
    np.testing.assert_allclose(report["x"].analytic_grad, cubic_tanh_grad(X), rtol=1e-12)
    np.testing.assert_allclose(report["x"].numeric_grad, cubic_tanh_grad(X), rtol=1e-7)
    for r in report.rows:
        assert r.status == "ok" and r.passed
        assert r.abs_err == pytest.approx(abs(r.analytic - r.numeric))
        assert r.rel_err == pytest.approx(r.abs_err / max(abs(r.analytic), abs(r.numeric)))


def test_scalar_inputs_and_the_classic_neuron():
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    report = mg.gradcheck(lambda *v: (v[0] * v[2] + v[1] * v[3] + v[4]).tanh(), x1, x2, w1, w2, b)
    assert report.passed
    assert [r.name for r in report.inputs] == ["x1", "x2", "w1", "w2", "b"]
    assert report["w1"].rows()[0].element == ()
    assert report["w1"].analytic_grad == pytest.approx(1.0)  # the famous 0.5 * x1... = 1.0
    assert report["x1"].analytic_grad == pytest.approx(-1.5)


def test_inputs_may_come_as_one_list():
    a, b = Value([1.0, 2.0], name="a"), Value([3.0, 4.0], name="b")
    report = mg.gradcheck(lambda a, b: (a * b * b).sum(), [a, b])
    assert [r.name for r in report.inputs] == ["a", "b"]
    np.testing.assert_allclose(report["a"].analytic_grad, [9.0, 16.0])
    ga, gb = mg.numerical_grad(lambda a, b: (a * b * b).sum(), (a, b))
    np.testing.assert_allclose(gb, [6.0, 16.0], rtol=1e-8)
    assert mg.gradgradcheck(lambda a, b: (a * b * b).sum(), [a, b]).passed


def test_unnamed_inputs_are_numbered():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    report = mg.gradcheck(lambda a, b: (a * b).sum(), a, b)
    assert [r.name for r in report.inputs] == ["input 0", "input 1"]
    a.name = b.name = "same"
    report = mg.gradcheck(lambda a, b: (a * b).sum(), a, b)
    assert [r.name for r in report.inputs] == ["same (input 0)", "same (input 1)"]


def test_non_scalar_output_is_weighted_and_given_weights_are_used():
    x = Value(X, name="x")
    w = np.arange(6.0).reshape(2, 3) - 2.5
    report = mg.gradcheck(lambda x: x * x, x, output_weights=w)
    np.testing.assert_allclose(report["x"].analytic_grad, 2 * X * w)
    random = mg.gradcheck(lambda x: x * x, x)
    weights = random["x"].analytic_grad / (2 * X)
    assert np.all((np.abs(weights) >= 0.5) & (np.abs(weights) <= 1.5))
    assert "random weights" in str(random)


def test_full_jacobian_mode():
    W = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 4.0]])
    x = Value(np.array([0.2, -0.1, 0.4]), name="x")
    report = mg.gradcheck(lambda x: (Value(W, requires_grad=False) @ x).tanh(), x, jacobian=True)
    y = W @ x.data
    expected = (1 - np.tanh(y) ** 2)[:, None] * W  # d tanh(Wx)_i / dx_j
    np.testing.assert_allclose(report["x"].analytic_grad, expected, rtol=1e-12)
    np.testing.assert_allclose(report["x"].numeric_grad, expected, rtol=1e-7, atol=1e-9)
    assert len(report.rows) == 6
    assert {r.output for r in report.rows} == {(0,), (1,)}
    assert "output" in str(report).splitlines()[4]


def test_full_jacobian_mode_pins_a_bug_to_output_and_element():
    class WrongMulConst(F.Mul):
        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            g = np.array(grad * b)
            g[1] *= 3.0
            return g, None

    x = Value(np.array([0.2, -0.1, 0.4]), name="x")
    c = Value(np.array([1.0, 2.0, 3.0]), requires_grad=False)
    report = mg.gradcheck(
        lambda x: WrongMulConst.apply(x, c), x, jacobian=True, raise_exception=False
    )
    assert {(r.output, r.element) for r in report.failures} == {((1,), (1,))}


def test_failing_check_raises_the_table():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda x: HalfSquare.apply(x).sum(), x)
    error = info.value
    assert isinstance(error, AssertionError)
    assert str(error) == error.report.table()
    lines = str(error).splitlines()
    assert lines[0] == "gradcheck FAILED: 3 of 3 checks disagree ('x': 3)"
    assert lines[2].startswith("pass rule: |analytic - numeric| <= atol + rtol * |numeric|")
    assert "rtol=1e-06" in lines[2] and "measured error" in lines[2]
    header = lines[4].split()
    assert header[:4] == ["input", "element", "analytic", "numeric"]
    first = lines[6].split()
    worst = error.report.failures[0]
    assert first[0] == "x" and first[1] == str(worst.element) and first[-1] == "FAIL"
    x_value = x.data[worst.element]
    assert float(first[2]) == pytest.approx(x_value) and float(first[3]) == pytest.approx(
        2 * x_value
    )
    assert "off by a constant factor: analytic = 0.5 x numeric" in str(error)


def test_worst_rows_come_first_and_max_rows_limits_the_table():
    x = Value(np.linspace(0.1, 2.0, 30), name="x")
    report = mg.gradcheck(
        lambda x: HalfSquare.apply(x).sum() + (x.exp() * 0).sum(), x, raise_exception=False
    )
    rows = report.worst(30)
    rel = [r.rel_err for r in rows]
    assert rel == sorted(rel, reverse=True)
    text = report.table(max_rows=5)
    assert sum(line.endswith("FAIL") for line in text.splitlines()) == 5
    assert "... 25 more rows" in text


def test_html_table():
    x = Value(np.array([0.5, -1.0]), name="x<1>")
    report = mg.gradcheck(lambda x: HalfSquare.apply(x).sum(), x, raise_exception=False)
    page = report.to_html()
    assert page == report._repr_html_()  # what Jupyter shows
    assert page.count("<tr") == 3 and "<table>" in page
    assert "x&lt;1&gt;" in page and "x<1>" not in page
    assert "#f8d0d0" in page  # failing rows coloured
    assert "|analytic - numeric| &lt;= atol + rtol * |numeric|" in page
    assert "FAILED" in repr(report)


def test_tolerances_are_the_rule():
    x = Value(np.array([1.0, 2.0]), name="x")

    class Slightly(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad * x * (1 + 1e-4)

    fn = lambda x: Slightly.apply(x).sum()  # noqa: E731
    # explicit tolerances are the classic rule, as given: 1e-4 relative is within rtol=1e-3
    assert mg.gradcheck(fn, x, atol=1e-5, rtol=1e-3).passed
    report = mg.gradcheck(fn, x, rtol=1e-5, atol=0.0, raise_exception=False)
    assert not report.passed and "rtol=1e-05" in str(report)
    # the defaults measure the finite difference's error, which is far below 1e-4 here
    report = mg.gradcheck(fn, x, raise_exception=False)
    assert report.failures and "analytic = 1.0001 x numeric" in str(report)


def test_a_path_cut_with_data_is_explained():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    # x * x.data treats one factor as a constant: the gradient misses half of 2x
    report = mg.gradcheck(lambda x: (x * x.data).sum(), x, raise_exception=False)
    assert report["x"].diagnosis == "off by a constant factor: analytic = 0.5 x numeric"
    loc = report.localize()
    assert loc.culprit is None
    assert "error is outside the graph" in str(loc)
    # no graph at all: fn's result does not require grad
    report = mg.gradcheck(
        lambda x: Value((x.data**2).sum(), requires_grad=False), x, raise_exception=False
    )
    assert "the analytic gradient is zero" in report["x"].diagnosis


def test_fortran_ordered_and_view_inputs_are_perturbed_correctly():
    data = np.asfortranarray(X)
    x = Value(data, name="x")
    assert not x.data.flags["C_CONTIGUOUS"]
    report = mg.gradcheck(cubic_tanh, x)
    np.testing.assert_allclose(report["x"].numeric_grad, cubic_tanh_grad(X), rtol=1e-7)
    assert x.data.flags["F_CONTIGUOUS"]  # the user's array is the one put back


def test_localize_runs_on_failure_when_asked():
    x = Value(np.array([0.5, -1.0, 2.0]), name="x")
    report = mg.gradcheck(
        lambda x: HalfSquare.apply(x * 2.0).tanh().sum(), x, localize=True, raise_exception=False
    )
    assert report.localization is not None
    assert report.localization.culprit.op == "HalfSquare"
    assert "HalfSquare" in str(report)
    assert set(report.node_errors) == {c.node for c in report.localization.checks}
    passing = mg.gradcheck(cubic_tanh, x, localize=True)
    assert passing.localization is None and passing.node_errors == {}


def test_localize_skips_an_operation_it_cannot_rerun():
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x, k):  # k is not stored on ctx
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * 3.0

    class ScaledDefault(Scaled):
        @staticmethod
        def forward(ctx, x, k=1.0):
            return x * k

    x = Value(np.array([0.5, -1.0]), name="x")
    report = mg.gradcheck(lambda x: Scaled.apply(x, k=3.0).sum(), x)
    check = report.localize().checks[0]
    assert check.status == "skipped" and "ctx.k = k" in check.detail
    report = mg.gradcheck(lambda x: ScaledDefault.apply(x, k=3.0).sum(), x)
    check = report.localize().checks[0]
    assert check.status == "skipped" and "does not reproduce" in check.detail


def test_localize_reports_a_backward_that_raises():
    class Broken(Square):
        @staticmethod
        def backward(ctx, grad):
            raise ZeroDivisionError("oops")

    x = Value(np.array([0.5, -1.0]), name="x")
    report = mg.gradcheck(lambda x: (x * 2).exp().sum(), x)
    spec_fn = lambda x: Broken.apply(x).sum()  # noqa: E731
    with pytest.raises(ZeroDivisionError):
        mg.gradcheck(spec_fn, x)  # the analytic pass itself raises: not hidden
    assert report.passed
    from minigrad.gradcheck.localize import check_node

    node = Broken.apply(x)
    check = check_node(node, 1e-6, 1e-5, 1e-3, np.random.default_rng(0), 64)
    assert check.status == "fail" and "ZeroDivisionError: oops" in check.detail


# ============================================================================ float32


def test_float32_inputs_warn_and_are_checked_in_float64():
    data = X.astype(np.float32)
    x = Value(data, name="x32")
    keep = x.data
    with pytest.warns(GradcheckWarning, match=r"'x32' is float32; the check runs in float64"):
        report = mg.gradcheck(cubic_tanh, x)
    assert report.passed
    assert any("float32" in w for w in report.warnings)
    # float64 precision: a float32 evaluation could not agree to 1e-12
    exact = cubic_tanh_grad(data.astype(np.float64))
    np.testing.assert_allclose(report["x32"].analytic_grad, exact, rtol=1e-12)
    assert x.data is keep and x.data.dtype == np.float32
    with pytest.warns(GradcheckWarning, match="float32"):
        g = mg.numerical_grad(cubic_tanh, x)
    assert g.dtype == np.float64


def test_float64_inputs_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.gradcheck(cubic_tanh, Value(X))


# ============================================================================ restoring


def test_inputs_and_grads_are_untouched_after_a_check():
    x = Value(X, name="x")
    y = Value(np.array([1.0, 2.0, 3.0]), name="y")
    keep_x, keep_y = x.data, y.data
    copy_x = X.copy()
    y.grad = np.array([7.0, 8.0, 9.0])
    keep_grad = y.grad
    for kwargs in ({}, {"fast": True}, {"jacobian": True}, {"method": "five-point"}):
        report = mg.gradcheck(lambda x, y: (x * y).tanh(), x, y, **kwargs)
        assert report.passed
        report.localize()
        report.sweep(eps_values=[1e-3, 1e-6])
        assert x.data is keep_x and y.data is keep_y
        np.testing.assert_array_equal(x.data, copy_x)
        assert x.grad is None and y.grad is keep_grad
        np.testing.assert_array_equal(y.grad, [7.0, 8.0, 9.0])


def test_inputs_are_restored_when_fn_raises_midway():
    x = Value(X, name="x")
    s = Value(1.25, name="s")
    keep = x.data
    x.grad = np.ones_like(X)
    keep_grad = x.grad
    calls = {"n": 0}

    class Boom(RuntimeError):
        pass

    def fn(x, s):
        calls["n"] += 1
        if calls["n"] == 5:  # during the finite differences, with an element moved
            raise Boom("fn failed")
        return (x * s).sum()

    with pytest.raises(Boom):
        mg.gradcheck(fn, x, s)
    assert x.data is keep and np.array_equal(x.data, X)
    assert s.data == 1.25 and type(s.data) is float
    assert x.grad is keep_grad and s.grad is None
    for method in ("complex-step", "forward"):
        calls["n"] = 0
        with pytest.raises(Boom):
            mg.gradcheck(fn, x, s, method=method)
        assert x.data is keep and np.array_equal(x.data, X) and s.data == 1.25


def test_fn_that_calls_backward_does_not_leave_grads_changed():
    x = Value(np.array([0.5, 1.5]), name="x")

    def fn(x):
        y = (x * x).sum()
        if y.requires_grad:  # finite differences evaluate fn under no_grad()
            y.backward()  # the user's own business inside fn
        return y

    mg.gradcheck(fn, x)
    assert x.grad is None


# ============================================================================ bad inputs

CHECKS = [
    pytest.param(mg.gradcheck, id="gradcheck"),
    pytest.param(mg.gradgradcheck, id="gradgradcheck"),
    pytest.param(mg.numerical_grad, id="numerical_grad"),
    pytest.param(mg.eps_sweep, id="eps_sweep"),
]


@pytest.mark.parametrize("check", CHECKS)
def test_non_callable_fn(check):
    with pytest.raises(TypeError, match=r"fn must be callable .* got int 3"):
        check(3, Value(1.0))


@pytest.mark.parametrize("check", CHECKS)
def test_fn_must_return_a_value(check):
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"fn must return a Value, got float"):
        check(lambda x: float(x.data.sum()), x)
    assert np.array_equal(x.data, [1.0, 2.0])


@pytest.mark.parametrize("check", CHECKS)
def test_inputs_must_be_values_that_require_grad(check):
    with pytest.raises(TypeError, match=r"input 0 is a ndarray, not a Value"):
        check(lambda x: x, np.array([1.0]))
    with pytest.raises(ValueError, match=r"input 1 \(Value 'c' .*\) does not require grad"):
        check(lambda x, c: x * c, Value(1.0), Value(2.0, requires_grad=False, name="c"))
    with pytest.raises(ValueError, match="needs at least one input Value"):
        check(lambda: Value(1.0))
    x = Value(1.0)
    with pytest.raises(ValueError, match="input 1 .* is the same Value as input 0"):
        check(lambda a, b: a * b, x, x)


@pytest.mark.parametrize("check", CHECKS)
def test_non_finite_inputs(check):
    x = Value(np.array([1.0, np.nan, np.inf]), name="x")
    with pytest.raises(ValueError, match=r"'x' .* holds 2 non-finite value\(s\), the first nan"):
        check(lambda x: x.sum(), x)


@pytest.mark.parametrize("check", CHECKS)
def test_non_finite_output(check):
    x = Value(np.array([0.0, 1.0]), name="x")
    with pytest.raises(ValueError, match=r"returned a non-finite value \(1 inf\)"):
        with np.errstate(divide="ignore"):
            check(lambda x: -(x.log().sum()), x)


def test_output_leaves_its_domain_within_the_stencil():
    x = Value(np.array([1e-7, 1.0]), name="x")
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(
            ValueError, match=r"not finite .* when 'x' element \(0,\) is moved by -1e-06"
        ),
    ):
        mg.gradcheck(lambda x: x.log().sum(), x)
    assert mg.gradcheck(lambda x: x.log().sum(), x, eps=1e-9, rtol=1e-2).passed


@pytest.mark.parametrize("check", [mg.gradcheck, mg.gradgradcheck, mg.numerical_grad])
@pytest.mark.parametrize(
    "eps, error, says",
    [
        (0.0, ValueError, "eps must be > 0"),
        (-1e-6, ValueError, "eps must be > 0"),
        (float("nan"), ValueError, "eps must be > 0"),
        ("1e-6", TypeError, "eps must be a positive real number"),
        (True, TypeError, "eps must be a positive real number"),
    ],
)
def test_bad_eps(check, eps, error, says):
    with pytest.raises(error, match=says):
        check(lambda x: x * x, Value(1.0), eps=eps)


@pytest.mark.parametrize("check", CHECKS)
def test_unknown_method(check):
    with pytest.raises(ValueError, match=r"unknown method 'backward'; choose one of 'forward'"):
        check(lambda x: x * x, Value(1.0), method="backward")


def test_bad_options():
    x = Value(np.array([1.0, 2.0]))
    fn = lambda x: (x * x).sum()  # noqa: E731
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        mg.gradcheck(fn, x, atol=-1.0)
    with pytest.raises(TypeError, match="rtol must be a real number"):
        mg.gradcheck(fn, x, rtol="1e-3")
    with pytest.raises(TypeError, match="fast must be True or False"):
        mg.gradcheck(fn, x, fast="yes")
    with pytest.raises(ValueError, match="jacobian=True needs the full mode"):
        mg.gradcheck(fn, x, fast=True, jacobian=True)
    with pytest.raises(ValueError, match=r"output_weights has shape \(3,\), but fn returns"):
        mg.gradcheck(lambda x: x * x, x, output_weights=np.ones(3))
    with pytest.raises(TypeError, match="seed must be an int or a numpy Generator"):
        mg.gradcheck(fn, x, seed=0.5)
    assert mg.gradcheck(fn, x, seed=np.random.default_rng(3)).passed


def test_fn_whose_output_shape_changes():
    x = Value(np.array([1.0, 2.0]), name="x")
    calls = {"n": 0}

    def fn(x):
        calls["n"] += 1
        return x * 2 if calls["n"] < 3 else (x * 2).sum()

    with pytest.raises(ValueError, match="must be a deterministic function of its inputs"):
        mg.gradcheck(fn, x)


def test_report_key_error_lists_inputs():
    report = mg.gradcheck(lambda x: x * 2, Value(1.0, name="a"))
    with pytest.raises(KeyError, match="no input named 'b' .* inputs: 'a'"):
        report["b"]


# ============================================================================ the guide


def test_the_guides_first_example_prints_what_the_guide_shows():
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "gradcheck.md").read_text()
    code = re.search(r"```python(?: figure[^\n]*)?\n(.*?)```", page, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", page, re.S).group(1)
    with pytest.raises(GradcheckError) as info:
        exec(compile(code, "docs/gradcheck.md", "exec"), {})
    assert str(info.value) + "\n" == shown
