"""docs/operations.md, generated from the code: the derivative table from the registry
(``minigrad.functions.REGISTRY``, with each primitive's caption), the composed operations
from the modules' ``__all__`` (first docstring lines), and the expression reader's
functions from ``minigrad.expr.FUNCTIONS``.

``python -m tests.operations_page > docs/operations.md``; ``tests/test_operations_page.py``
fails when the page falls out of step with the code.
"""

from __future__ import annotations

import inspect

from minigrad import Value, expr, ops
from minigrad import functions as F
from minigrad.nn import functional

HEADER = """# Operations

Every operation minigrad has, generated from the code (`python -m tests.operations_page >
docs/operations.md`; a test fails when this page and the code disagree).

*Primitives* have a derivative rule of their own, in the one table
(`minigrad/functions.py`); each registers itself when its class is defined and carries
the caption the pictures show.  Everything else is *composed* from them, so it has no
rule to get wrong and second derivatives come for free.  Every entry is compared with
finite differences, and with PyTorch when it is installed, from the list in
`tests/ops.py` (forward values and dtype, gradients, second derivatives, float32 and
float64, broadcasting, 0-d and empty inputs).
"""

DIFFERENCES = """## Where minigrad differs from PyTorch on purpose

- `==` between two Values means *the same node* (the engine keys its work by node, and
  `__hash__` is identity); `==` between a Value and a number or array raises `TypeError`
  instead of answering a silent `False`.  Use `v.eq(x)` / `v.ne(x)` for elementwise
  masks; `<`, `<=`, `>`, `>=` return masks (bools or numpy bool arrays), never Values.
- `var`/`std` default to `ddof=0` (numpy's convention); PyTorch's default is
  `correction=1`.  Both names are accepted.
- `squeeze(axis)` on an axis whose length is not 1 raises, as numpy; PyTorch leaves it.
- `binary_cross_entropy` on probabilities differentiates the clamped formula (slope 0
  where a log is clamped at -100); PyTorch divides by `max(p (1 - p), 1e-12)`.  They
  agree for 1e-12 < p < 1 - 1e-12.
- `kl_div`: the gradient w.r.t. a target that is exactly 0 is `-input` (the remaining
  term); PyTorch gives NaN.
- `take_along_axis`/`gather` accept negative indices (numpy's rule); PyTorch refuses them.
- The float32 second derivative of `logaddexp`-based functions (softplus, logsigmoid,
  mish) far in their saturated range is only as precise as float32 `sigmoid(x)(1 -
  sigmoid(x))` allows (about 1e-4 relative at |x| ~ 8).
"""


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    line = " ".join(doc.split("\n\n")[0].split())
    return line.replace("|", "\\|")


def render() -> str:
    lines = [HEADER, "## The derivative table: primitives", ""]
    lines += ["| name | class | derivative | reader |", "|---|---|---|---|"]
    for name, cls in F.REGISTRY.items():
        reader = f"`{name}(x)`" if name in expr.FUNCTIONS else ""
        caption = cls.caption.replace("|", "\\|")
        lines.append(f"| `{name}` | `{cls.__name__}` | {caption} | {reader} |")
    lines += ["", "## Composed: `minigrad.ops` (shapes, indexing, einsum)", ""]
    lines += [f"- `{n}`: {_first_line(getattr(ops, n))}" for n in ops.__all__]
    lines += ["", "## Composed: `minigrad.nn.functional` (layers, activations, losses)", ""]
    lines += [
        f"- `{n}`: {_first_line(getattr(functional, n))}"
        for n in functional.__all__
        if not inspect.isclass(getattr(functional, n))
    ]
    lines += ["", "## Methods of `Value`", ""]
    methods = [
        n
        for n, member in vars(Value).items()
        if not n.startswith("_") and inspect.isfunction(member) and n not in _PLUMBING
    ]
    lines += [f"- `{n}`: {_first_line(getattr(Value, n))}" for n in sorted(methods)]
    lines += ["", "## The expression reader (`minigrad graph`, `minigrad gradcheck`)", ""]
    lines += ["| function | meaning | axis |", "|---|---|---|"]
    for name, spec in expr.FUNCTIONS.items():
        axis = f"`{name}(x, axis)`" if spec.reduction else ""
        call = f"{name}(a, b)" if spec.arity == 2 else f"{name}(x)"
        lines.append(f"| `{call}` | {spec.summary} | {axis} |")
    lines += ["", DIFFERENCES]
    return "\n".join(lines)


#: Methods of Value that are machinery rather than operations.
_PLUMBING = {
    "backward", "item", "numpy", "detach", "zero_grad", "save_for_backward",
}  # fmt: skip


if __name__ == "__main__":
    print(render(), end="")
