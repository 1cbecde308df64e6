"""The building blocks: Neuron, Layer, MLP, Dropout and the activation modules.

A ``Neuron`` computes act(x · w + b) for one unit.  A ``Layer`` of ``nout`` neurons keeps
their weights as the columns of one matrix W of shape (nin, nout), so its forward pass is
one matrix product ``act(x @ W + b)`` for a whole batch; ``layer.neuron(i)`` shows neuron
i's share of it (column i of W, entry i of b, and their gradients).

Inputs are one example of shape (nin,) or a batch of shape (n, nin); plain lists and
arrays are accepted and converted to the layer's dtype.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.functions import stack
from minigrad.nn import functional as F
from minigrad.nn import init as initialisers
from minigrad.nn.module import Module
from minigrad.value import Value, data_of

__all__ = [
    "Neuron",
    "Layer",
    "NeuronView",
    "MLP",
    "Dropout",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "Softmax",
    "LeakyReLU",
    "ELU",
    "SELU",
    "GELU",
    "SiLU",
    "Softplus",
    "Mish",
    "Hardtanh",
    "ReLU6",
    "Hardsigmoid",
    "Hardswish",
    "Softsign",
    "LogSigmoid",
    "LayerNorm",
    "BatchNorm1d",
    "Embedding",
    "ACTIVATIONS",
]

#: Activations by name, as accepted by ``Neuron``, ``Layer`` and ``MLP``.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "gelu": F.gelu,
    "silu": F.silu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "softplus": F.softplus,
    "linear": None,
    "identity": None,
    "none": None,
}


def _activation(activation: Any) -> tuple[str | None, Callable | None]:
    """(display name, function) of an activation given as a name, None or a function."""
    if activation is None:
        return None, None
    if isinstance(activation, str):
        key = activation.lower()
        if key not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of "
                f"{', '.join(sorted(ACTIVATIONS))}, None, or pass a function of a Value"
            )
        fn = ACTIVATIONS[key]
        return (key if fn is not None else None), fn
    if callable(activation):
        return getattr(activation, "__name__", type(activation).__name__), activation
    raise TypeError(f"activation must be a name, None or a function, got {activation!r}")


def _rng(seed: Any, rng: Any, who: str = "") -> np.random.Generator:
    """The generator for a layer's initialisation: from ``seed`` or ``rng``, not both."""
    if seed is not None and rng is not None:
        raise ValueError(f"{who + ': ' if who else ''}pass either seed or rng, not both")
    return initialisers.make_rng(rng if rng is not None else seed, what="seed/rng")


