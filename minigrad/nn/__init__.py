"""Neural-network building blocks on top of the engine.

* ``Module`` (parameter discovery, train/eval, checkpoints) and ``Sequential``;
* ``Neuron``, ``Layer`` (one matmul; ``layer.neuron(i)`` to inspect a unit), ``MLP``,
  ``Dropout`` and the activation modules;
* ``nn.functional``: losses (``mse_loss``, ``l1_loss``, ``binary_cross_entropy_with_logits``,
  ``cross_entropy``, ``nll_loss``, ``hinge_loss``), ``softmax``, ``log_softmax``,
  ``logsumexp``, ``dropout``;
* ``nn.init``: initialisers taking an explicit seed or ``numpy.random.Generator``;
* checkpoints: ``Module.save``/``Module.load`` (atomic ``.npz``, never unpickled), and
  ``nn.save``/``nn.load`` for plain and nested state dicts (optimizers, schedules), and
  ``nn.save_checkpoint``/``nn.load_checkpoint`` for model + optimizer + schedule + epoch
  + random-generator state in one file.
"""

from minigrad.nn import functional, init
from minigrad.nn.checkpoint import CheckpointError
from minigrad.nn.checkpoint import load as load
from minigrad.nn.checkpoint import load_checkpoint as load_checkpoint
from minigrad.nn.checkpoint import save as save
from minigrad.nn.checkpoint import save_checkpoint as save_checkpoint
from minigrad.nn.layers import (
    MLP,
    Dropout,
    Identity,
    Layer,
    Neuron,
    NeuronView,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from minigrad.nn.module import Module, Sequential

__all__ = [
    "Module",
    "Sequential",
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
    "CheckpointError",
    "save",
    "load",
    "save_checkpoint",
    "load_checkpoint",
    "functional",
    "init",
]
