"""The benchmark suite in smoke mode: tiny sizes, one repeat, no timed assertions.

What is asserted is what makes a timing meaningful: minigrad and each reference compute
the same losses and gradients, the report is written where it should be, and the command
line works.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import BENCHMARKS, report
from benchmarks.harness import Config, Mismatch, Row, check_close, compare

SMOKE = Config.smoke_mode()


def test_check_close_raises_mismatch_naming_both_values():
    check_close("loss", 1.0, 1.0 + 1e-15, rel=1e-12)
    with pytest.raises(Mismatch, match=r"loss: minigrad gives 1\.0, the reference gives 1\.5"):
        check_close("loss", 1.0, 1.5, rel=1e-12)


def test_compare_runs_every_side_warmup_plus_repeats_times():
    calls = {"a": 0, "b": 0}

    def side(name):
        def run():
            calls[name] += 1

        return run

    medians = compare({"a": side("a"), "b": side("b")}, Config(repeats=3, warmup=1), number=2)
    assert calls == {"a": 1 + 3 * 2, "b": 1 + 3 * 2}
    assert set(medians) == {"a", "b"} and all(t >= 0 for t in medians.values())


def test_two_moons_is_seeded_balanced_and_moon_shaped():
    from benchmarks.scalar_mlp import two_moons

    points, labels = two_moons(200, 0.0, np.random.default_rng(3))
    again, _ = two_moons(200, 0.0, np.random.default_rng(3))
    assert points == again and sorted(set(labels)) == [-1.0, 1.0] and labels.count(1.0) == 100
    p = np.array(points)
    upper = p[np.array(labels) == -1.0]
    lower = p[np.array(labels) == 1.0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)  # on the unit circle
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)


def test_scalar_mlp_matches_a_hand_written_forward_and_finite_differences():
    # Independent of micrograd: the benchmark's minigrad network against plain Python.
    from benchmarks.scalar_mlp import LAYERS, ScalarMLP, initial_weights

    weights = initial_weights(LAYERS, np.random.default_rng(1))
    x = [0.3, -0.7]

    def plain(ws):
        h = x
        for depth, layer in enumerate(ws):
            out = [b + sum(wi * hi for wi, hi in zip(w, h)) for w, b in layer]
            h = [max(v, 0.0) for v in out] if depth < len(ws) - 1 else out
        return h[0]

    model = ScalarMLP(weights)
    score = model(x)
    assert math.isclose(score.data, plain(weights), rel_tol=1e-12)
    score.backward()
    w0 = model.layers[0][3][0][1]  # layer 0, neuron 3, weight 1
    eps = 1e-6
    bumped = [[(list(w), b) for w, b in layer] for layer in weights]
    bumped[0][3][0][1] += eps
    numeric = (plain(bumped) - plain(weights)) / eps
    assert math.isclose(w0.grad, numeric, rel_tol=1e-4, abs_tol=1e-7)


def test_scalar_mlp_losses_equal_micrograd():
    pytest.importorskip("micrograd")
    from benchmarks import scalar_mlp

    rows = scalar_mlp.run(SMOKE)
    assert rows[0].value is not None and rows[0].value > 0
    checks = rows[0].checks
    assert set(checks) == {"loss step 0", "loss step 1", "loss after timing"}
    for ours, theirs in checks.values():
        assert ours == pytest.approx(theirs, rel=1e-9)
    first, second = checks["loss step 0"][0], checks["loss step 1"][0]
    assert first != second  # the update happened, in both engines alike


def test_tensor_mlp_losses_equal_numpy_and_torch_and_stay_float32():
    from benchmarks import tensor_mlp

    rows = tensor_mlp.run(SMOKE)
    checks = rows[0].checks
    assert checks["dtype"] == "float32"
    for k in range(2):
        losses = checks[f"losses step {k}"]
        assert losses["minigrad"] == pytest.approx(losses["numpy"], rel=1e-5)
        if "torch" in losses:
            assert losses["minigrad"] == pytest.approx(losses["torch"], rel=1e-4)
    assert checks["losses step 1"]["numpy"] < checks["losses step 0"]["numpy"]  # it learns


def test_tensor_mlp_products_are_the_steps_own_in_numpy_and_torch():
    from benchmarks import tensor_mlp

    x, labels, params = tensor_mlp.problem((20, 12, 8, 5), 6)
    ours = tensor_mlp.products_step(np, x, labels, params)()
    W1, b1, W2, b2, W3, b3 = params
    # The last three are the weights' gradients of a step, up to the loss's 1/n scale.
    assert [p.shape for p in ours[5:]] == [W1.shape, W2.shape, W3.shape]
    a1 = np.maximum(x @ W1, 0)
    assert np.allclose(ours[0], x @ W1) and np.allclose(ours[1], a1 @ W2)
    torch = pytest.importorskip("torch")
    theirs = tensor_mlp.products_step(torch, x, labels, params)()
    for a, b in zip(ours, theirs):
        assert np.allclose(a, b.numpy(), rtol=1e-5, atol=1e-6)


def test_ratio_outside_compares_what_each_side_does_besides_a_part():
    from benchmarks.harness import Timings

    samples = {"a": [5.0, 6.0, 9.0], "a part": [3.0, 3.0, 4.0], "b": [7.0, 9.0, 11.0]}
    samples["b part"] = [3.0, 3.0, 4.0]
    timings = Timings(samples)
    # differences per repeat: a 2, 3, 5 (median 3); b 4, 6, 7 (median 6)
    assert timings.outside("a", "a part") == pytest.approx(3.0)
    assert timings.ratio_outside("a", "a part", "b", "b part") == pytest.approx(0.5)
    assert timings.ratio("a", "b") == pytest.approx(5 / 7)  # the whole sides compare otherwise


def test_fallback_cross_entropy_agrees_with_numpy_and_finite_differences():
    from benchmarks.tensor_mlp import _fallback_cross_entropy, softmax_cross_entropy_data
    from minigrad import Value

    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    logits = Value(z)
    loss = _fallback_cross_entropy()(logits, t)
    expected = np.mean([np.log(np.exp(z[i]).sum()) - z[i, t[i]] for i in range(4)])
    assert loss.data == pytest.approx(expected, rel=1e-12)
    assert softmax_cross_entropy_data(z, t)[0] == pytest.approx(expected, rel=1e-12)
    loss.backward()
    eps = 1e-6
    bumped = z.copy()
    bumped[2, 1] += eps
    numeric = (softmax_cross_entropy_data(bumped, t)[0] - expected) / eps
    assert logits.grad[2, 1] == pytest.approx(numeric, rel=1e-4)


def test_tiny_ops_output_and_gradients_equal_torch():
    pytest.importorskip("torch")
    from benchmarks import tiny_ops

    (row,) = tiny_ops.run(SMOKE)
    assert len(row.checks) == 4
    assert all(error <= 1e-10 for error in row.checks.values())


def test_scaling_gradients_match_closed_forms_and_memory_is_reported():
    from benchmarks import scaling

    rows = scaling.run(SMOKE)
    assert [r.measure.split(":")[0] for r in rows] == ["chain", "chain", "wide", "wide"]
    for row in rows[::2]:
        got, expected = row.checks["gradient"]
        assert got == pytest.approx(expected, rel=1e-9)
    for row in rows[1::2]:
        assert all(bytes_ > 0 for bytes_ in row.checks["bytes per node"].values())


def test_scaling_graphs_have_the_advertised_size():
    from benchmarks.scaling import chain, wide
    from minigrad.autograd import topological_order

    assert len(topological_order(chain(100)[1])) == 101  # 100 operations and the leaf
    assert len(topological_order(wide(100)[1])) == 100  # 50 products, 49 sums, the leaf


def test_rendering_produces_dot_for_both_graphs():
    pytest.importorskip("minigrad.viz")
    from benchmarks import rendering

    rows = rendering.run(SMOKE)
    if rows[0].value is None:
        pytest.skip(rows[0].detail)
    assert len(rows) == 2
    assert all(r.checks["characters"] > 1000 for r in rows)


def test_every_benchmark_runs_in_smoke_mode_and_none_fails():
    for name in BENCHMARKS:
        rows = report.run_one(name, SMOKE)
        assert rows and all(isinstance(r, Row) for r in rows)
        assert all(r.measure != "FAILED" for r in rows)


def test_report_replaces_only_the_generated_block(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text(
        f"# Performance\n\nhand-written intro\n\n{report.BEGIN}\nstale results\n{report.END}\n"
        "\n## What made the difference\n\nhand-written notes\n"
    )
    rows = [Row("tiny ops", "minigrad / torch", 0.5, "< 0.7", True, "details")]
    report.write(rows, str(path), ["python", "-m", "benchmarks"])
    text = path.read_text()
    assert "hand-written intro" in text and "hand-written notes" in text
    assert "stale results" not in text
    assert "| tiny ops | minigrad / torch | 0.50x | < 0.7 | yes | details |" in text
    assert "python -m benchmarks" in text and "CPU:" in text


def test_command_line_smoke_run_and_bad_arguments():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--only", "scaling"],
        cwd=report.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| scaling | chain: backward time per node" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nonsense"],
        cwd=report.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown benchmark(s) nonsense" in bad.stderr


def test_gradcheck_benchmark_checks_pass_and_costs_are_counted():
    pytest.importorskip("minigrad.gradcheck")
    from benchmarks import gradcheck_cost

    rows = gradcheck_cost.run(SMOKE)
    if rows[0].value is None:
        pytest.skip(rows[0].detail)
    fast, full = rows
    assert fast.checks["passed"] and full.checks["passed"]
    assert (
        fast.checks["forward passes"] > 0
        and full.checks["parameters"] == 3 * 4 + 4 + 4 * 2 + 2 + 2 + 1
    )


def test_gradcheck_benchmark_refuses_to_time_a_failing_check():
    gradcheck = pytest.importorskip("minigrad.gradcheck").gradcheck
    from benchmarks import gradcheck_cost
    from minigrad import Value

    def wrong(w):  # the value is sum(w*w), but detach() hides half of the gradient
        return (w * w.detach()).sum()

    w = Value(np.array([1.0, -2.0]))
    with pytest.raises(Mismatch, match="gradcheck"):
        gradcheck_cost._cost(gradcheck, wrong, [w], True, SMOKE)
