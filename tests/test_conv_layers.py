"""The image layers against PyTorch's modules (same state_dict, same outputs and
gradients), their initialisation, modes and errors; Module.summary with shapes."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value, nn

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _pair_of_models(ours, theirs):
    """Give PyTorch's module our parameters (through its own state_dict names)."""
    state = ours.state_dict()
    theirs_state = theirs.state_dict()
    assert set(state) == set(theirs_state), "state_dict names differ from PyTorch's"
    theirs.load_state_dict(
        {
            k: torch.tensor(v).to(theirs_state[k].dtype).reshape(theirs_state[k].shape)
            for k, v in state.items()
        }
    )
    return theirs


def _same_forward_and_backward(ours, theirs, x, tol=1e-10):
    xv, xt = Value(x), torch.tensor(x, requires_grad=True)
    out, expected = ours(xv), theirs(xt)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=tol, atol=tol)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * Value(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xv.grad, xt.grad.numpy(), rtol=tol, atol=tol)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, named[name].grad.numpy(), rtol=tol, atol=tol)


@needs_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda T: (
            nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, seed=0),
            T.Conv2d(4, 6, 3, stride=2, padding=1, groups=2).double(),
        ),
        lambda T: (
            nn.Conv2d(4, 3, (2, 3), dilation=(2, 1), bias=False, seed=0),
            T.Conv2d(4, 3, (2, 3), dilation=(2, 1), bias=False).double(),
        ),
        lambda T: (
            nn.Sequential(
                nn.Conv2d(4, 5, 3, padding=1, seed=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(5 * 3 * 3, 2, seed=2),
            ),
            T.Sequential(
                T.Conv2d(4, 5, 3, padding=1), T.ReLU(), T.MaxPool2d(2), T.Flatten(), T.Linear(45, 2)
            ).double(),
        ),
        lambda T: (
            nn.Sequential(
                nn.AvgPool2d(3, 2, 1, count_include_pad=False), nn.AdaptiveAvgPool2d((2, 1))
            ),
            T.Sequential(
                T.AvgPool2d(3, 2, 1, count_include_pad=False), T.AdaptiveAvgPool2d((2, 1))
            ),
        ),
    ],
    ids=["conv-grouped", "conv-dilated-nobias", "small-cnn", "pools"],
)
def test_layers_match_pytorch_modules(make):
    ours, theirs = make(torch.nn)
    theirs = _pair_of_models(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 7, 6))
    _same_forward_and_backward(ours, theirs, x)


@needs_torch
def test_conv1d_layer_matches_pytorch():
    ours = nn.Conv1d(3, 4, 3, stride=2, padding=1, seed=0)
    theirs = _pair_of_models(ours, torch.nn.Conv1d(3, 4, 3, stride=2, padding=1).double())
    _same_forward_and_backward(ours, theirs, np.random.default_rng(0).standard_normal((2, 3, 9)))


@needs_torch
def test_batchnorm2d_matches_pytorch_in_both_modes():
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3).double()
    ours.weight.data = np.array([1.5, 0.5, -1.0])
    ours.bias.data = np.array([0.1, -0.2, 0.3])
    theirs = _pair_of_models(ours, theirs)
    rng = np.random.default_rng(0)
    for _ in range(3):  # training steps move the running statistics
        x = rng.standard_normal((4, 3, 3, 2)) * 2 + 1
        ours.zero_grad()
        theirs.zero_grad()
        _same_forward_and_backward(ours, theirs, x, tol=1e-9)
    for name, tensor in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], tensor.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    _same_forward_and_backward(ours, theirs, rng.standard_normal((2, 3, 3, 2)), tol=1e-9)


def test_batchnorm2d_normalises_each_channel_in_training():
    x = np.random.default_rng(0).standard_normal((8, 2, 3, 3)) * [[[[3.0]], [[0.5]]]] + 4
    out = nn.BatchNorm2d(2)(x).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)


def test_batchnorm2d_second_derivative_exists():
    layer = nn.BatchNorm2d(2)
    x = Value(np.random.default_rng(0).standard_normal((3, 2, 2, 2)))
    (g,) = mg.grad((layer(x) ** 3).sum(), [x], create_graph=True)
    (h,) = mg.grad((g * g).sum(), [x])
    assert h.shape == x.shape and np.all(np.isfinite(h)) and np.any(h != 0)


def test_conv_initialisation_is_pytorchs_uniform_bound():
    layer = nn.Conv2d(8, 16, 3, seed=0)
    bound = 1 / np.sqrt(8 * 3 * 3)
    for p in (layer.weight.data, layer.bias.data):
        assert np.all(np.abs(p) <= bound) and np.abs(p).max() > 0.9 * bound
    assert np.std(layer.weight.data) == pytest.approx(bound / np.sqrt(3), rel=0.1)
    np.testing.assert_array_equal(nn.Conv2d(8, 16, 3, seed=0).weight.data, layer.weight.data)
    assert layer.weight.dtype == np.float64
    assert nn.Conv2d(1, 2, 3, seed=0, dtype=np.float32)(np.ones((1, 1, 3, 3))).dtype == np.float32


def test_dropout2d_drops_whole_channels_and_is_identity_in_eval():
    layer = nn.Dropout2d(0.5, seed=0)
    x = np.ones((20, 10, 3, 3))
    out = layer(x).data
    per_channel = out.reshape(20, 10, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)


def test_flatten_and_unflatten_are_inverse():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 5))(flat).data, x)
    with pytest.raises(ValueError, match="cannot be split"):
        nn.Unflatten(1, (7, 7))(flat)
    with pytest.raises(ValueError, match="after end_dim"):
        nn.Flatten(2, 1)(x)


def test_summary_shows_output_shapes_and_parameter_counts():
    model = nn.digits_cnn(seed=0)
    text = model.summary((5, 64))
    assert "(5, 8, 8, 8)" in text and "(5, 16, 2, 2)" in text and "(5, 10)" in text
    conv_row = next(line for line in text.splitlines() if line.startswith("4 "))
    assert conv_row.split()[-1] == str(16 * 8 * 9 + 16)
    assert "total: 1,898 parameters" in text
    assert model(np.zeros((1, 64))).shape == (1, 10)  # forward restored after the summary
    assert "forward" not in vars(model[1])


def test_layer_errors_name_the_problem():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        nn.Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="channels-last"):
        nn.Conv2d(3, 4, 3, seed=0)(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="64 input features"):
        nn.Linear(64, 10, seed=0)(np.zeros((2, 63)))


def test_state_dict_round_trip_of_the_digits_cnn(tmp_path):
    model = nn.digits_cnn(seed=0)
    path = tmp_path / "cnn.npz"
    model.save(path)
    other = nn.digits_cnn(seed=1).load(path)
    x = np.random.default_rng(0).standard_normal((3, 64))
    np.testing.assert_array_equal(model(x).data, other(x).data)
    assert list(model.state_dict()) == [
        "1.weight", "1.bias", "4.weight", "4.bias", "8.weight", "8.bias"
    ]  # fmt: skip


def test_the_cnn_graph_is_drawn_with_a_cluster_per_module_and_state_dict_names():
    from minigrad.nn import functional as F

    model = nn.digits_cnn(seed=0)
    loss = F.cross_entropy(model(np.zeros((2, 64))), np.array([0, 1]))
    source = mg.to_dot(loss, model=model, show_data=False, show_grad=False)
    for name in ("1.weight", "1.bias", "4.weight", "8.weight"):
        assert f'label="{name} |' in source
    assert source.count("subgraph cluster_m") == 3  # the two convolutions and the linear
    assert '"conv2d"' in source and '"max_pool2d"' in source
