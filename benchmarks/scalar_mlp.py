"""Scalar MLP: micrograd's own demo, one full training step, minigrad vs micrograd.

The network of micrograd's ``demo.ipynb``: an MLP 2-16-16-1 built from scalar Values
neuron by neuron (``act = b + w0*x0 + w1*x1 + ...``, relu on the hidden layers), 100
two-moons points, the SVM hinge loss ``mean(relu(1 - y * score))`` plus L2 regularisation
``1e-4 * sum(p * p)``, then zero_grad, backward and an SGD update.  The two engines run the
very same Python lines on the very same initial weights, and must produce the same loss
before anything is timed.

micrograd is optional (``pip install micrograd==0.1.0``, the ``bench`` extra); without it
the benchmark reports minigrad's absolute time and skips the ratio.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import Config, Row, check_close, compare, optional, show_time

LAYERS = (2, 16, 16, 1)
ALPHA = 1e-4  # the L2 weight of micrograd's demo
LEARNING_RATE = 0.1
TARGET = 1 / 3  # minigrad at least 3x faster
#: Consecutive steps per timed repeat, as in a training loop.  It matters: micrograd's
#: closures make reference cycles, so its graph is freed by the garbage collector, during
#: the *next* step; minigrad's graph is freed by reference counting as the step returns.
#: Timing single steps after a full collection would leave micrograd's clean-up untimed.
STEPS_PER_REPEAT = 5


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[list, list]:
    """``n`` points on two interleaved half circles, labels -1.0 and +1.0, as Python floats.

    Upper moon: (cos t, sin t); lower moon: (1 - cos t, 0.5 - sin t), t uniform in [0, pi],
    plus Gaussian noise of standard deviation ``noise``.
    """
    upper = n // 2
    t = rng.uniform(0.0, np.pi, size=n)
    x = np.where(np.arange(n) < upper, np.cos(t), 1.0 - np.cos(t))
    y = np.where(np.arange(n) < upper, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + rng.normal(0.0, noise, size=(n, 2))
    labels = np.where(np.arange(n) < upper, -1.0, 1.0)
    order = rng.permutation(n)
    return points[order].tolist(), labels[order].tolist()


def initial_weights(layers: tuple, rng: np.random.Generator) -> list:
    """For each layer, for each neuron, (weights, bias): weights uniform in [-1, 1] as in
    micrograd, biases 0."""
    return [
        [([float(w) for w in rng.uniform(-1.0, 1.0, size=n_in)], 0.0) for _ in range(n_out)]
        for n_in, n_out in zip(layers[:-1], layers[1:])
    ]


class ScalarMLP:
    """The MLP of micrograd's demo written with minigrad's scalar Values, neuron by neuron,
    in micrograd's own style, so that both engines execute the same arithmetic."""

    def __init__(self, weights: list):
        from minigrad import Value

        self.layers = [[([Value(w) for w in ws], Value(b)) for ws, b in layer] for layer in weights]
        self.n_layers = len(self.layers)

    def __call__(self, x: list) -> Any:
        for depth, layer in enumerate(self.layers):
            nonlinear = depth != self.n_layers - 1
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act.relu() if nonlinear else act)
            x = out
        return x[0]

    def parameters(self) -> list:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


def micrograd_model(weights: list) -> Any:
    """micrograd's own ``nn.MLP`` with its random initial weights replaced by ours."""
    from micrograd.nn import MLP

    model = MLP(LAYERS[0], list(LAYERS[1:]))
    for layer, ours in zip(model.layers, weights):
        for neuron, (ws, b) in zip(layer.neurons, ours):
            for p, w in zip(neuron.w, ws):
                p.data = w
            neuron.b.data = b
    return model


def make_step(value_class: type, model: Any, points: list, labels: list, zero_grad: Callable):
    """One step of micrograd's demo loop, for either engine: forward, loss, backward, update.

    The lines are the demo's (``inputs = [list(map(Value, xrow)) ...]``, the hinge loss,
    the regularisation), minus the accuracy it also prints.  Returns the loss before the
    update.
    """
    params = model.parameters()
    scale = 1.0 / len(points)

    def step() -> float:
        inputs = [list(map(value_class, row)) for row in points]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
        data_loss = sum(losses) * scale
        reg_loss = ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        zero_grad(params)
        total.backward()
        for p in params:
            p.data -= LEARNING_RATE * p.grad
        return total.data

    return step


def _zero_minigrad(params: list) -> None:
    for p in params:
        p.grad = None


def _zero_micrograd(params: list) -> None:
    for p in params:
        p.grad = 0


def run(config: Config) -> list[Row]:
    from minigrad import Value

    rng = np.random.default_rng(0)
    n_points = 8 if config.smoke else 100
    points, labels = two_moons(n_points, 0.1, rng)
    weights = initial_weights(LAYERS, rng)

    ours = make_step(Value, ScalarMLP(weights), points, labels, _zero_minigrad)
    micrograd = optional("micrograd.engine")
    if micrograd is None:
        seconds = compare({"minigrad": ours}, config)["minigrad"]
        return [
            Row(
                "scalar MLP",
                "minigrad / micrograd",
                None,
                "<= 0.333",
                None,
                f"micrograd not installed (pip install micrograd==0.1.0); "
                f"minigrad {show_time(seconds)} per step",
            )
        ]

    theirs = make_step(micrograd.Value, micrograd_model(weights), points, labels, _zero_micrograd)
    # Correctness first: two steps in lockstep must give the same losses (the second one
    # also checks that the gradients and the update agreed).
    checks = {}
    for k in range(2):
        a, b = ours(), theirs()
        check_close(f"scalar MLP loss at step {k}", a, b, rel=1e-12)
        checks[f"loss step {k}"] = (a, b)

    # What a full collection has to walk besides the graph (both sides share it).
    gc.collect()
    heap = f"; {len(gc.get_objects()):,} objects tracked by the gc before a step"
    rows = []
    variants = [(True, STEPS_PER_REPEAT, "", True)]
    if config.gc_off:
        variants += [
            (False, STEPS_PER_REPEAT, ", gc disabled", False),
            (True, 1, ", single steps after a full collection", False),
        ]
    for gc_enabled, number, suffix, has_target in variants:
        medians = compare(
            {"minigrad": ours, "micrograd": theirs}, config, number=number, gc_enabled=gc_enabled
        )
        ratio = medians.ratio("minigrad", "micrograd")
        rows.append(
            Row(
                "scalar MLP",
                "minigrad / micrograd" + suffix,
                ratio,
                "<= 0.333" if has_target else "",
                ratio <= TARGET if has_target else None,
                f"minigrad {show_time(medians['minigrad'])}, "
                f"micrograd {show_time(medians['micrograd'])} per step "
                f"(speed-up {1 / ratio:.2f}x)" + (heap if has_target else ""),
                checks,
            )
        )
    # Both engines took exactly the same number of steps while being timed: still in lockstep?
    a, b = ours(), theirs()
    check_close("scalar MLP loss after the timed steps", a, b, rel=1e-9)
    checks["loss after timing"] = (a, b)
    return rows
