"""The minigrad benchmark suite: minigrad side by side with the systems a user would pick.

Run it with ``make bench`` or ``python -m benchmarks`` (``--help`` lists the options).  It
prints one table of ratios and writes it, with a description of the machine and the exact
command, into ``docs/performance.md``.

Each benchmark is a module with a ``run(config) -> list[Row]`` function:

======================  ==========================================================
``scalar_mlp``          micrograd's demo network, one training step, vs micrograd
``tensor_mlp``          784-256-128-10 float32 SGD step vs numpy by hand and PyTorch
``tiny_ops``            300 x (mul, add, tanh) on 4x4 arrays, then backward, vs PyTorch
``scaling``             backward on chains and wide graphs of 1e3 ... 1e6 nodes
``gradcheck_cost``      what gradient checking costs, in forward-pass equivalents
``rendering``           DOT for a 2,000-node graph and a 100,000-node graph
======================  ==========================================================

Before timing anything, every comparison checks that both sides compute the same thing
(the same loss, the same gradients) and raises ``Mismatch`` if they do not.  The smoke
mode (``--smoke``) runs every benchmark on tiny sizes once, for the test suite.

This package imports nothing heavy at import time: ``python -m benchmarks`` must be able
to set the BLAS thread count before numpy is loaded.
"""

BENCHMARKS = (
    "scalar_mlp", "tensor_mlp", "tiny_ops", "scaling", "gradcheck_cost", "rendering", "conv",
)  # fmt: skip