def _size(n: Any, what: str) -> int:
    """A layer's size: a whole number >= 1 (booleans refused)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def _init_for(init: Any, activation: str | None) -> tuple[str, Callable]:
    """The initialiser to use: "auto" picks He for ReLU, Xavier (Glorot) otherwise."""
    if isinstance(init, str) and init.lower() == "auto":
        init = "he_uniform" if activation == "relu" else "xavier_uniform"
    fn = initialisers.get(init)
    return (init if isinstance(init, str) else getattr(fn, "__name__", "custom")), fn


def _as_input(x: Any, nin: int, dtype: np.dtype, who: str) -> Value:
    """A Value of shape (nin,) or (n, nin); plain data is converted to ``dtype``."""
    if not isinstance(x, Value):
        if isinstance(x, (list, tuple)) and any(isinstance(v, Value) for v in x):
            x = stack(list(x))
        else:
            try:
                x = Value(np.asarray(x, dtype=dtype), requires_grad=False)
            except (TypeError, ValueError) as error:
                raise TypeError(f"{who}: cannot use {type(x).__name__} as input: {error}") from None
    if x.ndim == 0 and nin == 1:
        x = x.reshape(1)
    if x.ndim not in (1, 2) or x.shape[-1] != nin:
        raise ValueError(
            f"{who} expects {nin} input features: shape ({nin},) for one example or "
            f"(n, {nin}) for a batch; got shape {x.shape}"
        )
    return x


def _initial(fn: Callable, shape: tuple, gen: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    data = np.asarray(fn(shape, rng=gen, dtype=dtype), dtype=dtype)
    if data.shape != shape:
        raise ValueError(f"the initialiser returned shape {data.shape}, expected {shape}")
    return data


def _dtype_note(dtype: np.dtype) -> str:
    return "" if dtype == np.float64 else f", dtype={dtype}"


# ============================================================================ Neuron


class Neuron(Module):
    """One unit: ``act(x · w + b)``, with weight vector ``w`` (nin,) and scalar bias ``b``.

    ``activation``: "tanh" (default), "relu", "sigmoid", None (linear) or a function of a
    Value.  ``init``: how w is drawn (default "auto": He for ReLU, Xavier otherwise; see
    ``minigrad.nn.init``); b starts at 0.  ``seed``/``rng``: an int or a
    ``numpy.random.Generator`` (same seed, same neuron).  ``dtype``: float64 or float32.

    Input of shape (nin,) gives a scalar Value; a batch (n, nin) gives shape (n,).
    """

    def __init__(
        self,
        nin: int,
        activation: Any = "tanh",
        init: Any = "auto",
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.nin = _size(nin, "Neuron: nin")
        self.activation, self._act = _activation(activation)
        self.dtype = initialisers._check_dtype(dtype)
        self.init, fn = _init_for(init, self.activation)
        gen = _rng(seed, rng)
        self.w = Value(_initial(fn, (self.nin,), gen, self.dtype), name="w")
        self.b = Value(self.dtype.type(0), name="b")

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self.nin, self.dtype, "Neuron")
        z = x @ self.w + self.b
        return self._act(z) if self._act is not None else z

    @property
    def w_grad(self) -> np.ndarray | None:
        """The gradient of w after a backward pass (None before)."""
        return data_of(self.w.grad)

    @property
    def b_grad(self) -> float | None:
        """The gradient of b after a backward pass (None before)."""
        g = data_of(self.b.grad)
        return None if g is None else float(g)

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation}{_dtype_note(self.dtype)}"


# ============================================================================ Layer


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs: ``act(x @ W + b)``.

    W has shape (nin, nout) (column i holds neuron i's weights) and b shape (nout,).
    ``activation``: None (linear, the default, like PyTorch's Linear), "relu", "tanh",
    "sigmoid" or a function of a Value.  ``init``: "auto" (He for ReLU, Xavier
    otherwise), a name from ``minigrad.nn.init`` or a function (shape, rng=, dtype=) ->
    array; b starts at 0.  ``bias=False`` drops b.  ``seed``/``rng``: int or Generator.

    ``layer.neuron(i)`` / ``layer.neurons[i]``: a read-only view of neuron i (its weights,
    bias and their gradients), for inspection; the parameters stay W and b.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Any = None,
        init: Any = "auto",
        bias: bool = True,
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.nin = _size(nin, "Layer: nin")
        self.nout = _size(nout, "Layer: nout")
        self.activation, self._act = _activation(activation)
        self.dtype = initialisers._check_dtype(dtype)
        self.init, fn = _init_for(init, self.activation)
        gen = _rng(seed, rng)
        self.W = Value(_initial(fn, (self.nin, self.nout), gen, self.dtype), name="W")
        self.b = Value(np.zeros(self.nout, dtype=self.dtype), name="b") if bias else None

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self.nin, self.dtype, f"Layer({self.nin} -> {self.nout})")
        z = F.affine(x, self.W, self.b)  # x @ W + b, one fused node
        return self._act(z) if self._act is not None else z

    def neuron(self, i: int) -> NeuronView:
        """A view of neuron ``i`` (negative indices count from the end)."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"neuron index must be an int, got {type(i).__name__}")
        if not -self.nout <= i < self.nout:
            raise IndexError(f"neuron {i} out of range: this layer has {self.nout} neurons")
        return NeuronView(self, int(i) % self.nout)

    @property
    def neurons(self) -> list[NeuronView]:
        """Views of every neuron, in order (``layer.neurons[i]`` is ``layer.neuron(i)``)."""
        return [NeuronView(self, i) for i in range(self.nout)]

    def extra_repr(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return (
            f"{self.nin} -> {self.nout}, activation={self.activation}{bias}"
            f"{_dtype_note(self.dtype)}"
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class NeuronView:
    """Neuron ``index`` of a Layer, seen through the layer's matrix.

    Not a parameter and not a copy: ``w`` is column ``index`` of ``layer.W`` (a read-only
    numpy view that follows training), ``b`` is entry ``index`` of ``layer.b``, and
    ``w_grad``/``b_grad`` are the same slices of the gradients (None before backward).
    Calling it computes this neuron's output alone, through the layer's parameters.
    """

    __slots__ = ("layer", "index")

    def __init__(self, layer: Layer, index: int) -> None:
        self.layer = layer
        self.index = index

    @property
    def nin(self) -> int:
        return self.layer.nin

    @property
    def activation(self) -> str | None:
        return self.layer.activation

    @property
    def w(self) -> np.ndarray:
        """Weights of this neuron: column ``index`` of W, shape (nin,), read-only view."""
        return _read_only(self.layer.W.data[:, self.index])

    @property
    def b(self) -> float:
        """Bias of this neuron (0.0 for a layer without bias)."""
        if self.layer.b is None:
            return 0.0
        return float(self.layer.b.data[self.index])

    @property
    def w_grad(self) -> np.ndarray | None:
        """d loss / d w for this neuron: column ``index`` of W.grad, or None."""
        g = data_of(self.layer.W.grad)
        return None if g is None else _read_only(np.asarray(g)[:, self.index])

    @property
    def b_grad(self) -> float | None:
        """d loss / d b for this neuron: entry ``index`` of b.grad, or None."""
        if self.layer.b is None:
            return None
        g = data_of(self.layer.b.grad)
        return None if g is None else float(np.asarray(g)[self.index])

    def __call__(self, x: Any) -> Value:
        """act(x · W[:, i] + b[i]): this neuron's output, differentiable into W and b."""
        layer = self.layer
        x = _as_input(x, layer.nin, layer.dtype, f"neuron {self.index}")
        z = x @ layer.W[:, self.index]
        if layer.b is not None:
            z = z + layer.b[self.index]
        return layer._act(z) if layer._act is not None else z

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NeuronView)
            and other.layer is self.layer
            and other.index == self.index
        )

    def __hash__(self) -> int:
        return hash((id(self.layer), self.index))

    def __repr__(self) -> str:
        grad = (
            "" if self.w_grad is None else f", w_grad={np.array2string(self.w_grad, precision=4)}"
        )
        return (
            f"Neuron {self.index} of Layer({self.layer.nin} -> {self.layer.nout}): "
            f"w={np.array2string(self.w, precision=4)}, b={self.b:.4g}{grad}"
        )


