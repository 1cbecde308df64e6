"""Random expression graphs for property-based tests.

A graph is a small program: leaves with random shapes, then instructions that each apply
one operation to earlier results (so results are reused, and shapes broadcast).  The same
program runs on minigrad Values, on torch tensors, or on plain numbers for finite
differences, so one generator feeds every comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.functional import affine

LEAF_SHAPES = [(), (3,), (2, 3), (2, 1), (1, 3), (3, 2)]

# name: (arity, minigrad implementation, torch implementation, shape rule)
# Domain guards (x*x + 1 under log and sqrt, a squared denominator) are written with
# primitives too, so they are part of what is checked.


def _mg_ops():
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / (b * b + 0.5),
        "pow2": lambda a: a**2,
        "powv": lambda a, b: (a * a + 0.5) ** b.tanh(),
        "exp": lambda a: a.tanh().exp(),
        "log": lambda a: (a * a + 1.0).log(),
        "sqrt": lambda a: (a * a + 1.0).sqrt(),
        "tanh": lambda a: a.tanh(),
        "sigmoid": lambda a: a.sigmoid(),
        "relu": lambda a: a.relu(),
        "abs": lambda a: a.abs(),
        "neg": lambda a: -a,
        "sum": lambda a: a.sum(),
        "sum0": lambda a: a.sum(axis=0),
        "mean_last": lambda a: a.mean(axis=-1, keepdims=True),
        "max_last": lambda a: a.max(axis=-1),
        "min0": lambda a: a.min(axis=0),
        "T": lambda a: a.T,
        "flat": lambda a: a.reshape(-1),
        "first": lambda a: a[0],
        "stride": lambda a: a[::2],
        "pick": lambda a: a[np.array([0, 0, -1])],
        "matmul": lambda a, b: a @ b,
        "affine": lambda a, b: affine(a, b, b[0]),  # b is W, and its first row the bias
        "concat": lambda a, b: mg.concat([a, b], axis=0),
        "stack": lambda a, b: mg.stack([a, b], axis=-1),
        "where": lambda a, b: mg.where(_mask(np.broadcast_shapes(a.shape, b.shape)), a, b),
    }


def _torch_ops(torch):
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / (b * b + 0.5),
        "pow2": lambda a: a**2,
        "powv": lambda a, b: (a * a + 0.5) ** torch.tanh(b),
        "exp": lambda a: torch.exp(torch.tanh(a)),
        "log": lambda a: torch.log(a * a + 1.0),
        "sqrt": lambda a: torch.sqrt(a * a + 1.0),
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "abs": torch.abs,
        "neg": lambda a: -a,
        "sum": lambda a: a.sum(),
        "sum0": lambda a: a.sum(dim=0),
        "mean_last": lambda a: a.mean(dim=-1, keepdim=True),
        "max_last": lambda a: torch.amax(a, dim=-1),
        "min0": lambda a: torch.amin(a, dim=0),
        "T": lambda a: a.permute(*reversed(range(a.ndim))),
        "flat": lambda a: a.reshape(-1),
        "first": lambda a: a[0],
        "stride": lambda a: a[::2],
        "pick": lambda a: a[torch.tensor([0, 0, -1])],
        "matmul": lambda a, b: a @ b,
        "affine": lambda a, b: a @ b + b[0],
        "concat": lambda a, b: torch.cat([a, b], dim=0),
        "stack": lambda a, b: torch.stack([a, b], dim=-1),
        "where": lambda a, b: torch.where(
            torch.from_numpy(_mask(torch.broadcast_shapes(a.shape, b.shape))), a, b
        ),
    }


def _mask(shape) -> np.ndarray:
    """A fixed, shape-determined condition for where (no randomness to keep in sync)."""
    size = int(np.prod(shape))
    return (np.arange(size) % 3 != 1).reshape(tuple(shape))


def result_shape(name: str, shapes: list[tuple]) -> tuple | None:
    """The result's shape, or None when the operation does not apply to these shapes."""
    a = shapes[0]
    b = shapes[1] if len(shapes) > 1 else None
    try:
        if name in ("add", "sub", "mul", "div", "powv", "where"):
            return tuple(np.broadcast_shapes(a, b))
        if name in ("pow2", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg"):
            return a
    except ValueError:
        return None
    if name == "sum":
        return ()
    if len(a) == 0:
        return None
    if name == "sum0" or name == "min0":
        return a[1:]
    if name == "mean_last":
        return a[:-1] + (1,)
    if name == "max_last":
        return a[:-1]
    if name == "T":
        return a[::-1] if len(a) >= 2 else None
    if name == "flat":
        return (int(np.prod(a)),)
    if name == "first":
        return a[1:]
    if name == "stride":
        return ((a[0] + 1) // 2,) + a[1:]
    if name == "pick":
        return (3,) + a[1:]
    if name == "matmul":
        if not b or len(b) == 0:
            return None
        if len(a) == 1 and len(b) == 1:
            return () if a[0] == b[0] else None
        if len(a) == 1:
            return b[:-2] + b[-1:] if a[0] == b[-2] else None
        if len(b) == 1:
            return a[:-1] if a[-1] == b[0] else None
        if len(a) == 2 and len(b) == 2 and a[1] == b[0]:
            return (a[0], b[1])
        return None
    if name == "affine":
        ok = b is not None and len(b) == 2 and a[-1] == b[0]
        return a[:-1] + b[1:] if ok else None
    if name == "concat":
        return (a[0] + b[0],) + a[1:] if b and len(b) == len(a) and b[1:] == a[1:] else None
    if name == "stack":
        return a + (2,) if b == a else None
    return None


ARITY = {name: fn.__code__.co_argcount for name, fn in _mg_ops().items()}
SMOOTH = [n for n in ARITY if n not in ("relu", "abs", "max_last", "min0")]


@dataclass
class Program:
    leaf_shapes: list
    steps: list  # (op name, operand indices)
    seed: int

    def leaves(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        return [rng.uniform(-1.5, 1.5, size=s) for s in self.leaf_shapes]

    def weights(self, shape) -> np.ndarray:
        return np.random.default_rng(self.seed + 1).uniform(0.5, 1.5, size=shape)

    def run(self, ops: dict, leaves: list) -> object:
        values = list(leaves)
        for name, args in self.steps:
            values.append(ops[name](*[values[i] for i in args]))
        return values[-1]

    def __repr__(self) -> str:
        steps = "; ".join(
            f"v{len(self.leaf_shapes) + k} = {n}({', '.join(f'v{i}' for i in a)})"
            for k, (n, a) in enumerate(self.steps)
        )
        return f"Program(leaves={self.leaf_shapes}, {steps}, seed={self.seed})"


@st.composite
def programs(draw, max_steps: int = 6, smooth_only: bool = False):
    """A random program whose every step is shape-valid; later steps reuse earlier values."""
    names = SMOOTH if smooth_only else list(ARITY)
    leaf_shapes = draw(st.lists(st.sampled_from(LEAF_SHAPES), min_size=1, max_size=3))
    shapes = list(leaf_shapes)
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(names))
        args = [draw(st.integers(0, len(shapes) - 1)) for _ in range(ARITY[name])]
        # Prefer the newest value as the first operand, so programs are deep, not flat.
        if draw(st.booleans()):
            args[0] = len(shapes) - 1
        shape = result_shape(name, [shapes[i] for i in args])
        if shape is None:
            continue
        steps.append((name, args))
        shapes.append(shape)
    if not steps:
        steps.append(("tanh", [len(shapes) - 1]))
        shapes.append(shapes[-1])
    seed = draw(st.integers(0, 2**31 - 1))
    return Program(leaf_shapes, steps, seed)


MG_OPS = _mg_ops()
torch_ops = _torch_ops
