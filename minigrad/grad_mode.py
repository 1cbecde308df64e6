"""Grad mode: whether operations record the graph, per thread.

``no_grad()`` and ``enable_grad()`` switch recording off and on for a block; anomaly mode
(``minigrad.detect_anomaly``) and the complex-step switch of gradcheck live here too.  The
switches are thread-local: one thread's ``no_grad`` never changes what another records.
Every operation reads ``state.recording`` once, so this module is as small and as cheap as
it can be, and it imports nothing from the engine.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

#: The values of ``state.recording``.
OFF, RECORD, ANOMALY = 0, 1, 2


class _ThreadState(threading.local):
    """Per-thread switches: one thread's ``no_grad`` never changes another thread's graph.

    ``grad_enabled`` and ``anomaly`` are the switches the context managers set.  Every
    operation needs both, so they are also kept combined in ``recording`` (OFF: record no
    graph; RECORD; ANOMALY: record and check every result): one thread-local read per node
    instead of two.
    """

    recording = RECORD
    _grad_enabled = True
    _anomaly = False
    #: gradcheck's complex-step lets custom Functions return complex data (see complex_data).
    complex_data = False

    @property
    def grad_enabled(self) -> bool:
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, enabled: bool) -> None:
        self._grad_enabled = enabled
        self._combine()

    @property
    def anomaly(self) -> bool:
        return self._anomaly

    @anomaly.setter
    def anomaly(self, enabled: bool) -> None:
        self._anomaly = enabled
        self._combine()

    def _combine(self) -> None:
        if not self._grad_enabled:
            self.recording = OFF
        else:
            self.recording = ANOMALY if self._anomaly else RECORD


state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default), False inside ``no_grad``."""
    return state.grad_enabled


@contextmanager
def no_grad():
    """Operations inside this block record no graph: results have ``requires_grad=False``.

    Use it for parameter updates and evaluation.  The switch is thread-local.
    """
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def complex_data():
    """Inside this block a custom Function may return complex data (for complex-step
    differentiation, see ``minigrad.gradcheck``); one that turns complex inputs into real
    output raises, because it dropped the imaginary part that carries the derivative."""
    previous = state.complex_data
    state.complex_data = True
    try:
        yield
    finally:
        state.complex_data = previous


@contextmanager
def enable_grad():
    """Record the graph inside this block even within an enclosing ``no_grad``."""
    previous = state.grad_enabled
    state.grad_enabled = True
    try:
        yield
    finally:
        state.grad_enabled = previous
