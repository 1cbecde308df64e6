"""Tensor MLP: one SGD step of a 784-256-128-10 network, minigrad vs numpy by hand vs PyTorch.

float32 end to end, batch 128, relu, softmax cross-entropy (mean over the batch), plain SGD.
minigrad's step is written the way a training loop writes it: each layer's ``x @ W + b`` is
``minigrad.nn.functional.affine`` (one fused node, what ``nn.Layer`` computes), the loss is
``minigrad.nn.functional.cross_entropy`` (fused softmax cross-entropy) and
``loss.backward(intermediate_grads=False)`` keeps only the parameters' gradients, as
``minigrad.train.fit`` does and as PyTorch always does.

The references:

* **numpy by hand**: the same forward, the backward written out (``dW3 = a2.T @ d`` ...) and
  the same in-place update, written the straightforward way.  It is the floor: an engine
  that runs the same array operations can only add overhead to it.  Target: minigrad
  within 1.10x.
* **PyTorch eager** on one thread (``torch.set_num_threads(1)``), with its own fused layer
  arithmetic (``torch.addmm``, what ``F.linear`` calls), ``F.cross_entropy`` and an
  in-place update under ``no_grad``.  Target: minigrad faster.

A fourth side, reported without a target, is minigrad as a learner writes it: ``x @ W + b``
as two nodes and ``loss.backward()`` keeping every intermediate gradient for inspection.

The matrix products are most of the step, and they are not the engine's: minigrad and the
numpy step multiply with the BLAS that numpy ships (OpenBLAS), PyTorch with its own
(MKL / oneDNN on x86).  Two more sides time the step's eight products alone, once through
numpy and once through torch, on the step's own arrays; the report shows their ratio (how
much faster one BLAS is than the other) and the step's time outside its products, minigrad
against PyTorch: the part of the step that each engine's own code decides.

numpy's BLAS runs on the number of threads set by OMP_NUM_THREADS / OPENBLAS_NUM_THREADS,
which ``python -m benchmarks`` sets to 1 before numpy is imported, so that every side
multiplies matrices on one core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.harness import Config, Mismatch, Row, check_close, compare, optional, show_time

LAYERS = (784, 256, 128, 10)
BATCH = 128
LEARNING_RATE = 0.05
#: Consecutive steps per timed repeat: one step takes a couple of milliseconds, too short
#: to time alone on a busy machine.
STEPS_PER_REPEAT = 10
#: The fewest timed repeats: the sides are within a few percent of each other, which the
#: suite's default 7 repeats cannot resolve on a shared machine (one repeat is ~60 ms).
MIN_REPEATS = 41


def problem(layers: tuple, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list]:
    """A float32 batch, integer labels and He-initialised float32 weights and biases."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, layers[0]), dtype=np.float32)
    labels = rng.integers(0, layers[-1], size=batch)
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        w = rng.standard_normal((n_in, n_out), dtype=np.float32) * np.float32(np.sqrt(2 / n_in))
        b = rng.uniform(-0.1, 0.1, size=n_out).astype(np.float32)
        params += [w, b]
    return x, labels, params


