"""Anomaly mode: stop at the first NaN or infinity, and say where it came from.

    with minigrad.detect_anomaly():
        loss = model(x).log().sum()   # raises here if log met a zero
        loss.backward()               # or here, at the first non-finite gradient

Off by default: it records the user's file and line for every node and checks every
result, which costs time.  The switch is thread-local.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any

import numpy as np

from minigrad.grad_mode import state
from minigrad.value import data_of

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A non-finite value appeared in the forward or backward pass under detect_anomaly()."""


@contextmanager
def detect_anomaly():
    """Raise ``AnomalyError`` at the first non-finite value produced inside this block."""
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous


def is_anomaly_enabled() -> bool:
    return state.anomaly


def user_site() -> str:
    """'file:line' of the innermost frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def check_forward(node: Any) -> None:
    """Record where ``node`` was created and raise if its data is not finite."""
    site = user_site()
    node.__dict__["created_at"] = site
    if not _all_finite(node.data):
        raise AnomalyError(
            f"forward: {_describe(node)} produced {_what(node.data)}\n"
            f"  inputs: {_inputs(node)}\n"
            f"  created at {site}"
        )


def check_backward(node: Any, incoming: Any, grads: tuple) -> None:
    """Raise if the backward rule of ``node`` produced a non-finite gradient."""
    for index, g in enumerate(grads):
        if g is None:
            continue
        data = data_of(g)
        if not _all_finite(data):
            site = node.__dict__.get("created_at", "<not recorded: created outside detect_anomaly>")
            raise AnomalyError(
                f"backward: {_describe(node)} sent {_what(data)} to its input {index} "
                f"(incoming gradient {_range(data_of(incoming))})"
                f"\n  inputs: {_inputs(node)}\n  created at {site}"
            )




def _all_finite(data: Any) -> bool:
    if type(data) is float:
        return data - data == 0.0  # false exactly for inf and nan
    return bool(np.all(np.isfinite(data)))


def _what(data: Any) -> str:
    data = np.asarray(data)
    parts = []
    n_nan = int(np.isnan(data).sum())
    n_inf = int(np.isinf(data).sum())
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} inf")
    total = data.size
    return " and ".join(parts) + (f" (of {total} elements)" if total > 1 else "")


def _describe(node: Any) -> str:
    name = f" '{node.name}'" if node.name else ""
    return f"operation '{node.op}' (node{name}, shape {node.shape})"


def _range(data: Any) -> str:
    data = np.asarray(data, dtype=np.float64)
    if data.size == 1:
        return f"{float(data.reshape(-1)[0]):.6g}"
    return f"shape {data.shape}, range [{np.nanmin(data):.4g}, {np.nanmax(data):.4g}]"


def _inputs(node: Any) -> str:
    return (
        "; ".join(
            f"{i}: {p.name or 'unnamed'} {_range(p.data)}" for i, p in enumerate(node._parents)
        )
        or "none"
    )
