"""Rendering: how long ``minigrad.viz.to_dot`` takes to describe a graph.

Two graphs from micrograd's demo network (``benchmarks.scalar_mlp``), scored on enough
points to reach the size: about 2,000 Values drawn in full (``max_nodes=None``), and about
100,000 Values drawn with the default node limit, where the cost is finding the nodes to
keep, not writing them.  The layout by Graphviz's ``dot`` program is not included: it is
not minigrad's code.

Target: well under a second each (the table uses 0.5 s).
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.harness import Config, Row, compare, optional, show_time
from benchmarks.scalar_mlp import LAYERS, ScalarMLP, initial_weights, two_moons

TARGET_SECONDS = 0.5


def graph(n_points: int) -> tuple:
    """(root, number of Values) of the demo network's hinge loss on ``n_points`` points."""
    from minigrad import Value

    rng = np.random.default_rng(0)
    points, labels = two_moons(n_points, 0.1, rng)
    model = ScalarMLP(initial_weights(LAYERS, rng))
    scores = [model([Value(v, requires_grad=False) for v in row]) for row in points]
    root = sum((1 + -y * s).relu() for y, s in zip(labels, scores)) * (1.0 / n_points)
    return root, count_values(root)


def count_values(root: object) -> int:
    """Every Value reachable from root, constants included (an explicit stack)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def run(config: Config) -> list[Row]:
    viz = optional("minigrad.viz")
    if viz is None or not hasattr(viz, "to_dot"):
        return [
            Row(
                "rendering",
                "to_dot, seconds",
                None,
                "< 0.5 s",
                None,
                "skipped: minigrad.viz.to_dot is not available",
                unit="s",
            )
        ]
    cases = [
        ("all of", 2 if config.smoke else 3, None),
        ("limited to the default max_nodes, from", 5 if config.smoke else 150, "default"),
    ]
    rows = []
    for words, n_points, limit in cases:
        root, n_values = graph(n_points)
        root.backward()  # so that the picture shows gradients too, as users see it

        if limit is None:

            def draw(root=root):
                # Drawn in full, the sum over the points has long edges: to_dot draws them
                # from copies (what a user gets) and warns; the warning is not news here.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    return viz.to_dot(root, max_nodes=None)
        else:

            def draw(root=root):
                return viz.to_dot(root)

        text = draw()
        if "digraph" not in text:
            raise AssertionError("to_dot did not return DOT source")
        seconds = compare({"to_dot": draw}, config, repeats=max(3, config.repeats // 2))
        seconds = seconds["to_dot"]
        rows.append(
            Row(
                "rendering",
                f"to_dot {words} a {n_values:,}-Value graph, seconds",
                seconds,
                "< 0.5 s",
                seconds < TARGET_SECONDS,
                f"{show_time(seconds)}; {len(text):,} characters of DOT",
                {"values": n_values, "characters": len(text)},
                unit="s",
            )
        )
    return rows
