"""Neural-network building blocks on top of the engine.

* ``Module`` (parameter discovery, train/eval, checkpoints) and ``Sequential``;
* ``Neuron``, ``Layer`` (one matmul; ``layer.neuron(i)`` to inspect a unit), ``MLP``,
  ``Dropout``, ``LayerNorm``, ``BatchNorm1d``, ``Embedding`` and the activation modules;
* loss modules (``CrossEntropyLoss``, ``BCEWithLogitsLoss``, ``HuberLoss``...), each
  calling its ``nn.functional`` loss with the settings it was made with;
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
from minigrad.nn.conv_layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout2d,
    Flatten,
    Linear,
    MaxPool2d,
    Unflatten,
)
from minigrad.nn.layers import (
    ELU,
    GELU,
    MLP,
    SELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    LogSigmoid,
    Mish,
    Neuron,
    NeuronView,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from minigrad.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    SmoothL1Loss,
)
from minigrad.nn.models import DIGITS_CNN_RECIPE, digits_cnn
from minigrad.nn.module import Module, Sequential

# Spelled out, as in minigrad/__init__.py: the submodules list the same names, but this is
# the one list that holds them all.
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
    "LayerNorm",
    "BatchNorm1d",
    "Embedding",
    "MSELoss",
    "L1Loss",
    "CrossEntropyLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "HuberLoss",
    "SmoothL1Loss",
    "KLDivLoss",
    "CosineSimilarity",
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
    "CheckpointError",
    "save",
    "load",
    "save_checkpoint",
    "load_checkpoint",
    "functional",
    "init",
    "Conv2d",
    "Conv1d",
    "Linear",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Unflatten",
    "BatchNorm2d",
    "Dropout2d",
    "digits_cnn",
    "DIGITS_CNN_RECIPE",
]