# ============================================================================ MLP


class MLP(Module):
    """A multi-layer perceptron: ``Layer(nin, nouts[0])``, ``Layer(nouts[0], nouts[1])``...

    Hidden layers use ``activation`` (default "relu") and are followed by a ``Dropout``
    when ``dropout`` > 0; the last layer uses ``output_activation`` (default None: linear,
    so the outputs are logits or regression values for the loss).  ``init`` goes to every
    layer.  ``seed``/``rng``: int or Generator; the same seed gives the same weights
    (whatever ``dropout`` is).  Parameters are named ``layers.0.W``, ``layers.0.b``...;
    ``layers`` holds the Layers only, ``dropouts`` the Dropout modules.
    """

    def __init__(
        self,
        nin: int,
        nouts: Any,
        activation: Any = "relu",
        dropout: float = 0.0,
        output_activation: Any = None,
        init: Any = "auto",
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        if isinstance(nouts, numbers.Integral):
            nouts = [nouts]
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP needs at least one layer size in nouts, e.g. [16, 16, 1]")
        sizes = [_size(nin, "MLP: nin")] + [_size(n, "MLP: layer size") for n in nouts]
        self.nin = sizes[0]
        self.nouts = sizes[1:]
        self.activation = _activation(activation)[0]
        self.output_activation = _activation(output_activation)[0]
        self.dropout = F._check_probability(dropout)
        gen = _rng(seed, rng)
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=activation if i < last else output_activation,
                init=init,
                rng=gen,
                dtype=dtype,
            )
            for i in range(len(self.nouts))
        ]
        self.dropouts = (
            [Dropout(self.dropout, rng=int(gen.integers(2**63))) for _ in range(last)]
            if self.dropout > 0
            else []
        )
        for name, p in self.named_parameters():
            p.name = name  # graphs then show "layers.0.W" rather than a bare "W"

    def forward(self, x: Any) -> Value:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.dropouts and i < last:
                x = self.dropouts[i](x)
        return x

    def _repr_children(self) -> list[tuple[str, Module]]:
        shown = []
        for i, layer in enumerate(self.layers):
            shown.append((f"layers.{i}", layer))
            if i < len(self.dropouts):
                shown.append((f"dropouts.{i}", self.dropouts[i]))
        return shown

    def extra_repr(self) -> str:
        sizes = " -> ".join(str(n) for n in [self.nin, *self.nouts])
        parts = [sizes, f"activation={self.activation}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.output_activation is not None:
            parts.append(f"output_activation={self.output_activation}")
        return ", ".join(parts)


# ============================================================================ Dropout


class Dropout(Module):
    """Inverted dropout: in training mode each element is zeroed with probability ``p`` and
    the rest are multiplied by 1 / (1 - p), so the expected output equals the input; in
    evaluation mode (``eval()``) it is the identity.

    ``p`` must be in [0, 1) (ValueError otherwise).  ``seed``/``rng``: int or Generator;
    the masks are a reproducible sequence for a given seed.
    """

    def __init__(self, p: float = 0.5, seed: Any = None, rng: Any = None) -> None:
        super().__init__()
        self.p = F._check_probability(p)
        self._rng = _rng(seed, rng)

    def forward(self, x: Any) -> Value:
        return F.dropout(x, self.p, self._rng, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ============================================================================ activations


class ReLU(Module):
    """relu(x) = max(x, 0), elementwise."""

    def forward(self, x: Any) -> Value:
        return F._as_input(x, "ReLU").relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Value:
        return F._as_input(x, "Tanh").tanh()


class Sigmoid(Module):
    """σ(x) = 1 / (1 + exp(-x)), elementwise (computed stably)."""

    def forward(self, x: Any) -> Value:
        return F._as_input(x, "Sigmoid").sigmoid()


class Identity(Module):
    """Returns its input unchanged (a placeholder where a module is expected)."""

    def forward(self, x: Any) -> Any:
        return x


class Softmax(Module):
    """softmax along ``axis`` (default the last): turns logits into probabilities."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Value:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class _Functional(Module):
    """A module whose ``forward`` calls ``function`` of ``nn.functional`` with the keyword
    settings it was made with (shown in its repr): the activations here, the losses of
    losses.py.  The settings are tried on ``example`` when the module is made, so that bad
    ones fail there, not in the training loop."""

    function: Callable[..., Value]
    example: tuple = (np.zeros(1),)

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        self.settings = settings
        self.function(*self.example, **settings)

    def forward(self, *inputs: Any) -> Value:
        return self.function(*inputs, **self.settings)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.settings.items())


class LeakyReLU(_Functional):
    """x for x > 0, negative_slope · x otherwise (``nn.functional.leaky_relu``)."""

    function = staticmethod(F.leaky_relu)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_Functional):
    """x for x > 0, alpha · (exp(x) - 1) otherwise (``nn.functional.elu``)."""

    function = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class SELU(_Functional):
    """The self-normalising ELU (``nn.functional.selu``)."""

    function = staticmethod(F.selu)


class GELU(_Functional):
    """x · Φ(x), exact or with the tanh approximation (``nn.functional.gelu``)."""

    function = staticmethod(F.gelu)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)


class SiLU(_Functional):
    """x · σ(x), also called swish (``nn.functional.silu``)."""

    function = staticmethod(F.silu)


class Softplus(_Functional):
    """log(1 + exp(beta · x)) / beta, stable (``nn.functional.softplus``)."""

    function = staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class Mish(_Functional):
    """x · tanh(softplus(x)) (``nn.functional.mish``)."""

    function = staticmethod(F.mish)


class Hardtanh(_Functional):
    """x limited to [min_val, max_val] (``nn.functional.hardtanh``)."""

    function = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__(min_val=min_val, max_val=max_val)


class ReLU6(_Functional):
    """min(max(x, 0), 6) (``nn.functional.relu6``)."""

    function = staticmethod(F.relu6)


class Hardsigmoid(_Functional):
    """relu6(x + 3) / 6 (``nn.functional.hardsigmoid``)."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_Functional):
    """x · relu6(x + 3) / 6 (``nn.functional.hardswish``)."""

    function = staticmethod(F.hardswish)


class Softsign(_Functional):
    """x / (1 + |x|) (``nn.functional.softsign``)."""

    function = staticmethod(F.softsign)


class LogSigmoid(_Functional):
    """log σ(x), finite for any x (``nn.functional.logsigmoid``)."""

    function = staticmethod(F.logsigmoid)


# ======================================================================= normalisation, embedding


def _feature_shape(shape: Any, what: str) -> tuple:
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not shape or any(
        isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in shape
    ):
        raise ValueError(f"{what} must be a positive integer or a tuple of them, got {shape!r}")
    return tuple(int(n) for n in shape)


class LayerNorm(Module):
    """Normalise each example over its last axes: (x - mean) / sqrt(var + eps) · weight +
    bias, the mean and (biased, ddof=0) variance taken over the trailing
    ``normalized_shape`` axes, as PyTorch's ``LayerNorm``.

    ``weight`` starts at 1 and ``bias`` at 0 (both of shape ``normalized_shape``);
    ``elementwise_affine=False`` leaves them out.  The same in training and evaluation.
    Composed of primitives, so it has second derivatives.
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.normalized_shape = _feature_shape(normalized_shape, "LayerNorm: normalized_shape")
        self.eps = F._positive(eps, "LayerNorm", "eps")
        self.dtype = initialisers._check_dtype(dtype)
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Value(np.ones(self.normalized_shape, self.dtype), name="weight")
            self.bias = Value(np.zeros(self.normalized_shape, self.dtype), name="bias")

    def forward(self, x: Any) -> Value:
        x = F._as_input(x, "LayerNorm")
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): input of shape {x.shape} does not end in "
                f"the normalised shape {self.normalized_shape}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        centred = x - x.mean(axis=axes, keepdims=True)
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        out = centred * (variance + self.eps) ** -0.5
        if self.weight is not None:
            out = out * self.weight + self.bias
        return out

    def extra_repr(self) -> str:
        affine = "" if self.weight is not None else ", elementwise_affine=False"
        return f"{self.normalized_shape}, eps={self.eps}{affine}"


def _as_float_input(x: Any, dtype: np.dtype, who: str) -> Value:
    """x as a Value of the layer's dtype.  Data (arrays, and Values that need no gradient,
    as ``fit`` passes its batches) are converted; a Value that needs a gradient keeps its
    dtype, and a mismatch is reported by the operation."""
    if isinstance(x, Value):
        if x.requires_grad or x.dtype == dtype:
            return x
        return Value(np.asarray(x.data, dtype=dtype), requires_grad=False)
    try:
        return Value(np.asarray(x, dtype=dtype), requires_grad=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{who}: cannot use {type(x).__name__} as input: {error}") from None


class _BatchNorm(Module):
    """Batch normalisation per feature (channel, axis 1), as PyTorch's ``BatchNorm*d``.

    Training: y = (x - μ) / √(σ² + eps) · weight + bias, with μ and σ² (biased) the mean
    and variance of each feature over the batch and any further axes; the running
    estimates move by ``momentum``: running ← (1 - momentum) · running + momentum · batch
    value (the variance's unbiased, ·n/(n-1), as PyTorch).  Evaluation (``eval()``): the
    running estimates replace μ and σ², so one example gives the same output whatever
    batch it is in.  ``weight`` starts at 1, ``bias`` at 0 (``affine=False`` drops them);
    ``track_running_stats=False`` always uses the batch statistics.  ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` are constants saved in the state_dict
    (``num_batches_tracked`` as a float; PyTorch: int64).  A training batch of one value
    per feature is refused, as in PyTorch: its variance says nothing.  Composed from the
    engine's arithmetic, so it can be differentiated twice.
    """

    #: The input ranks the subclass accepts, and how its message describes them.
    ranks: tuple = ()
    expected: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        who = type(self).__name__
        self.num_features = _size(num_features, f"{who}: num_features")
        self.eps = F._positive(eps, who, "eps")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
            raise TypeError(f"{who}: momentum must be a number, got {momentum!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{who}: momentum must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.dtype = initialisers._check_dtype(dtype)
        c = self.num_features
        self.weight = Value(np.ones(c, self.dtype), name="weight") if affine else None
        self.bias = Value(np.zeros(c, self.dtype), name="bias") if affine else None
        self.track_running_stats = bool(track_running_stats)
        if self.track_running_stats:
            self.running_mean = Value(np.zeros(c, self.dtype), requires_grad=False)
            self.running_var = Value(np.ones(c, self.dtype), requires_grad=False)
            self.num_batches_tracked = Value(np.zeros((), np.float64), requires_grad=False)

    def forward(self, x: Any) -> Value:
        who = type(self).__name__
        x = _as_float_input(x, self.dtype, who)
        c = self.num_features
        if x.ndim not in self.ranks or x.shape[1] != c:
            raise ValueError(
                f"{who}({c}) expects input of shape {self.expected.format(c=c)}, got {x.shape}"
            )
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        if self.training or not self.track_running_stats:
            count = x.size // c
            if count < 2 and self.training:
                raise ValueError(
                    f"{who}: a training batch needs more than one value per feature, got "
                    f"input of shape {x.shape}; use eval() for single examples"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running(mean.data.reshape(-1), var.data.reshape(-1), count)
        else:
            centred = x - self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        out = centred * (var + self.eps) ** -0.5
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out

    def _update_running(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        m = self.momentum
        unbiased = var * (count / (count - 1))
        # New arrays, not in-place edits: a graph built in eval mode may still read them.
        self.running_mean.data = ((1 - m) * self.running_mean.data + m * mean).astype(self.dtype)
        self.running_var.data = ((1 - m) * self.running_var.data + m * unbiased).astype(self.dtype)
        self.num_batches_tracked.data = self.num_batches_tracked.data + 1

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (n, C) inputs, or (n, C, L) per channel C (see _BatchNorm)."""

    ranks = (2, 3)
    expected = "(n, {c}) or (n, {c}, L)"


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) for index i.

    ``embedding(indices)`` has shape indices.shape + (embedding_dim,); the gradient of
    each row is the sum of the gradients of its lookups (a row looked up twice gets both).
    ``weight`` starts standard normal, as PyTorch's.  Indices must be integers in
    0..num_embeddings-1 (IndexError naming the bad ones otherwise).
    """

    # Sizes, seed/rng and dtype read as Layer and Linear read theirs, with the same helpers:
    # what repeats is the arguments, not logic to share.
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        seed: Any = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.num_embeddings = _size(num_embeddings, "Embedding: num_embeddings")
        self.embedding_dim = _size(embedding_dim, "Embedding: embedding_dim")
        self.dtype = initialisers._check_dtype(dtype)
        gen = _rng(seed, rng)
        table = gen.standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Value(table.astype(self.dtype), name="weight")

    def forward(self, indices: Any) -> Value:
        data = np.asarray(data_of(indices))
        if data.dtype.kind == "f" and np.all(data == np.round(data)):
            data = data.astype(np.intp)
        if data.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {data.dtype}")
        bad = data[(data < 0) | (data >= self.num_embeddings)]
        if bad.size:
            raise IndexError(
                f"Embedding: indices {sorted(set(bad.tolist()))[:8]} are out of range for "
                f"{self.num_embeddings} embeddings (0..{self.num_embeddings - 1})"
            )
        return self.weight[data]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
