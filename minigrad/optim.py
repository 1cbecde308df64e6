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
    "clip_grad_norm",
    "clip_grad_value",
    "clip_coefficient",
    "grad_norm",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
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
        """Update every parameter that has a gradient, in place, under ``no_grad``."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    g = _grad_data(p)
                    if g is not None:
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
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                nesterov=nesterov,
                weight_decay=weight_decay,
            ),
        )

    def _validate(self, settings: dict[str, Any]) -> None:
        super()._validate(settings)
        settings["momentum"] = _check_range(settings["momentum"], "momentum", 0.0, 1.0)
        settings["dampening"] = _check_range(settings["dampening"], "dampening", 0.0, 1.0)
        settings["weight_decay"] = _check_nonnegative(settings["weight_decay"], "weight_decay")
        settings["nesterov"] = bool(settings["nesterov"])
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
        m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)      (bias corrections)
        p ← p - lr · m̂ / (√v̂ + eps)

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
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

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
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


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