def softmax_cross_entropy_data(logits: np.ndarray, labels: np.ndarray) -> tuple:
    """(mean loss, softmax probabilities) of logits (n, C), the shifted-logits way."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
    return loss, exp / total


def _fallback_cross_entropy() -> Any:
    """A fused softmax cross-entropy as a minigrad Function, for when minigrad.nn lacks one."""
    from minigrad import Function

    class SoftmaxCrossEntropy(Function):
        """mean_k(logsumexp(z_k) - z_k[t_k]); gradient (softmax(z) - onehot(t)) / n."""

        @staticmethod
        def forward(ctx, logits, targets):
            loss, ctx.probs = softmax_cross_entropy_data(logits, targets)
            ctx.targets = targets
            return loss

        @staticmethod
        def backward(ctx, grad):
            d = ctx.probs.copy()
            d[np.arange(len(ctx.targets)), ctx.targets] -= 1
            return d * (grad / len(ctx.targets))

    return lambda logits, targets: SoftmaxCrossEntropy.apply(logits, targets=targets)


def cross_entropy_of_minigrad() -> tuple[Any, str]:
    """minigrad.nn.functional.cross_entropy if it exists, else the fallback; and its name."""
    functional = optional("minigrad.nn.functional")
    if functional is not None and hasattr(functional, "cross_entropy"):
        return functional.cross_entropy, "minigrad.nn.functional.cross_entropy"
    return _fallback_cross_entropy(), "a fused Function in benchmarks/tensor_mlp.py"


def minigrad_step(x: np.ndarray, labels: np.ndarray, params: list, learner: bool = False) -> Any:
    """The training-loop step, or with ``learner=True`` the step as a learner writes it."""
    from minigrad import Value
    from minigrad.nn.functional import affine

    cross_entropy, _ = cross_entropy_of_minigrad()
    W1, b1, W2, b2, W3, b3 = (Value(p.copy()) for p in params)
    weights = [W1, b1, W2, b2, W3, b3]
    inputs = Value(x, requires_grad=False)
    if learner:
        layer = lambda x, W, b: x @ W + b  # noqa: E731 - two nodes, matmul and add
    else:
        layer = affine

    def step() -> float:
        for p in weights:  # zero_grad first, as in the usual training loop
            p.grad = None
        h1 = layer(inputs, W1, b1).relu()
        h2 = layer(h1, W2, b2).relu()
        loss = cross_entropy(layer(h2, W3, b3), labels)
        loss.backward(intermediate_grads=learner)
        for p in weights:
            p.data -= LEARNING_RATE * p.grad
        return float(loss.data)

    step.weights = weights
    return step


def numpy_step(x: np.ndarray, labels: np.ndarray, params: list) -> Any:
    W1, b1, W2, b2, W3, b3 = (p.copy() for p in params)
    rows = np.arange(len(labels))

    def step() -> float:
        a1 = np.maximum(x @ W1 + b1, 0)
        a2 = np.maximum(a1 @ W2 + b2, 0)
        loss, d3 = softmax_cross_entropy_data(a2 @ W3 + b3, labels)
        d3[rows, labels] -= 1
        d3 *= np.float32(1 / len(labels))
        d2 = (d3 @ W3.T) * (a2 > 0)
        d1 = (d2 @ W2.T) * (a1 > 0)
        grads = (x.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0))
        for p, g in zip((W1, b1, W2, b2, W3, b3), grads):
            p -= LEARNING_RATE * g
        return float(loss)

    step.weights = [W1, b1, W2, b2, W3, b3]
    return step


def torch_step(torch: Any, x: np.ndarray, labels: np.ndarray, params: list) -> Any:
    import torch.nn.functional as F

    weights = [torch.tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3 = weights
    inputs = torch.from_numpy(x)
    targets = torch.from_numpy(labels)

    def step() -> float:
        for p in weights:
            p.grad = None
        h1 = F.relu(torch.addmm(b1, inputs, W1))
        h2 = F.relu(torch.addmm(b2, h1, W2))
        loss = F.cross_entropy(torch.addmm(b3, h2, W3), targets)
        loss.backward()
        with torch.no_grad():
            for p in weights:
                p -= LEARNING_RATE * p.grad
        return loss.item()

    step.weights = weights
    return step


def products_step(library: Any, x: np.ndarray, labels: np.ndarray, params: list) -> Any:
    """The step's eight matrix products alone, through ``library`` (numpy or torch), on the
    arrays of one real step: three in forward, two for the inputs' gradients (the first
    layer's input needs none) and three for the weights' gradients."""
    W1, _, W2, _, W3, _ = params
    a1 = np.maximum(x @ W1, 0)
    a2 = np.maximum(a1 @ W2, 0)
    d3 = softmax_cross_entropy_data(a2 @ W3, labels)[1]
    d2 = (d3 @ W3.T) * (a2 > 0)
    d1 = (d2 @ W2.T) * (a1 > 0)
    arrays = (x, W1, W2, W3, a1, a2, d1, d2, d3)
    if library is np:
        matmul, t = np.matmul, np.transpose
    else:
        matmul, t = library.matmul, library.t
        arrays = tuple(library.from_numpy(a) for a in arrays)
    x, W1, W2, W3, a1, a2, d1, d2, d3 = arrays

    def step() -> tuple:
        return (
            matmul(x, W1), matmul(a1, W2), matmul(a2, W3),
            matmul(d3, t(W3)), matmul(d2, t(W2)),
            matmul(t(x), d1), matmul(t(a1), d2), matmul(t(a2), d3),
        )  # fmt: skip

    return step


def run(config: Config) -> list[Row]:
    layers, batch = ((20, 12, 8, 5), 6) if config.smoke else (LAYERS, BATCH)
    x, labels, params = problem(layers, batch)
    _, loss_name = cross_entropy_of_minigrad()
    ours, floor = minigrad_step(x, labels, params), numpy_step(x, labels, params)
    learner = minigrad_step(x, labels, params, learner=True)
    torch = optional("torch")
    sides = {"minigrad": ours, "numpy": floor, "minigrad (learner form)": learner}
    if torch is not None:
        torch.set_num_threads(1)
        sides["torch"] = torch_step(torch, x, labels, params)

    # Correctness first: two steps in lockstep, the same losses and the same updated weights.
    checks: dict = {}
    for k in range(2):
        losses = {name: step() for name, step in sides.items()}
        checks[f"losses step {k}"] = losses
        check_close(
            f"tensor MLP loss at step {k} (numpy)", losses["minigrad"], losses["numpy"], 1e-5
        )
        check_close(
            f"tensor MLP loss at step {k} (learner form)",
            losses["minigrad (learner form)"],
            losses["numpy"],
            1e-5,
        )
        if "torch" in losses:
            check_close(
                f"tensor MLP loss at step {k} (torch)", losses["minigrad"], losses["torch"], 1e-4
            )
    for ours_p, floor_p in zip(ours.weights, floor.weights):
        if ours_p.data.dtype != np.float32 or ours_p.grad.dtype != np.float32:
            raise Mismatch(f"tensor MLP: float32 was promoted to {ours_p.grad.dtype}")
        if not np.allclose(ours_p.data, floor_p, rtol=1e-4, atol=1e-6):
            raise Mismatch("tensor MLP: minigrad and numpy updated the weights differently")
    checks["dtype"] = str(ours.weights[0].grad.dtype)

    if torch is not None:
        sides["numpy products"] = products_step(np, x, labels, params)
        sides["torch products"] = products_step(torch, x, labels, params)
    repeats = config.repeats if config.smoke else max(config.repeats, MIN_REPEATS)
    medians = compare(sides, config, number=STEPS_PER_REPEAT, repeats=repeats)
    steps = ("minigrad", "numpy", "minigrad (learner form)", "torch")
    detail = (
        ", ".join(f"{name} {show_time(medians[name])}" for name in steps if name in medians)
        + " per step"
    )
    ratio = medians.ratio("minigrad", "numpy")
    rows = [
        Row(
            "tensor MLP",
            "minigrad / numpy by hand",
            ratio,
            "<= 1.10",
            ratio <= 1.10,
            detail + f"; loss: {loss_name}",
            checks,
        )
    ]
    ratio = medians.ratio("minigrad (learner form)", "numpy")
    rows.append(
        Row(
            "tensor MLP",
            "learner form (x @ W + b, every gradient kept) / numpy",
            ratio,
            "",
            None,
            f"minigrad (learner form) {show_time(medians['minigrad (learner form)'])} per step",
            checks,
        )
    )
    if torch is None:
        rows.append(
            Row(
                "tensor MLP",
                "minigrad / torch (1 thread)",
                None,
                "< 1",
                None,
                "torch not installed",
            )
        )
    else:
        ratio = medians.ratio("minigrad", "torch")
        rows.append(
            Row(
                "tensor MLP", "minigrad / torch (1 thread)", ratio, "< 1", ratio < 1, detail, checks
            )
        )
        products = (
            f"the 8 products: numpy {show_time(medians['numpy products'])}, "
            f"torch {show_time(medians['torch products'])} per step"
        )
        rows.append(
            Row(
                "tensor MLP",
                "the step's matrix products alone: torch / numpy (their BLAS libraries)",
                medians.ratio("torch products", "numpy products"),
                "",
                None,
                products,
            )
        )
        ours_outside = medians.outside("minigrad", "numpy products")
        theirs_outside = medians.outside("torch", "torch products")
        ratio = medians.ratio_outside("minigrad", "numpy products", "torch", "torch products")
        rows.append(
            Row(
                "tensor MLP",
                "the step outside its matrix products: minigrad / torch",
                ratio,
                "< 1",
                ratio < 1,
                f"minigrad {show_time(ours_outside)}, torch {show_time(theirs_outside)} per step "
                "besides the products",
            )
        )
    return rows
