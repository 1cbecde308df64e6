"""Optimizers, gradient clipping and learning-rate schedules.

An optimizer holds a list of parameters (leaf Values) and, on ``step()``, moves each one
against its gradient.  The loop every model trains with::

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        loss = loss_fn(model(x), y)   # forward
        optimizer.zero_grad()         # forget the previous step's gradients
        loss.backward()               # d loss / d parameter, into p.grad
        optimizer.step()              # p.data -= lr * (the update rule's direction)

Conventions (the same as PyTorch's, so the numbers match step for step):

* ``step()`` changes ``p.data`` in place (arrays are updated in their memory; scalar
  parameters get a new float) and never touches ``p.grad``: the engine may share one
  gradient array between several nodes, so a new array is computed instead.
* Parameters whose ``grad`` is None (unused in this step) are skipped.
* ``weight_decay`` in SGD and Adam is L2 regularisation added to the gradient
  (g + λ·p); AdamW decays the weights directly (p ← p - lr·λ·p), decoupled from the
  adaptive step.
* Hyperparameters live in ``param_groups`` (a list of dicts, one per group of
  parameters); ``optimizer.lr`` reads the first group's rate and sets every group's.
"""

from __future__ import annotations

import bisect
import math
import numbers
from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.value import Value

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "clip_grad_norm",
    "clip_grad_value",
    "clip_coefficient",
    "grad_norm",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "MultiStepLR",
    "LinearLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "ReduceLROnPlateau",
]


# ============================================================================ validation


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _check_lr(lr: Any) -> float:
    """A learning rate: a finite number >= 0.  Zero is allowed (a warmup starts there, a
    frozen group stays there, as in PyTorch); a negative rate would climb the loss."""
    lr = _number(lr, "lr")
    if not (lr >= 0 and math.isfinite(lr)):
        raise ValueError(f"lr (learning rate) must be a finite number >= 0, got {lr}")
    return lr


