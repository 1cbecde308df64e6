"""Scaling: does backward stay linear from a thousand nodes to a million?

Two graph shapes of n operations on scalar Values:

* **chain**: ``h = tanh(h)`` n times, one long path (depth n), the shape that breaks a
  recursive topological sort;
* **wide**: one leaf ``x`` feeding n/2 products ``x * k_i``, summed by a balanced tree of
  n/2 additions (fan-out n/2, depth log2 n): every contribution accumulates into one node.

For each n in 1e3, 1e4, 1e5, 1e6 it reports the backward time per node (the sizes timed
interleaved, each run at least 1e5 nodes, so a hundred passes over the 1e3 graph;
gradients accumulate, which costs the same every time) and the
memory per node, measured with tracemalloc: what the graph holds after
the forward pass, and the peak during backward, divided by n.

Targets: time per node at 1e6 within 1.5x of 1e3, and memory per node bounded (within 1.5x
of the 1e3 figure).
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from benchmarks.harness import Config, Row, compare, show_time

SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: Each timed run of a small graph repeats its backward pass up to this many nodes, so
#: that it lasts tens of milliseconds rather than a fraction of one.
MIN_NODES_PER_RUN = 100_000
TARGET = 1.5


def chain(n: int) -> tuple[Any, Any]:
    """(leaf, root) of a chain of n tanh operations."""
    from minigrad import Value

    x = Value(0.5)
    h = x
    for _ in range(n):
        h = h.tanh()
    return x, h


def wide(n: int) -> tuple[Any, Any]:
    """(leaf, root) of n/2 products of one leaf, summed pairwise (n - 1 operations)."""
    from minigrad import Value

    x = Value(0.5)
    level = [x * float(i % 7 + 1) for i in range(n // 2)]
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(level) - len(level) % 2 :]
    return x, level[0]


SHAPES = {"chain": chain, "wide": wide}


def memory_per_node(build: Any, n: int) -> tuple[float, float]:
    """(bytes held by the graph after the forward pass, peak bytes during backward) / n."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        x, root = build(n)
        held = tracemalloc.get_traced_memory()[0] - start
        tracemalloc.reset_peak()
        root.backward()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    del x, root
    return held / n, peak / n


def backward_times_per_node(build: Any, sizes: tuple, config: Config) -> tuple[dict, float]:
    """({n: backward seconds per node}, per-node time at the largest n / at the smallest).

    The sizes are timed interleaved, like the sides of any comparison: the graphs of every
    size exist at once, each timed run covers at least ``MIN_NODES_PER_RUN`` nodes (a
    hundred passes over the 1e3 graph, one over the 1e6 graph), and the ratio is the
    median over repeats of the two sizes' per-node times within one repeat, so a change
    in the machine's load between repeats cancels.
    """
    graphs = {n: build(n) for n in sizes}
    passes = {n: max(1, MIN_NODES_PER_RUN // n) for n in sizes}

    def passes_of(root: Any, k: int) -> Any:
        def run() -> None:
            for _ in range(k):
                root.backward()

        return run

    sides = {_count(n): passes_of(graphs[n][1], passes[n]) for n in sizes}
    timings = compare(sides, config)
    work = {n: n * passes[n] for n in sizes}
    per_node = {n: timings[_count(n)] / work[n] for n in sizes}
    small, large = sizes[0], sizes[-1]
    ratio = timings.ratio(_count(large), _count(small)) * work[small] / work[large]
    del graphs, sides
    return per_node, ratio


def run(config: Config) -> list[Row]:
    sizes = (100, 1_000) if config.smoke else SIZES
    rows = []
    for shape, build in SHAPES.items():
        # Correctness first: d root / d x against its closed form.
        x, root = build(sizes[0])
        root.backward()
        expected = _expected_gradient(shape, sizes[0])
        if abs(x.grad - expected) > 1e-9 * max(1.0, abs(expected)):
            raise AssertionError(f"scaling {shape}: d root/dx is {x.grad}, expected {expected}")
        checks = {"gradient": (x.grad, expected)}

        per_node, ratio = backward_times_per_node(build, sizes, config)
        memory = {n: memory_per_node(build, n) for n in sizes}
        small, large = sizes[0], sizes[-1]
        times = ", ".join(f"{_count(n)}: {show_time(t)}" for n, t in per_node.items())
        rows.append(
            Row(
                "scaling",
                f"{shape}: backward time per node, {_count(large)} / {_count(small)}",
                ratio,
                "<= 1.5",
                ratio <= TARGET,
                f"per node {times}",
                checks,
            )
        )
        held = {n: m[0] for n, m in memory.items()}
        ratio = held[large] / held[small]
        sizes_text = ", ".join(
            f"{_count(n)}: {m[0]:.0f} B held, {m[1]:.0f} B peak" for n, m in memory.items()
        )
        rows.append(
            Row(
                "scaling",
                f"{shape}: memory per node, {_count(large)} / {_count(small)}",
                ratio,
                "<= 1.5",
                ratio <= TARGET,
                f"per node {sizes_text}",
                {"bytes per node": held},
            )
        )
    return rows


def _expected_gradient(shape: str, n: int) -> float:
    """d root / d x in closed form: the product of tanh' along the chain, or sum of k_i."""
    import math

    if shape == "wide":
        return float(sum(i % 7 + 1 for i in range(n // 2)))
    h, product = 0.5, 1.0
    for _ in range(n):
        h = math.tanh(h)
        product *= 1.0 - h * h
    return product


def _count(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"1e{exponent}" if n == 10**exponent else str(n)
