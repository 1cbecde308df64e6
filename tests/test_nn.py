"""nn: parameter discovery and dotted names, modes, repr, Neuron/Layer/MLP against numpy
and torch, Layer.neuron(i) views, Dropout statistics, initialisers and seeds, float32."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value, nn
from minigrad.nn import functional as F
from minigrad.nn import init


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = Value(2.0)
        self.frozen = Value(np.ones(3), requires_grad=False)
        self.inner = nn.Layer(3, 2, seed=0)
        self.heads = [nn.Layer(2, 1, seed=1), nn.Layer(2, 1, seed=2)]
        self.table = {"a": Value(np.zeros(2)), "b": [Value(1.0)]}
        self.count = 3
        self._private = Value(5.0)

    def forward(self, x):
        return self.inner(x) * self.scale


# ============================================================================ discovery


def test_parameters_are_discovered_in_assignment_order_with_dotted_names():
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == [
        "scale",
        "inner.W",
        "inner.b",
        "heads.0.W",
        "heads.0.b",
        "heads.1.W",
        "heads.1.b",
        "table.a",
        "table.b.0",
    ]
    assert block.parameters()[1] is block.inner.W
    assert block.num_parameters() == 1 + 6 + 2 + 2 * (2 + 1) + 2 + 1


def test_named_modules_children_and_modules():
    block = Block()
    assert [n for n, _ in block.named_modules()] == ["", "inner", "heads.0", "heads.1"]
    assert block.named_modules()[0][1] is block
    assert block.children() == [block.inner, block.heads[0], block.heads[1]]
    assert block.modules()[2] is block.heads[0]


def test_shared_parameter_and_module_are_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Layer(2, 2, seed=0)
            self.b = self.a
            self.extra = [self.a.W]

    tied = Tied()
    assert [n for n, _ in tied.named_parameters()] == ["a.W", "a.b"]
    assert [n for n, _ in tied.named_modules()] == ["", "a"]


def test_non_leaf_and_private_values_are_not_parameters():
    class Cache(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = Value(1.0)
            self.last = self.w * 2  # an intermediate result, not a parameter
            self._hidden = Value(3.0)

    assert [n for n, _ in Cache().named_parameters()] == ["w"]


def test_mlp_names_and_layer_sizes():
    mlp = nn.MLP(3, [4, 5, 2], seed=0)
    assert [n for n, _ in mlp.named_parameters()] == [
        f"layers.{i}.{p}" for i in range(3) for p in ("W", "b")
    ]
    assert [layer.W.shape for layer in mlp.layers] == [(3, 4), (4, 5), (5, 2)]
    assert mlp.num_parameters() == 3 * 4 + 4 + 4 * 5 + 5 + 5 * 2 + 2
    assert mlp.layers[0].W.name == "layers.0.W"  # graphs show the dotted name
    assert [layer.activation for layer in mlp.layers] == ["relu", "relu", None]


def test_zero_grad_resets_every_parameter():
    mlp = nn.MLP(2, [3, 1], seed=0)
    F.mse_loss(mlp(np.ones((4, 2))), np.zeros((4, 1))).backward()
    assert all(p.grad is not None for p in mlp.parameters())
    mlp.zero_grad()
    assert all(p.grad is None for p in mlp.parameters())


# ============================================================================ modes and repr


def test_train_and_eval_propagate_to_every_submodule():
    mlp = nn.MLP(2, [3, 3, 1], dropout=0.5, seed=0)
    assert all(m.training for m in mlp.modules())
    assert mlp.eval() is mlp
    assert not any(m.training for m in mlp.modules())
    mlp.train()
    assert all(m.training for m in mlp.modules())
    mlp.train(False)
    assert not mlp.dropouts[1].training
    with pytest.raises(TypeError, match="expects a bool"):
        mlp.train("no")


def test_repr_is_a_readable_tree():
    mlp = nn.MLP(2, [16, 1], dropout=0.1, seed=0)
    assert repr(mlp) == (
        "MLP(2 -> 16 -> 1, activation=relu, dropout=0.1\n"
        "  (layers.0): Layer(2 -> 16, activation=relu)\n"
        "  (dropouts.0): Dropout(p=0.1)\n"
        "  (layers.1): Layer(16 -> 1, activation=None)\n"
        ")"
    )
    seq = nn.Sequential(nn.Layer(2, 3), nn.Tanh())
    assert repr(seq) == ("Sequential(\n  (0): Layer(2 -> 3, activation=None)\n  (1): Tanh()\n)")


def test_summary_lists_parameters_and_total():
    text = nn.MLP(2, [3, 1], seed=0).summary()
    assert "layers.0.W" in text and "(2, 3)" in text and "total: 13 parameters" in text


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1.0)


# ============================================================================ Neuron and Layer


def test_neuron_single_example_and_batch_match_numpy():
    neuron = nn.Neuron(3, activation="tanh", seed=0)
    neuron.b.data = 0.25
    x = np.array([0.5, -1.0, 2.0])
    out = neuron(x)
    assert out.shape == ()
    assert math.isclose(out.item(), math.tanh(x @ neuron.w.data + 0.25), rel_tol=1e-12)
    batch = np.stack([x, -x])
    assert np.allclose(neuron(batch).data, np.tanh(batch @ neuron.w.data + 0.25))
    out.backward()
    assert np.allclose(neuron.w_grad, (1 - out.item() ** 2) * x)
    assert math.isclose(neuron.b_grad, 1 - out.item() ** 2)


def test_neuron_accepts_a_list_of_values_like_micrograd():
    neuron = nn.Neuron(2, activation=None, seed=3)
    x = [Value(1.0), Value(-2.0)]
    out = neuron(x)
    out.backward()
    assert np.allclose([x[0].grad, x[1].grad], neuron.w.data)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_layer_is_one_affine_node_matching_numpy(activation):
    layer = nn.Layer(3, 4, activation=activation, seed=0)
    layer.b.data[:] = [0.1, -0.2, 0.3, 0.0]
    x = np.random.default_rng(1).normal(size=(5, 3))
    z = x @ layer.W.data + layer.b.data
    expected = {
        "relu": np.maximum(z, 0),
        "tanh": np.tanh(z),
        "sigmoid": 1 / (1 + np.exp(-z)),
        None: z,
    }[activation]
    out = layer(x)
    assert np.allclose(out.data, expected)
    assert layer(x[0]).shape == (4,)
    ops = [n.op for n in mg.autograd.topological_order(out)]
    assert ops.count("affine") == 1 and "matmul" not in ops and "add" not in ops
    unbiased = nn.Layer(3, 4, activation=activation, bias=False, seed=0)
    assert [n.op for n in mg.autograd.topological_order(unbiased(x))].count("matmul") == 1


def test_layer_neuron_view_is_consistent_with_the_matrix():
    layer = nn.Layer(3, 4, activation="tanh", seed=0)
    x = np.random.default_rng(2).normal(size=(6, 3))
    loss = (layer(x) ** 2).sum()
    loss.backward()
    for i in range(4):
        view = layer.neuron(i)
        assert view == layer.neurons[i]
        assert np.array_equal(view.w, layer.W.data[:, i])
        assert view.b == layer.b.data[i]
        assert np.array_equal(view.w_grad, layer.W.grad[:, i])
        assert view.b_grad == layer.b.grad[i]
        assert np.allclose(view(x).data, layer(x).data[:, i])
    assert layer.neuron(-1) == layer.neuron(3)
    # Views are not parameters: the layer still has exactly W and b.
    assert [n for n, _ in layer.named_parameters()] == ["W", "b"]
    assert "Neuron 2 of Layer(3 -> 4)" in repr(layer.neuron(2))


def test_neuron_view_follows_training_and_is_read_only():
    layer = nn.Layer(2, 2, seed=0)
    view = layer.neuron(1)
    w = view.w
    layer.W.data[:, 1] += 1.0  # an in-place update, as optimizers do
    assert np.array_equal(w, layer.W.data[:, 1])
    with pytest.raises(ValueError, match="read-only"):
        view.w[0] = 5.0
    assert view.w_grad is None and view.b_grad is None


def test_neuron_view_call_backpropagates_into_the_layer():
    layer = nn.Layer(2, 3, activation="relu", seed=0)
    layer.neuron(1)(np.array([1.0, 2.0])).backward()
    assert np.count_nonzero(layer.W.grad[:, [0, 2]]) == 0


def test_layer_neuron_index_errors():
    layer = nn.Layer(2, 3, seed=0)
    with pytest.raises(IndexError, match="neuron 3 out of range: this layer has 3 neurons"):
        layer.neuron(3)
    with pytest.raises(TypeError, match="must be an int"):
        layer.neuron(1.0)


def test_input_shape_errors_name_the_expected_features():
    layer = nn.Layer(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"expects 3 input features.*got shape \(4, 2\)"):
        layer(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Neuron expects 2 input features"):
        nn.Neuron(2, seed=0)(np.zeros(3))


def test_constructor_errors():
    with pytest.raises(ValueError, match="nin must be a positive integer, got 0"):
        nn.Layer(0, 2)
    with pytest.raises(ValueError, match="unknown activation 'swoosh'"):
        nn.Layer(2, 2, activation="swoosh")
    with pytest.raises(ValueError, match="unknown initialiser 'glorious'"):
        nn.Layer(2, 2, init="glorious")
    with pytest.raises(ValueError, match="either seed or rng, not both"):
        nn.Layer(2, 2, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(TypeError, match="int seed or a numpy.random.Generator"):
        nn.Layer(2, 2, seed=np.random.RandomState(0))
    with pytest.raises(ValueError, match="at least one layer size"):
        nn.MLP(2, [])
    with pytest.raises(TypeError, match="dtype must be numpy.float32 or numpy.float64"):
        nn.MLP(2, [1], dtype=np.int32)
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0, 1\), got 1.0"):
        nn.MLP(2, [3, 1], dropout=1.0)


def test_layer_without_bias_and_custom_init():
    layer = nn.Layer(2, 3, bias=False, init=lambda shape, rng, dtype: np.full(shape, 0.5))
    assert [n for n, _ in layer.named_parameters()] == ["W"]
    assert np.allclose(layer(np.ones(2)).data, 1.0)
    assert layer.neuron(0).b == 0.0


# ============================================================================ MLP vs torch


def test_mlp_forward_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    mlp = nn.MLP(3, [5, 4, 2], activation="tanh", seed=7)
    for layer in mlp.layers:
        layer.b.data[:] = np.random.default_rng(0).normal(size=layer.nout)
    x = np.random.default_rng(1).normal(size=(6, 3))
    t = np.array([0, 1, 1, 0, 1, 0])
    loss = F.cross_entropy(mlp(x), t)
    loss.backward()

    tlayers = [torch.tensor(p.data, requires_grad=True) for p in mlp.parameters()]
    h = torch.tensor(x)
    for i in range(3):
        h = h @ tlayers[2 * i] + tlayers[2 * i + 1]
        h = torch.tanh(h) if i < 2 else h
    tloss = torch.nn.functional.cross_entropy(h, torch.tensor(t))
    tloss.backward()
    assert math.isclose(loss.item(), tloss.item(), rel_tol=1e-12)
    for p, tp in zip(mlp.parameters(), tlayers):
        assert np.allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mlp_dropout_only_between_hidden_layers():
    mlp = nn.MLP(2, [8, 8, 1], dropout=0.5, seed=0)
    assert len(mlp.dropouts) == 2
    assert len(nn.MLP(2, [8, 1], seed=0).dropouts) == 0
    ops = [n.op for n in mg.autograd.topological_order(mlp(np.ones((3, 2))))]
    assert ops.count("mul") == 2  # one mask per hidden layer, none after the output


def test_mlp_weights_do_not_depend_on_dropout():
    a = nn.MLP(2, [8, 8, 1], seed=5)
    b = nn.MLP(2, [8, 8, 1], dropout=0.3, seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)
    b.eval()
    x = np.random.default_rng(0).normal(size=(4, 2))
    assert np.array_equal(a(x).data, b(x).data)


# ============================================================================ Dropout


def test_dropout_keep_rate_and_inverted_scaling():
    p = 0.3
    drop = nn.Dropout(p, seed=0)
    x = Value(np.ones((200, 500)))
    out = drop(x).data
    kept = out != 0
    n = out.size
    # Binomial(n, 0.7): the kept fraction is within 5 standard deviations of 0.7.
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    assert np.allclose(out[kept], 1 / (1 - p))
    assert abs(out.mean() - 1.0) < 5 * math.sqrt(p / (1 - p) / n)  # expectation preserved


def test_dropout_gradient_uses_the_same_mask():
    drop = nn.Dropout(0.5, seed=1)
    x = Value(np.arange(1.0, 11.0))
    out = drop(x)
    out.sum().backward()
    assert np.array_equal(x.grad, out.data / x.data)


def test_dropout_is_identity_in_eval_mode_and_masks_are_reproducible():
    x = Value(np.ones(1000))
    drop = nn.Dropout(0.5, seed=3)
    first, second = drop(x).data, drop(x).data
    assert not np.array_equal(first, second)  # a new mask each call
    again = nn.Dropout(0.5, seed=3)
    assert np.array_equal(again(x).data, first) and np.array_equal(again(x).data, second)
    drop.eval()
    assert drop(x) is x


def test_dropout_rejects_bad_probabilities():
    for p in (1.0, -0.01, 2):
        with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
            nn.Dropout(p)


def test_dropout_in_float32_keeps_float32():
    x = Value(np.ones((4, 4), dtype=np.float32))
    assert nn.Dropout(0.25, seed=0)(x).dtype == np.float32


# ======================================================================= activations, Sequential


def test_activation_modules_and_sequential():
    x = np.array([-1.0, 0.0, 2.0])
    assert np.allclose(nn.ReLU()(x).data, [0, 0, 2])
    assert np.allclose(nn.Tanh()(x).data, np.tanh(x))
    assert np.allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)))
    assert nn.Identity()(x) is x
    assert np.allclose(nn.Softmax()(x).data.sum(), 1.0)
    seq = nn.Sequential(nn.Layer(3, 4, seed=0), nn.ReLU(), nn.Layer(4, 2, seed=1))
    assert len(seq) == 3 and seq[2] is list(seq)[2] and seq[-1] is seq[2]
    assert [n for n, _ in seq.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    expected = np.maximum(x @ seq[0].W.data, 0) @ seq[2].W.data
    assert np.allclose(seq(x).data, expected)
    with pytest.raises(IndexError, match="out of range for 3 items"):
        seq[3]
    with pytest.raises(TypeError, match="Sequential item 0 is a int"):
        nn.Sequential(3)


# ============================================================================ init and seeds


def test_same_seed_same_model_different_seed_different_model():
    a, b, c = (nn.MLP(4, [8, 3], seed=s) for s in (11, 11, 12))
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)
    assert not np.array_equal(a.layers[0].W.data, c.layers[0].W.data)
    gen1, gen2 = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(nn.Layer(3, 3, rng=gen1).W.data, nn.Layer(3, 3, rng=gen2).W.data)


def test_model_construction_does_not_touch_numpy_global_state():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    nn.MLP(3, [4, 1], seed=1)
    nn.Dropout(0.5, seed=2)(Value(np.ones(10)))
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    "fn, bound, std",
    [
        (init.xavier_uniform, math.sqrt(6 / (300 + 200)), math.sqrt(2 / (300 + 200))),
        (init.he_uniform, math.sqrt(6 / 300), math.sqrt(2 / 300)),
        (init.xavier_normal, None, math.sqrt(2 / (300 + 200))),
        (init.he_normal, None, math.sqrt(2 / 300)),
        (init.uniform, 1.0, math.sqrt(1 / 3)),
        (init.normal, None, 1.0),
    ],
)
def test_initialisers_follow_their_formulas(fn, bound, std):
    w = fn((300, 200), rng=0)
    assert w.shape == (300, 200) and w.dtype == np.float64
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - std) < 0.01 * std
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
    assert np.array_equal(w, fn((300, 200), rng=0))
    assert fn((3, 2), rng=0, dtype=np.float32).dtype == np.float32


def test_init_names_aliases_and_fans():
    assert init.get("glorot") is init.xavier_uniform and init.get("kaiming") is init.he_uniform
    assert init.fans((5,)) == (5, 1) and init.fans((4, 7)) == (4, 7)
    assert np.array_equal(init.zeros((2, 2)), np.zeros((2, 2)))
    assert nn.Layer(2, 2, activation="relu").init == "he_uniform"
    assert nn.Layer(2, 2, activation="tanh").init == "xavier_uniform"
    with pytest.raises(ValueError, match="low < high"):
        init.uniform((2,), 1.0, 0.0, rng=0)
    with pytest.raises(ValueError, match="non-negative integer"):
        init.make_rng(-1)


# ============================================================================ float32


def test_float32_mlp_forward_and_backward_stay_float32():
    mlp = nn.MLP(784, [256, 128, 10], dtype=np.float32, dropout=0.1, seed=0)
    x = np.random.default_rng(0).normal(size=(16, 784))  # float64 data is converted
    loss = F.cross_entropy(mlp(x), np.arange(16) % 10)
    loss.backward()
    assert loss.dtype == np.float32
    for node in mg.autograd.topological_order(loss):
        assert node.dtype == np.float32, node.op
        assert node.grad.dtype == np.float32, node.op
    assert all(p.grad.dtype == np.float32 for p in mlp.parameters())
