"""minigrad: automatic differentiation from scratch, for studying backpropagation.

>>> from minigrad import Value
>>> x = Value(2.0, name="x")
>>> y = x * x + 3 * x
>>> y.backward()
>>> x.grad
7.0
"""

from minigrad import data, nn, ops, optim
from minigrad.anomaly import AnomalyError, detect_anomaly
from minigrad.autograd import enable_grad, grad, is_grad_enabled, no_grad
from minigrad.curvature import critical_learning_rate
from minigrad.functions import Function, clip, concat, logaddexp, maximum, minimum, stack, where
from minigrad.gradcheck import (
    ComplexStepError,
    GradcheckError,
    GradcheckReport,
    GradcheckWarning,
    eps_sweep,
    gradcheck,
    gradcheck_module,
    gradgradcheck,
    numerical_grad,
)
from minigrad.learning_rate import lr_sweep
from minigrad.ops import (
    diag,
    einsum,
    one_hot,
    outer,
    pad,
    take_along_axis,
    tile,
    tril,
    triu,
)
from minigrad.train import History, fit
from minigrad.value import Value
from minigrad.viz import (
    GraphvizNotFoundError,
    ascii_tree,
    backward_steps,
    draw,
    render_graph,
    to_dot,
    to_json,
    trace,
)

__version__ = "0.1.0"

# Every public name, spelled out rather than gathered from the subpackages' own lists: this
# is where a reader (and ruff, and an editor) finds them all, so some names stand twice.
__all__ = [
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
    "gradcheck_module",
    "eps_sweep",
    "GradcheckReport",
    "GradcheckError",
    "GradcheckWarning",
    "ComplexStepError",
    "Value",
    "Function",
    "grad",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "concat",
    "stack",
    "where",
    "clip",
    "maximum",
    "minimum",
    "logaddexp",
    "ops",
    "einsum",
    "outer",
    "pad",
    "tile",
    "tril",
    "triu",
    "diag",
    "take_along_axis",
    "one_hot",
    "detect_anomaly",
    "AnomalyError",
    "nn",
    "optim",
    "data",
    "fit",
    "History",
    "lr_sweep",
    "critical_learning_rate",
    "draw",
    "to_dot",
    "render_graph",
    "trace",
    "ascii_tree",
    "to_json",
    "backward_steps",
    "GraphvizNotFoundError",
]
