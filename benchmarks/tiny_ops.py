"""Tiny ops: the cost of one operation when the arrays are too small for the arithmetic to
matter, minigrad vs PyTorch eager.

``h = x``, then 300 times ``h = tanh(h * w + c)`` on 4x4 float64 arrays (900 recorded
operations), then ``h.sum().backward()``; ``w`` and ``c`` require gradients, so backward
also accumulates 300 contributions into each of them.  This is what a learner's notebook
does all day: many small operations, each paying the engine's fixed overhead.

Target: minigrad's time below 0.7 of PyTorch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.harness import Config, Mismatch, Row, compare, optional, show_time

SHAPE = (4, 4)
STEPS = 300
TARGET = 0.7


def arrays(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=SHAPE)
    w = rng.uniform(0.5, 1.5, size=SHAPE)
    c = rng.uniform(-0.1, 0.1, size=SHAPE)
    return x, w, c


def minigrad_side(x: np.ndarray, w: np.ndarray, c: np.ndarray, steps: int) -> Any:
    from minigrad import Value

    leaves = [Value(x), Value(w), Value(c)]
    x_, w_, c_ = leaves

    def run() -> tuple:
        for leaf in leaves:
            leaf.grad = None
        h = x_
        for _ in range(steps):
            h = (h * w_ + c_).tanh()
        h.sum().backward()
        return h.data, x_.grad, w_.grad, c_.grad

    return run


def torch_side(torch: Any, x: np.ndarray, w: np.ndarray, c: np.ndarray, steps: int) -> Any:
    leaves = [torch.tensor(a, requires_grad=True) for a in (x, w, c)]
    x_, w_, c_ = leaves

    def run() -> tuple:
        for leaf in leaves:
            leaf.grad = None
        h = x_
        for _ in range(steps):
            h = (h * w_ + c_).tanh()
        h.sum().backward()
        return tuple(t.detach().numpy() for t in (h, x_.grad, w_.grad, c_.grad))

    return run


def run(config: Config) -> list[Row]:
    steps = 5 if config.smoke else STEPS
    x, w, c = arrays()
    ours = minigrad_side(x, w, c, steps)
    torch = optional("torch")
    if torch is None:
        seconds = compare({"minigrad": ours}, config, number=10)["minigrad"]
        return [
            Row(
                "tiny ops",
                "minigrad / torch",
                None,
                "< 0.7",
                None,
                f"torch not installed; minigrad {show_time(seconds)} per run",
            )
        ]
    torch.set_num_threads(1)
    theirs = torch_side(torch, x, w, c, steps)

    # Correctness first: the same output and the same three gradients.
    checks = {}
    for name, a, b in zip(("output", "x.grad", "w.grad", "c.grad"), ours(), theirs()):
        error = float(np.max(np.abs(np.asarray(a) - b)))
        checks[f"max |difference| {name}"] = error
        if not np.allclose(a, b, rtol=1e-10, atol=1e-12):
            raise Mismatch(f"tiny ops: minigrad and torch disagree on {name} by {error:.3g}")

    medians = compare({"minigrad": ours, "torch": theirs}, config, number=5)
    ratio = medians.ratio("minigrad", "torch")
    per_op = {k: t / (3 * steps) for k, t in medians.items()}
    return [
        Row(
            "tiny ops",
            "minigrad / torch",
            ratio,
            "< 0.7",
            ratio < TARGET,
            f"minigrad {show_time(medians['minigrad'])}, torch {show_time(medians['torch'])} "
            f"per run; {show_time(per_op['minigrad'])} vs {show_time(per_op['torch'])} per "
            "operation, forward and backward",
            checks,
        )
    ]
