"""Convolutional networks: the digits CNN's training step, and one larger convolution.

* **digits CNN step**: the network of ``minigrad.nn.digits_cnn`` (conv 1->8 3x3 pad 1,
  relu, max-pool 2, conv 8->16 3x3 pad 1, relu, max-pool 2, linear 64->10), one SGD step
  on a float32 batch of 64 images of 8x8: forward, softmax cross-entropy, backward (only
  the parameters' gradients kept, as ``fit`` and PyTorch do), update.  Against PyTorch
  eager on one thread with the same weights.  Target: minigrad / PyTorch below 1.0.
  MyGrad (its ``conv_nd``) is a third side when installed; target below 0.5.
* **conv 16->32 on 28x28**: ``conv2d`` of a float32 batch (64, 16, 28, 28) with 32 3x3
  filters, padding 1, plus bias; forward and backward to the input, the weights and the
  bias.  Target: within 2.5x of PyTorch on one thread.  Here the work is three matrix
  products (forward, input gradient, weight gradient, each 64·28·28 = 50,176 columns
  deep); a fourth side times those three products alone in numpy on the layer's own
  arrays, to show how much of the gap is the BLAS library's (OpenBLAS, through numpy)
  against PyTorch's oneDNN convolution, and how much is minigrad's own (im2col and col2im).

Both sides of each comparison run interleaved in one warmed process: PyTorch's first large
convolution in a fresh process pays for page faults that a warm-up removes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.harness import Config, Mismatch, Row, check_close, compare, optional, show_time

BATCH = 64
LEARNING_RATE = 0.05
#: Steps per timed repeat: a step is a few milliseconds, too short to time alone.
STEPS_PER_REPEAT = 10
#: At least this many repeats: the sides are within tens of percent of each other.
MIN_REPEATS = 21


# ============================================================================ digits CNN


def cnn_problem(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Any]:
    """A float32 batch of 8x8 images as rows of 64 pixels, labels, and the minigrad CNN."""
    from minigrad import nn

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 64), dtype=np.float32)
    labels = rng.integers(0, 10, size=batch)
    return x, labels, nn.digits_cnn(seed=seed, dtype=np.float32)


def minigrad_cnn_step(x: np.ndarray, labels: np.ndarray, model: Any) -> Any:
    from minigrad import Value, optim
    from minigrad.nn import functional as F

    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    batch = Value(x, requires_grad=False)

    def step() -> float:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch), labels)
        loss.backward(intermediate_grads=False)
        optimizer.step()
        return float(loss.data)

    step.model = model
    return step


def torch_cnn(torch: Any, model: Any) -> Any:
    """PyTorch's modules with the minigrad model's weights (same state_dict names)."""
    theirs = torch_digits_cnn(torch)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return theirs


def torch_digits_cnn(torch: Any) -> Any:
    """``minigrad.nn.models``' digits CNN written with PyTorch's modules, in the same order
    (so the two state_dicts have the same names), with PyTorch's own initialisation."""
    nn = torch.nn
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def torch_cnn_step(torch: Any, x: np.ndarray, labels: np.ndarray, model: Any) -> Any:
    theirs = torch_cnn(torch, model)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=LEARNING_RATE)
    batch, targets = torch.tensor(x), torch.tensor(labels)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> float:
        optimizer.zero_grad()
        loss = cross_entropy(theirs(batch), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    step.model = theirs
    return step


def mygrad_cnn_step(mygrad: Any, x: np.ndarray, labels: np.ndarray, model: Any) -> Any:
    """The same step in MyGrad: ``nnet.conv_nd``, ``nnet.max_pool``, ``softmax_crossentropy``
    and an in-place SGD update, with the minigrad model's weights."""
    from mygrad.nnet.activations import relu
    from mygrad.nnet.layers import conv_nd, max_pool
    from mygrad.nnet.losses import softmax_crossentropy

    params = {k: mygrad.tensor(v) for k, v in model.state_dict().items()}
    images = x.reshape(-1, 1, 8, 8)

    def step() -> float:
        h = conv_nd(images, params["1.weight"], stride=1, padding=1)
        h = relu(h + params["1.bias"].reshape(1, -1, 1, 1))
        h = max_pool(h, (2, 2), 2)
        h = conv_nd(h, params["4.weight"], stride=1, padding=1)
        h = relu(h + params["4.bias"].reshape(1, -1, 1, 1))
        h = max_pool(h, (2, 2), 2).reshape(len(images), 64)
        logits = mygrad.matmul(h, params["8.weight"].T) + params["8.bias"]
        loss = softmax_crossentropy(logits, labels)
        loss.backward()
        for p in params.values():
            p.data -= LEARNING_RATE * p.grad  # in place, as the other sides' optimizers
            p.null_grad()
        return float(loss.data)

    step.params = params
    return step


# ============================================================================ one large conv


def layer_problem(
    smoke: bool, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x (64, 16, 28, 28), w (32, 16, 3, 3), b (32,) and an output gradient, float32."""
    n, c, o, size = (2, 3, 4, 6) if smoke else (64, 16, 32, 28)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) * np.float32(1 / np.sqrt(c * 9))
    b = rng.standard_normal(o, dtype=np.float32)
    g = rng.standard_normal((n, o, size, size), dtype=np.float32)
    return x, w, b, g


def minigrad_layer(x, w, b, g) -> Any:
    from minigrad import Value
    from minigrad.nn import functional as F

    values = [Value(a) for a in (x, w, b)]

    def run() -> list:
        for v in values:
            v.grad = None
        F.conv2d(*values, padding=1).backward(g, intermediate_grads=False)
        return [v.grad for v in values]

    return run


def torch_layer(torch: Any, x, w, b, g) -> Any:
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    gradient = torch.tensor(g)

    def run() -> list:
        for t in tensors:
            t.grad = None
        torch.nn.functional.conv2d(*tensors, padding=1).backward(gradient)
        return [t.grad.numpy() for t in tensors]

    return run


def numpy_products(x, w, b, g) -> Any:
    """The layer's three matrix products alone, on arrays of the shapes minigrad uses."""
    rng = np.random.default_rng(1)
    k, columns = w[0].size, x.shape[0] * x.shape[2] * x.shape[3]
    cols = rng.standard_normal((k, columns), dtype=np.float32)
    w_mat = w.reshape(len(w), k)
    g_mat = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(len(w), columns)

    def run() -> tuple:
        return w_mat @ cols, g_mat @ cols.T, w_mat.T @ g_mat

    return run


# ============================================================================ the rows


def run(config: Config) -> list[Row]:
    torch = optional("torch")
    mygrad = optional("mygrad")
    rows = _cnn_rows(config, torch, mygrad)
    rows += _layer_rows(config, torch)
    return rows


def _cnn_rows(config: Config, torch: Any, mygrad: Any) -> list[Row]:
    batch = 4 if config.smoke else BATCH
    x, labels, model = cnn_problem(batch)
    sides = {"minigrad": minigrad_cnn_step(x, labels, model)}
    if torch is not None:
        torch.set_num_threads(1)
        sides["torch"] = torch_cnn_step(torch, x, labels, cnn_problem(batch)[2])
    if mygrad is not None:
        sides["mygrad"] = mygrad_cnn_step(mygrad, x, labels, cnn_problem(batch)[2])
    checks: dict = {}
    for k in range(2):  # the same losses, two steps in lockstep
        losses = {name: step() for name, step in sides.items()}
        checks[f"losses step {k}"] = losses
        for name in losses:
            check_close(
                f"digits CNN loss at step {k} ({name})", losses["minigrad"], losses[name], 1e-4
            )
    for p in model.parameters():
        if p.data.dtype != np.float32 or p.grad.dtype != np.float32:
            raise Mismatch(f"digits CNN: float32 was promoted to {p.grad.dtype}")
    if torch is not None:
        theirs = dict(sides["torch"].model.named_parameters())
        for name, p in model.named_parameters():
            if not np.allclose(p.data, theirs[name].detach().numpy(), rtol=1e-4, atol=1e-5):
                raise Mismatch(f"digits CNN: {name} was updated differently by PyTorch")
    repeats = config.repeats if config.smoke else max(config.repeats, MIN_REPEATS)
    medians = compare(sides, config, number=STEPS_PER_REPEAT, repeats=repeats)
    detail = ", ".join(f"{name} {show_time(t)}" for name, t in medians.items()) + " per step"
    rows = []
    for name, target, bound in (("torch", "< 1.0", 1.0), ("mygrad", "< 0.5", 0.5)):
        label = "torch (1 thread)" if name == "torch" else "MyGrad"
        if name not in medians:
            rows.append(Row("digits CNN step", f"minigrad / {label}", None, target, None,
                            f"{name} not installed"))  # fmt: skip
            continue
        ratio = medians.ratio("minigrad", name)
        rows.append(
            Row(
                "digits CNN step",
                f"minigrad / {label}",
                ratio,
                target,
                ratio < bound,
                detail,
                checks,
            )
        )
    return rows


def _layer_rows(config: Config, torch: Any) -> list[Row]:
    x, w, b, g = layer_problem(config.smoke)
    sides = {"minigrad": minigrad_layer(x, w, b, g), "numpy products": numpy_products(x, w, b, g)}
    name = "conv 16->32 3x3 28x28"
    if torch is None:
        return [
            Row(name, "minigrad / torch (1 thread)", None, "<= 2.5", None, "torch not installed")
        ]
    torch.set_num_threads(1)
    sides["torch"] = torch_layer(torch, x, w, b, g)
    checks: dict = {}
    for which, ours, theirs in zip(("x", "w", "b"), sides["minigrad"](), sides["torch"]()):
        scale = float(np.abs(theirs).max())
        error = float(np.abs(ours - theirs).max()) / scale
        checks[f"grad {which} relative error"] = error
        if error > 1e-4:
            raise Mismatch(f"{name}: the gradient of {which} differs from PyTorch's by {error:.2g}")
    repeats = config.repeats if config.smoke else max(config.repeats, 11)
    medians = compare(sides, config, number=1, repeats=repeats)
    detail = ", ".join(f"{side} {show_time(t)}" for side, t in medians.items())
    ratio = medians.ratio("minigrad", "torch")
    products = medians.ratio("numpy products", "torch")
    return [
        Row(name, "forward + backward: minigrad / torch (1 thread)", ratio, "<= 2.5", ratio <= 2.5,
            detail, checks),
        Row(name, "its 3 matrix products alone in numpy / torch's whole layer", products, "", None,
            "what OpenBLAS's products cost against oneDNN's whole convolution"),
    ]  # fmt: skip
