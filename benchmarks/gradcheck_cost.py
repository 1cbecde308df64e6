"""Gradient checking: what it costs, counted in forward passes of the model checked.

Placeholder until ``minigrad.gradcheck`` exists: the benchmark is reported as skipped.
"""

from __future__ import annotations

from benchmarks.harness import Config, Row, optional


def run(config: Config) -> list[Row]:
    gradcheck = optional("minigrad.gradcheck")
    if gradcheck is None or not hasattr(gradcheck, "gradcheck"):
        return [
            Row(
                "gradcheck",
                "fast mode on the 784-256-10 MLP, in forward passes",
                None,
                "< 30",
                None,
                "skipped: minigrad.gradcheck.gradcheck does not exist yet",
            )
        ]
    raise NotImplementedError("gradcheck_cost: write the benchmark against minigrad.gradcheck")
