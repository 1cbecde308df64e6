"""The library side of the command: the named data sets (``data.load_dataset``), the
training recipes (``recipes.train_recipe``) and the decision-boundary picture
(``plots.plot_decision_boundary``), called directly rather than through ``minigrad``."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import Value, data, recipes
from minigrad.plots import plot_decision_boundary
from minigrad.recipes import RecipeResult, train_recipe
from minigrad.train import evaluate

# ----------------------------------------------------------------------------- data sets


def test_every_named_data_set_loads_with_its_task():
    assert set(data.DATASETS) == set(recipes.RECIPES)
    for name in data.DATASETS:
        X, y, classification = data.load_dataset(name, seed=0)
        assert X.ndim == 2 and len(X) == len(y) > 0
        assert classification == (name != "linear")
        if classification:
            assert np.issubdtype(y.dtype, np.integer) and y.min() == 0


def test_load_dataset_draws_the_recipe_data_with_the_seed():
    X, y, _ = data.load_dataset("moons", seed=3)
    expected_X, expected_y = data.moons(300, noise=0.2, seed=3)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)
    assert not np.array_equal(X, data.load_dataset("moons", seed=4)[0])
    X, y, _ = data.load_dataset("spirals", seed=0)
    assert X.shape == (300, 2) and set(np.unique(y)) == {0, 1, 2}


def test_load_dataset_refuses_an_unknown_name_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown data set 'mnist'; choose one of linear, moons"):
        data.load_dataset("mnist")


# ----------------------------------------------------------------------------- recipes


def test_train_recipe_trains_and_reports_what_it_measured():
    run = train_recipe("moons", seed=0, epochs=60, verbose=False)
    assert isinstance(run, RecipeResult)
    assert (run.task, run.loss, run.metrics) == ("classification", "cross_entropy", ["accuracy"])
    assert (run.optimizer, run.lr) == ("adam", 0.02)
    assert run.description == "MLP(2 -> 16 -> 16 -> 2), relu"
    # 300 points: a quarter for the test, a fifth of the rest for validation
    assert (len(run.X_train), len(run.X_test)) == (180, 75)
    assert run.history.n_val == 45
    assert run.test == evaluate(run.model, run.X_test, run.y_test, loss="cross_entropy",
                                metrics=["accuracy"])  # fmt: skip
    assert run.test["accuracy"] > 0.85
    assert set(run.validation) == {"loss", "accuracy"}


def test_train_recipe_is_reproducible_and_its_arguments_replace_the_defaults():
    first = train_recipe("xor", seed=1, epochs=5, verbose=False)
    again = train_recipe("xor", seed=1, epochs=5, verbose=False)
    assert first.history.loss == again.history.loss
    other = train_recipe("xor", seed=1, epochs=5, hidden=[4], optimizer="sgd", lr=0.1,
                         val_split=0, verbose=False)  # fmt: skip
    assert other.description == "MLP(2 -> 4 -> 2), relu"
    assert (other.optimizer, other.lr, other.validation) == ("sgd", 0.1, {})
    assert other.history.epochs_run == 5


def test_train_recipe_on_the_apartments_is_regression():
    run = train_recipe("linear", seed=0, epochs=3, verbose=False)
    assert (run.task, run.loss, run.metrics) == ("regression", "mse", ["rmse"])
    assert run.description == "MLP(1 -> 1) (linear)"
    assert run.scaler is None


def test_train_recipe_refuses_what_it_cannot_build():
    with pytest.raises(ValueError, match="only 'digits' has them"):
        train_recipe("moons", model_kind="cnn", verbose=False)
    with pytest.raises(ValueError, match="model_kind must be 'mlp' or 'cnn'"):
        train_recipe("moons", model_kind="rnn", verbose=False)
    with pytest.raises(ValueError, match="unknown data set"):
        train_recipe("iris", verbose=False)


def test_the_recipe_helpers():
    assert recipes.output_size(np.array([0, 2, 1]), True) == 3
    assert recipes.output_size(np.array([0.5, 2.0]), False) == 1
    assert recipes.loss_and_metrics(True) == ("cross_entropy", ["accuracy"])
    assert recipes.loss_and_metrics(False) == ("mse", ["rmse"])
    described = recipes.describe_mlp(64, [32, 10], "tanh", 0.5)
    assert described == "MLP(64 -> 32 -> 10), tanh, dropout 0.5"


# ----------------------------------------------------------------------------- the picture


def right_half_is_class_1(x: Value) -> Value:
    """Logits (-x0, x0): class 1 exactly where the first feature is positive."""
    return x @ Value(np.array([[-1.0, 1.0], [0.0, 0.0]]), requires_grad=False)


def colour_at(figure, ax, point):
    """The RGB colour drawn at a point given in data coordinates."""
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())
    x, y = ax.transData.transform(point)
    return pixels[pixels.shape[0] - int(round(y)), int(round(x)), :3].astype(int)


def test_plot_decision_boundary_colours_the_regions_the_model_predicts(tmp_path):
    X_train = np.array([[-2.0, -2.0], [2.0, 2.0]])
    y_train = np.array([0, 1])
    path = tmp_path / "boundary.png"
    figure = plot_decision_boundary(right_half_is_class_1, X_train, y_train, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = figure.axes[0]
    left_top, left_bottom = colour_at(figure, ax, (-1.5, 1.5)), colour_at(figure, ax, (-1.5, -1))
    right_bottom = colour_at(figure, ax, (1.5, -1.5))
    assert np.abs(left_top - left_bottom).max() <= 2  # one region, one colour
    assert np.abs(left_top - right_bottom).max() > 40  # the other side of the boundary


def test_plot_decision_boundary_draws_into_a_given_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    X, y = np.array([[-1.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    X_test, y_test = np.array([[0.5, 0.5]]), np.array([1])
    returned = plot_decision_boundary(right_half_is_class_1, X, y, X_test, y_test, ax=right,
                                      title="panel", resolution=20)  # fmt: skip
    assert returned is figure
    assert right.get_title() == "panel" and not left.has_data()
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["train", "test"]
    with pytest.raises(ValueError, match="give path or ax, not both"):
        plot_decision_boundary(right_half_is_class_1, X, y, ax=left, path="unused.png")
    with pytest.raises(ValueError, match="needs points with 2 features"):
        plot_decision_boundary(right_half_is_class_1, np.zeros((3, 3)), np.zeros(3), ax=left)


def test_classic_neuron_has_the_lecture_numbers():
    from minigrad.recipes import classic_neuron

    o = classic_neuron()
    assert o.data == pytest.approx(2**-0.5)
    n = o.parents[0]
    assert n.grad == pytest.approx(1 - o.data**2) == pytest.approx(0.5)
    x1w1 = n.parents[0].parents[0]  # (x1*w1 + x2*w2) + b
    x1, w1 = x1w1.parents
    assert (x1.name, w1.name) == ("x1", "w1")
    assert x1.grad == pytest.approx(-1.5) and w1.grad == pytest.approx(1.0)
    assert n.parents[1].name == "b" and n.parents[1].grad == pytest.approx(0.5)
    assert classic_neuron(backward=False).parents[0].grad is None