def _check_range(value: Any, what: str, low: float, high: float, high_open: bool = True) -> float:
    value = _number(value, what)
    ok = low <= value < high if high_open else low <= value <= high
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{what} must be in [{low}, {high}{bracket}, got {value}")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_nonnegative(value: Any, what: str) -> float:
    value = _number(value, what)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{what} must be a non-negative finite number, got {value}")
    return value


def _parameter_list(params: Any, who: str) -> list:
    """A list of Values or of group dicts, from a Module, an iterable or a single Value."""
    if isinstance(params, Value):
        return [params]
    if hasattr(params, "parameters") and callable(params.parameters):
        return list(params.parameters())
    if isinstance(params, dict):
        return [params]
    try:
        return list(params)
    except TypeError:
        raise TypeError(
            f"{who} expects parameters: a Module, a list of Values or a list of group dicts, "
            f"got {type(params).__name__}"
        ) from None


def _grad_data(p: Value) -> np.ndarray | None:
    """p's gradient as data of p's dtype and shape (never the stored array mutated)."""
    g = p.grad
    if g is None:
        return None
    if isinstance(g, Value):
        g = g.data
    g = np.asarray(g, dtype=p.dtype)
    if g.shape != p.shape:
        raise ValueError(
            f"the gradient of {p._label()} has shape {g.shape}, not the parameter's {p.shape}"
        )
    return g


def _subtract(p: Value, delta: np.ndarray) -> None:
    """p.data -= delta: in place for arrays; scalars (immutable) get a new value."""
    data = p.data
    if isinstance(data, np.ndarray) and data.flags.writeable:
        data -= delta
        p._touch()  # graphs built from the old data must not be backpropagated any more
    elif isinstance(data, np.ndarray):
        p.data = data - delta
    elif type(data) is float:
        p.data = float(data - delta)
    else:
        p.data = p.dtype.type(data - delta)


def _scale(p: Value, factor: float) -> None:
    """p.data *= factor, in place like ``_subtract``."""
    data = p.data
    if isinstance(data, np.ndarray) and data.flags.writeable:
        data *= data.dtype.type(factor)
        p._touch()
    elif isinstance(data, np.ndarray):
        p.data = data * data.dtype.type(factor)
    elif type(data) is float:
        p.data = data * factor
    else:
        p.data = p.dtype.type(data * factor)


# ============================================================================ saved state


def _from_checkpoint(state: Any, who: str) -> Any:
    """A state dict as ``state_dict()`` returns it: nested again if it was read back from
    a checkpoint file, where ``nn.save`` stored it under dotted names."""
    if isinstance(state, dict) and any(isinstance(k, str) and "." in k for k in state):
        from minigrad.nn.checkpoint import nest_state

        return nest_state(state)
    if not isinstance(state, dict):
        raise ValueError(f"{who}.load_state_dict expects a dict, got {type(state).__name__}")
    return state


def _listed(groups: Any) -> list:
    """Parameter groups as a list (a checkpoint file gives {"0": ..., "1": ...})."""
    if isinstance(groups, dict):
        return [groups[k] for k in sorted(groups, key=int)]
    return list(groups)


def _group_from_checkpoint(group: dict[str, Any]) -> dict[str, Any]:
    """One saved group with file arrays turned back into numbers: 0-d arrays into Python
    scalars, "params" into a list of positions, other vectors (betas) into tuples."""
    result = {}
    for key, value in group.items():
        if isinstance(value, np.ndarray):
            if key == "params":
                value = [int(i) for i in value.reshape(-1)]
            elif value.ndim == 0:
                value = value.item()
            else:
                value = tuple(v.item() for v in value.reshape(-1))
        elif key == "params":
            value = list(value)
        result[key] = value
    return result


def _state_value(value: Any, p: Value) -> Any:
    """One entry of a parameter's saved state: an integer 0-d array (a step counter) is
    an int again; a float 0-d array stays an array only for a 0-d parameter (its buffer)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        if value.dtype.kind in "biu":
            return int(value)
        if p.shape != ():
            return float(value)
    return value


# ============================================================================ base class


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``lr``, and state (de)serialisation.

    ``params``: a Module, a list of Values, or a list of dicts ``{"params": [...], "lr":
    ...}`` (one per group; keys not given take the optimizer's defaults).  Every parameter
    must be a leaf Value with requires_grad=True, listed once.
    """

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        entries = _parameter_list(params, name)
        if not entries:
            raise ValueError(f"{name} got an empty parameter list: there is nothing to optimize")
        if all(isinstance(e, dict) for e in entries):
            groups = entries
        elif any(isinstance(e, dict) for e in entries):
            raise TypeError(f"{name}: give either Values or group dicts, not a mixture")
        else:
            groups = [{"params": entries}]
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        seen: dict[int, int] = {}
        for g, group in enumerate(groups):
            if "params" not in group:
                raise ValueError(f"{name}: parameter group {g} has no 'params' entry")
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(
                    f"{name}: parameter group {g} has unknown options {sorted(unknown)}; "
                    f"valid ones are {sorted(defaults)}"
                )
            members = _parameter_list(group["params"], name)
            for p in members:
                if not isinstance(p, Value):
                    raise TypeError(f"{name} can only optimize Values, got {type(p).__name__}")
                if not p.requires_grad:
                    raise ValueError(
                        f"{name}: {p._label()} has requires_grad=False, so it never gets a "
                        "gradient; leave it out or create it with requires_grad=True"
                    )
                if not p.is_leaf:
                    raise ValueError(
                        f"{name}: {p._label()} is the result of an operation, not a leaf; "
                        "optimizers update leaves (the Values you created as parameters)"
                    )
                if id(p) in seen:
                    raise ValueError(
                        f"{name}: {p._label()} appears more than once in the parameters; "
                        "it would be updated twice per step"
                    )
                seen[id(p)] = len(seen)
            settings = {**defaults, **{k: v for k, v in group.items() if k != "params"}}
            self._validate(settings)
            settings["params"] = members
            settings.setdefault("initial_lr", settings["lr"])
            self.param_groups.append(settings)

    def _validate(self, settings: dict[str, Any]) -> None:
        """Check (and normalise in place) one group's hyperparameters."""
        settings["lr"] = _check_lr(settings["lr"])
        for flag in ("maximize", "amsgrad", "nesterov", "centered"):
            if flag in settings:
                settings[flag] = _flag(settings[flag], flag)

    def _params(self) -> list[Value]:
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group; assigning sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = _check_lr(value)
        for group in self.param_groups:
            group["lr"] = value

    def zero_grad(self) -> None:
        """Set every parameter's grad to None (the next backward starts from nothing)."""
        for p in self._params():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, under ``no_grad``.

        With ``maximize=True`` the gradient is negated first (g <- -g, before weight
        decay, as in PyTorch), so the step climbs the objective instead of descending.
        """
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    g = _grad_data(p)
                    if g is not None:
                        if group.get("maximize"):
                            g = -g
                        self._update(p, g, group, self.state.setdefault(id(p), {}))

    def _update(self, p: Value, g: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- state

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: copy}}, "param_groups": [hyperparameters + "params":
        indices]}: everything needed to resume, with parameters referred to by position."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {
            index[key]: {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                         for k, v in entry.items()}
            for key, entry in self.state.items() if key in index and entry
        }  # fmt: skip
        groups = [
            {**{k: v for k, v in group.items() if k != "params"},
             "params": [index[id(p)] for p in group["params"]]}
            for group in self.param_groups
        ]  # fmt: skip
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (for the same parameters, in the same
        order).  Checked first: a mismatch raises ValueError and changes nothing."""
        name = type(self).__name__
        state_dict = _from_checkpoint(state_dict, name)
        try:
            groups, state = _listed(state_dict["param_groups"]), state_dict.get("state", {})
        except (KeyError, TypeError, AttributeError, ValueError):
            raise ValueError(
                f"{name}.load_state_dict expects a dict with 'state' and 'param_groups' "
                "(what state_dict() returns, or nn.load of a file nn.save wrote from it)"
            ) from None
        groups = [_group_from_checkpoint(group) for group in groups]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state has {len(groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        params = self._params()
        for g, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: parameter group {g} has {len(saved['params'])} parameters in "
                    f"the state but {len(group['params'])} here"
                )
        new_state = {}
        for i, entry in state.items():
            i = int(i)
            if not 0 <= i < len(params):
                raise ValueError(f"{name}: the state refers to parameter {i}, which is absent")
            p = params[i]
            entry = {key: _state_value(v, p) for key, v in entry.items()}
            for key, v in entry.items():
                if isinstance(v, np.ndarray) and v.shape != p.shape:
                    raise ValueError(
                        f"{name}: state {key!r} of parameter {i} has shape {v.shape}, "
                        f"the parameter has shape {p.shape}"
                    )
            new_state[id(p)] = {
                k: (np.array(v, dtype=p.dtype, copy=True) if isinstance(v, np.ndarray) else v)
                for k, v in entry.items()
            }
        restored = []
        for saved, group in zip(groups, self.param_groups):
            settings = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self._validate(settings)  # a tampered or foreign file is refused, not trusted
            restored.append(settings)
        for settings, group in zip(restored, self.param_groups):
            group.update(settings)
        self.state = new_state

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{k}={v}" for k, v in self.param_groups[0].items() if k not in ("params", "initial_lr")
        )
        n = sum(p.size for p in self._params())
        groups = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({settings}; {n} parameters{groups})"


# ============================================================================ SGD


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov and weight decay.

    For each parameter p with gradient g, per step (PyTorch's formulation)::

        g ← g + weight_decay · p
        if momentum:  v ← g on the first step, else momentum · v + (1 - dampening) · g
                      g ← g + momentum · v  (nesterov)   or   g ← v
        p ← p - lr · g

    Raises ValueError for lr <= 0 or not finite, momentum or dampening outside [0, 1),
    weight_decay < 0, and nesterov without momentum (or with dampening).
    """

    def __init__(
        self,
        params: Any,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                nesterov=nesterov,
                weight_decay=weight_decay,
                maximize=maximize,
            ),
        )

    def _validate(self, settings: dict[str, Any]) -> None:
        super()._validate(settings)
        settings["momentum"] = _check_range(settings["momentum"], "momentum", 0.0, 1.0)
        settings["dampening"] = _check_range(settings["dampening"], "dampening", 0.0, 1.0)
        settings["weight_decay"] = _check_nonnegative(settings["weight_decay"], "weight_decay")
        if settings["nesterov"] and (settings["momentum"] == 0 or settings["dampening"] != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, p: Value, g: np.ndarray, group: dict, state: dict) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * p.data
        if momentum:
            velocity = state.get("momentum_buffer")
            if velocity is None:
                velocity = np.array(g, copy=True)  # a copy: g may be the shared grad array
                state["momentum_buffer"] = velocity
            else:
                velocity *= momentum
                velocity += (1.0 - group["dampening"]) * g
            g = g + momentum * velocity if group["nesterov"] else velocity
        _subtract(p, lr * g)


# ============================================================================ Adam


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter step sizes from running moments.

    For each parameter p with gradient g, at step t = 1, 2, ...::

        g ← g + weight_decay · p                     (L2, as in PyTorch's Adam)
        m ← β1 · m + (1 - β1) · g                    (mean of the gradients)
        v ← β2 · v + (1 - β2) · g²                   (mean of their squares)
        v ← max(v_max, v)  and keep it as v_max       (amsgrad=True only)
        m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)      (bias corrections)
        p ← p - lr · m̂ / (√v̂ + eps)

    ``amsgrad`` (Reddi et al., 2018) divides by the largest v seen so far, so a
    parameter's step size can only shrink.  ``maximize`` negates g first.

    Raises ValueError for lr <= 0 or not finite, betas outside [0, 1), eps < 0,
    weight_decay < 0.
    """

    _decoupled = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                maximize=maximize,
            ),
        )  # fmt: skip

    def _validate(self, settings: dict[str, Any]) -> None:
        super()._validate(settings)
        betas = settings["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        settings["betas"] = (
            _check_range(betas[0], "betas[0]", 0.0, 1.0),
            _check_range(betas[1], "betas[1]", 0.0, 1.0),
        )
        settings["eps"] = _check_nonnegative(settings["eps"], "eps")
        settings["weight_decay"] = _check_nonnegative(settings["weight_decay"], "weight_decay")

    def _update(self, p: Value, g: np.ndarray, group: dict, state: dict) -> None:
        lr, (beta1, beta2), eps, wd = (
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
        )
        if wd:
            if self._decoupled:
                _scale(p, 1.0 - lr * wd)
            else:
                g = g + wd * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros(p.shape, dtype=p.dtype)
            state["exp_avg_sq"] = np.zeros(p.shape, dtype=p.dtype)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        if group["amsgrad"]:  # the largest v so far: the step size never grows back
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = np.zeros(p.shape, dtype=p.dtype)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        denominator = np.sqrt(v) / math.sqrt(correction2) + eps
        _subtract(p, (lr / correction1) * (m / denominator))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Each step first shrinks the weights, p ← p · (1 - lr · weight_decay), then takes the
    Adam step on the plain gradient: the decay is not rescaled by the adaptive step size,
    as L2-in-the-gradient is.  weight_decay defaults to 0.01, as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,  # Adam's signature again, for this default (PyTorch's)
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize,
        )  # fmt: skip


# ============================================================================ RMSprop, Adagrad


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): divide each step by a running root mean square of the
    gradients.  For each parameter p with gradient g, per step (PyTorch's formulation)::

        g ← g + weight_decay · p
        v ← α · v + (1 - α) · g²                      (mean of the squares)
        centered:  ḡ ← α · ḡ + (1 - α) · g,  d = √(v - ḡ²) + eps   (a variance)
        else:      d = √v + eps
        momentum:  b ← momentum · b + g / d,  p ← p - lr · b
        else:      p ← p - lr · g / d

    Raises ValueError for lr < 0, alpha outside [0, 1], eps, momentum or weight_decay < 0.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                centered=centered, maximize=maximize,
            ),
        )  # fmt: skip

    def _validate(self, settings: dict[str, Any]) -> None:
        super()._validate(settings)
        settings["alpha"] = _check_range(settings["alpha"], "alpha", 0.0, 1.0, high_open=False)
        settings["eps"] = _check_nonnegative(settings["eps"], "eps")
        settings["weight_decay"] = _check_nonnegative(settings["weight_decay"], "weight_decay")
        settings["momentum"] = _check_nonnegative(settings["momentum"], "momentum")

    def _update(self, p: Value, g: np.ndarray, group: dict, state: dict) -> None:
        alpha, eps, wd, momentum = (
            group["alpha"],
            group["eps"],
            group["weight_decay"],
            group["momentum"],
        )
        if wd:
            g = g + wd * p.data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros(p.shape, dtype=p.dtype)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1.0 - alpha) * (g * g)
        if group["centered"]:
            mean = state.setdefault("grad_avg", np.zeros(p.shape, dtype=p.dtype))
            mean *= alpha
            mean += (1.0 - alpha) * g
            denominator = np.sqrt(v - mean * mean) + eps
        else:
            denominator = np.sqrt(v) + eps
        if momentum > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros(p.shape, dtype=p.dtype))
            buffer *= momentum
            buffer += g / denominator
            _subtract(p, group["lr"] * buffer)
        else:
            _subtract(p, group["lr"] * (g / denominator))


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each coordinate's step is divided by the root of the
    sum of all its past squared gradients.  Per step t = 1, 2, ... (PyTorch's form)::

        g ← g + weight_decay · p
        s ← s + g²                           (s starts at initial_accumulator_value)
        p ← p - lr / (1 + (t - 1) · lr_decay) · g / (√s + eps)

    Raises ValueError for lr < 0 or lr_decay, weight_decay, initial_accumulator_value or
    eps below 0.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
            ),
        )  # fmt: skip

    def _validate(self, settings: dict[str, Any]) -> None:
        super()._validate(settings)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            settings[name] = _check_nonnegative(settings[name], name)

    def _update(self, p: Value, g: np.ndarray, group: dict, state: dict) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if not state:
            state["step"] = 0
            state["sum"] = np.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype)
        state["step"] += 1
        rate = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        _subtract(p, rate * (g / (np.sqrt(state["sum"]) + group["eps"])))


# ============================================================================ clipping


def _with_grads(params: Any) -> list[Value]:
    if isinstance(params, Value):
        return [params] if params.grad is not None else []
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    params = list(params)
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"expected Values, got {type(p).__name__}")
    return [p for p in params if p.grad is not None]


def grad_norm(params: Any, norm_type: float = 2.0) -> float:
    """The norm of all gradients together, as if concatenated into one vector:
    (Σ_p Σ_i |g_i|^q)^(1/q) for norm_type q, or max |g_i| for q = inf.  Parameters
    without a gradient are skipped (0.0 when none has one)."""
    q = _number(norm_type, "norm_type")
    if not q > 0:
        raise ValueError(f"norm_type must be positive (or inf), got {norm_type}")
    grads = [np.asarray(_grad_data(p), dtype=np.float64) for p in _with_grads(params)]
    if not grads:
        return 0.0
    if math.isinf(q):
        return float(max(np.max(np.abs(g)) if g.size else 0.0 for g in grads))
    if q == 2.0:
        return float(math.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    return float(sum(float(np.sum(np.abs(g) ** q)) for g in grads) ** (1.0 / q))


def clip_grad_norm(
    params: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Rescale the gradients so that their total norm is at most ``max_norm``; returns
    the total norm *before* clipping.

    If the norm exceeds max_norm, every gradient is multiplied by
    max_norm / (norm + 1e-6) (new arrays are assigned; the old ones are not modified).
    The direction of the update is kept, only its length is capped.  A NaN or infinite
    norm leaves the gradients unchanged (or raises RuntimeError with
    ``error_if_nonfinite=True``).
    """
    max_norm = _check_nonnegative(max_norm, "max_norm")
    with_grads = _with_grads(params)
    total = grad_norm(with_grads, norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(
                f"the total gradient norm is {total}; the loss or the gradients have "
                "overflowed (try a smaller learning rate, or minigrad.detect_anomaly())"
            )
        return total
    coefficient = clip_coefficient(max_norm, total)
    if coefficient < 1.0:
        for p in with_grads:
            g = p.grad
            if isinstance(g, Value):  # a gradient with a graph (create_graph=True)
                p.grad = g * coefficient
            else:
                p.grad = _like_param(p, _grad_data(p) * p.dtype.type(coefficient))
    return total


def clip_coefficient(max_norm: float, total_norm: float) -> float:
    """The factor ``clip_grad_norm`` multiplies the gradients by: max_norm / (norm + 1e-6)
    when that is below 1, else 1 (PyTorch's formula; the 1e-6 keeps a zero norm finite).
    ``fit(clip_grad_norm=...)`` uses this same function."""
    return min(1.0, max_norm / (total_norm + 1e-6))


def _like_param(p: Value, g: np.ndarray) -> Any:
    """A gradient in the form the engine gives it: a float for a scalar parameter."""
    return float(g) if type(p.data) is float else g


def clip_grad_value(params: Any, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] (new arrays)."""
    clip_value = _check_nonnegative(clip_value, "clip_value")
    for p in _with_grads(params):
        p.grad = _like_param(p, np.clip(_grad_data(p), -clip_value, clip_value))


# ============================================================================ schedules


class LRScheduler:
    """Base class of learning-rate schedules: call ``step()`` once per epoch, after the
    epoch's ``optimizer.step()`` calls.

    Epoch e (starting at 0) sets each group's lr to ``lr_at(base_lr, e)``, where base_lr
    is the group's lr when the schedule was created.  ``get_last_lr()`` returns the
    current rates, one per group.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs a minigrad optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = float(self.lr_at(base, self.last_epoch))

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rates."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = [float(x) for x in state["base_lrs"]]
        self._apply()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _positive(value: Any, what: str) -> float:
    value = _number(value, what)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{what} must be a positive finite number, got {value}")
    return value


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: divide by 1/gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int(step_size, "step_size")
        self.gamma = _positive(gamma, "gamma")
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _positive(gamma, "gamma")
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) · (1 + cos(π · epoch / T_max)) / 2.

    Falls from base_lr to eta_min over T_max epochs along half a cosine (and, like
    PyTorch's, climbs back after T_max if you keep stepping).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = _positive_int(T_max, "T_max")
        self.eta_min = _check_nonnegative(eta_min, "eta_min")
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch), for any schedule you can write as a function."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Any) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be a function of the epoch, got {lr_lambda!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        factor = _number(self.lr_lambda(epoch), "lr_lambda(epoch)")
        if not (factor >= 0 and math.isfinite(factor)):
            raise ValueError(
                f"lr_lambda({epoch}) = {factor}: the factor must be a finite number >= 0"
            )
        return base_lr * factor


class MultiStepLR(LRScheduler):
    """lr = base_lr · gamma^(number of milestones <= epoch): multiply by gamma at each
    milestone epoch (a milestone listed twice multiplies twice, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1) -> None:
        try:
            milestones = sorted(_positive_int(m, "a milestone") for m in milestones)
        except TypeError:
            raise TypeError(f"milestones must be a list of epochs, got {milestones!r}") from None
        self.milestones = milestones
        self.gamma = _positive(gamma, "gamma")
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class LinearLR(LRScheduler):
    """Linear warmup (or decay): lr = base_lr · f(epoch), where f goes in a straight line
    from ``start_factor`` at epoch 0 to ``end_factor`` at ``total_iters`` and stays there::

        f(e) = start_factor + (end_factor - start_factor) · min(e, total_iters) / total_iters

    PyTorch's defaults: start_factor = 1/3, end_factor = 1, total_iters = 5.
    start_factor must be in (0, 1] and end_factor in [0, 1], as in PyTorch (a warmup from
    exactly 0 is ``LambdaLR(opt, lambda e: min(1, e / n))``).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        start = _number(start_factor, "start_factor")
        if not 0 < start <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start}")
        self.start_factor = start
        self.end_factor = _check_range(end_factor, "end_factor", 0.0, 1.0, high_open=False)
        self.total_iters = _positive_int(total_iters, "total_iters")
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        share = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * share)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing that restarts at base_lr.

    The first cycle lasts T_0 epochs, each next one T_mult times longer.  With T_cur the
    epochs since the last restart and T_i the current cycle's length::

        lr = eta_min + (base_lr - eta_min) · (1 + cos(π · T_cur / T_i)) / 2
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803  (PyTorch's names)
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
    ) -> None:
        self.T_0 = _positive_int(T_0, "T_0")
        self.T_mult = _positive_int(T_mult, "T_mult")
        self.eta_min = _check_nonnegative(eta_min, "eta_min")
        super().__init__(optimizer)

    def position(self, epoch: int) -> tuple[int, int]:
        """(T_cur, T_i): epochs into the current cycle, and that cycle's length."""
        t_cur, t_i = epoch, self.T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= self.T_mult
        return t_cur, t_i

    def lr_at(self, base_lr: float, epoch: int) -> float:
        t_cur, t_i = self.position(epoch)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2019), stepped after every *batch*.

    The rate climbs from max_lr / div_factor to max_lr over the first ``pct_start`` of
    ``total_steps`` (= epochs · steps_per_epoch), then anneals to
    max_lr / (div_factor · final_div_factor); each phase follows half a cosine
    (``anneal_strategy="cos"``: end + (start - end) · (1 + cos(π · pct)) / 2) or a line.
    ``three_phase=True``: up, back down to the start, then to the minimum.  With
    ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's beta1) moves the other
    way, between max_momentum and base_momentum.  Stepping past ``total_steps`` raises.
    ``fit`` steps it after each batch (``per_batch = True``).
    """

    per_batch = True

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
            total_steps = _positive_int(epochs, "epochs") * _positive_int(
                steps_per_epoch, "steps_per_epoch"
            )
        self.total_steps = _positive_int(total_steps, "total_steps")
        pct_start = _number(pct_start, "pct_start")
        if not 0 < pct_start < 1:
            raise ValueError(f"pct_start must be in (0, 1), got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = _flag(cycle_momentum, "cycle_momentum")
        self.base_momentum = _check_range(base_momentum, "base_momentum", 0.0, 1.0)
        self.max_momentum = _check_range(max_momentum, "max_momentum", 0.0, 1.0)
        max_lr = _positive(max_lr, "max_lr")
        self.div_factor = _positive(div_factor, "div_factor")
        self.final_div_factor = _positive(final_div_factor, "final_div_factor")
        self.max_lr = max_lr
        if self.cycle_momentum and not all(
            "momentum" in g or "betas" in g for g in optimizer.param_groups
        ):
            raise ValueError("OneCycleLR: cycle_momentum=True needs an optimizer with momentum "
                             "or betas; pass cycle_momentum=False")  # fmt: skip
        up = pct_start * self.total_steps - 1
        end = self.total_steps - 1
        # (last step of the phase, lr factor at its start, at its end, momentum at its start,
        # at its end); factors multiply max_lr: 1 / div_factor is the starting rate.
        start, low = 1 / self.div_factor, 1 / (self.div_factor * self.final_div_factor)
        top, bottom = self.max_momentum, self.base_momentum
        if three_phase:
            self.phases = [
                (up, start, 1.0, top, bottom),
                (2 * pct_start * self.total_steps - 2, 1.0, start, bottom, top),
                (end, start, low, top, top),
            ]
        else:
            self.phases = [(up, start, 1.0, top, bottom), (end, 1.0, low, bottom, top)]
        for group in optimizer.param_groups:
            group["lr"] = max_lr  # base_lrs are max_lr: lr_at scales them down
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self, step: int) -> tuple[float, float]:
        """(lr factor, momentum) at ``step``."""
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR stepped {step} times, past total_steps={self.total_steps}"
            )
        first = 0.0
        for i, (last, lr_a, lr_b, m_a, m_b) in enumerate(self.phases):
            if step <= last or i == len(self.phases) - 1:
                pct = (step - first) / (last - first)
                return self._anneal(lr_a, lr_b, pct), self._anneal(m_a, m_b, pct)
            first = last
        raise AssertionError("unreachable")

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self._phase(epoch)[0]

    def _apply(self) -> None:
        super()._apply()
        if self.cycle_momentum:
            momentum = self._phase(self.last_epoch)[1]
            for group in self.optimizer.param_groups:
                if "betas" in group:
                    group["betas"] = (momentum, group["betas"][1])
                else:
                    group["momentum"] = momentum


class ReduceLROnPlateau:
    """Divide the rate by 1/factor when a metric has stopped improving: call
    ``step(metric)`` once per epoch with, say, the validation loss.

    The metric improves when it beats the best so far by the threshold (mode "min",
    threshold_mode "rel": metric < best · (1 - threshold); "abs": metric < best -
    threshold; "max" mirrors both).  After more than ``patience`` epochs without
    improvement every group's lr becomes max(lr · factor, min_lr) (changes smaller than
    ``eps`` are skipped), then ``cooldown`` epochs pass before counting again.  PyTorch's
    rules and defaults.  ``fit`` passes it the monitored quantity (``needs_metric``).
    """

    needs_metric = True

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau needs a minigrad optimizer, got {optimizer!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        factor = _number(factor, "factor")
        if not 0 <= factor < 1:
            raise ValueError(f"factor must be in [0, 1) (the rate is multiplied by it), "
                             f"got {factor}")  # fmt: skip
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ValueError(f"min_lr has {len(min_lrs)} entries for {groups} parameter groups")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = factor
        self.patience = _count(patience, "patience")
        self.threshold = _check_nonnegative(threshold, "threshold")
        self.cooldown = _count(cooldown, "cooldown")
        self.min_lrs = [_check_nonnegative(m, "min_lr") for m in min_lrs]
        self.eps = _check_nonnegative(eps, "eps")
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            limit = (
                best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else (best - self.threshold)
            )
            return value < limit
        limit = (
            best * (1 + self.threshold) if self.threshold_mode == "rel" else (best + self.threshold)
        )
        return value > limit

    def step(self, metric: float) -> None:
        """Record one epoch's metric; lower the rates after a plateau."""
        value = _number(metric, "ReduceLROnPlateau.step(metric)")
        self.last_epoch += 1
        if self.is_better(value, self.best):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, floor)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The counters and the best value (numbers only: fits ``nn.save``)."""
        return {
            "best": self.best, "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter, "last_epoch": self.last_epoch,
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.num_bad_epochs = int(state["num_bad_epochs"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.last_epoch = int(state["last_epoch"])

    def __repr__(self) -> str:
        return f"ReduceLROnPlateau(best={self.best:g}, bad epochs={self.num_bad_epochs}, " \
               f"lr={self.get_last_lr()})"  # fmt: skip


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)
